//! Issue 9, finding 1, on a real 3-server ensemble: one `.protected()` create must
//! leave one node even when its retry lands on a follower that has not yet applied
//! the first attempt.
//!
//! The lag is made, not hoped for: the follower's link to the leader goes through a
//! proxy that delays every byte by `LINK_DELAY` each way, and the other follower is
//! paused, so the leader needs this follower's acknowledgement to commit. The
//! client's create reaches the leader; its connection is cut while the leader waits
//! for that acknowledgement; the client reconnects to the slow follower, whose
//! revalidation of the session comes back (one delayed round trip) before the
//! commit does (the proposal's round trip, then the commit's way back). Listing the
//! parent there, without a `sync`, shows no node, and the retry makes a second one.

mod framework_common;

use std::time::Duration;

use framework_common::*;
use zk_core::framework::protection_prefix_of;
use zk_core::path;
use zk_core::{Client, CreateMode};
use zk_retry::RetryNTimes;
use zk_testing::{Proxy, ServerConfig, TestingCluster, four_letter_word};

/// How long the slow follower's link to the leader holds each byte, each way.
const LINK_DELAY: Duration = Duration::from_secs(4);
const DEADLINE: Duration = Duration::from_secs(60);

/// Whether `cons` on a server shows the session with a request in progress.
fn has_request_in_progress(cons: &str, session_id: i64) -> bool {
    let sid = format!("sid=0x{session_id:x},");
    cons.lines()
        .filter(|l| l.contains(&sid))
        .any(|l| !l.contains("queued=0,"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_create_retried_on_a_lagging_follower_leaves_one_node() {
    init_tracing();
    // The delayed link must not cost the follower its place in the quorum.
    let config = ServerConfig::builder()
        .sync_limit(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut cluster = TestingCluster::start_with_quorum_proxies(3, config)
        .await
        .expect("ensemble starts");
    let leader = cluster.wait_for_leader(DEADLINE).await.unwrap();
    let followers: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let (slow, paused) = (followers[0], followers[1]);

    // The client reaches the leader and the slow follower through proxies of its own;
    // the follower's is shut until the client is on the leader.
    let to_leader = Proxy::start(cluster.client_addr(leader).unwrap())
        .await
        .unwrap();
    let to_slow = Proxy::start(cluster.client_addr(slow).unwrap())
        .await
        .unwrap();
    to_slow.cut().await;
    let client = Client::builder()
        .connect_string(format!(
            "{},{}",
            to_leader.connect_string(),
            to_slow.connect_string()
        ))
        .session_timeout(Duration::from_secs(40))
        .connection_timeout(Duration::from_secs(30))
        .retry_policy(RetryNTimes::new(5, Duration::from_millis(100)))
        .build()
        .unwrap();
    client.block_until_connected(DEADLINE).await.unwrap();
    let parent = unique("lagging");
    client.create(&parent, b"").await.unwrap();
    to_slow.heal().await.unwrap();

    cluster.pause(paused).unwrap();
    cluster
        .quorum_link(slow, leader)
        .unwrap()
        .delay(LINK_DELAY)
        .await
        .unwrap();

    let create = tokio::spawn({
        let client = client.clone();
        let prefix = path::join(&parent, "w-");
        async move {
            client
                .create(&prefix, b"once")
                .mode(CreateMode::PersistentSequential)
                .protected()
                .await
        }
    });
    // Cut the client off once the leader holds its create, uncommitted.
    let leader_addr = cluster.client_addr(leader).unwrap();
    let session_id = client.session_id();
    within(DEADLINE, "the leader holding the create", async {
        loop {
            if let Ok(cons) = four_letter_word(leader_addr, "cons").await
                && has_request_in_progress(&cons, session_id)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    to_leader.cut().await;

    let created = within(DEADLINE, "the protected create", create)
        .await
        .unwrap()
        .expect("the create succeeds after its retry");
    assert_eq!(client.session_id(), session_id, "one session throughout");

    // Count, on the leader, the nodes this one create left.
    cluster
        .quorum_link(slow, leader)
        .unwrap()
        .heal()
        .await
        .unwrap();
    cluster.resume(paused).unwrap();
    let observer = framework_common::client(&cluster.server_connect_string(leader).unwrap()).await;
    observer.sync(&parent).await.unwrap();
    let prefix = protection_prefix_of(path::node_name(&created))
        .unwrap()
        .to_string();
    let twins: Vec<String> = observer
        .get_children(&parent)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.starts_with(&prefix))
        .collect();
    assert_eq!(twins.len(), 1, "one create, nodes {twins:?}");
    assert_eq!(path::join(&parent, &twins[0]), created);
    client.close().await;
    observer.close().await;
}
