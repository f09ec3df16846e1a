//! LeaderLatch across a network partition of a real 3-server ensemble (issue 13): the
//! participant whose client is on the leader server holds the latch; the leader is cut from
//! both followers. The holder must give leadership up before anyone on the majority side
//! takes it (never two at once), someone on the majority side must lead, and after the heal
//! there is one leader and the old holder is back as a waiting participant.

mod support;

use std::time::Duration;

use futures::StreamExt;
use support::{DEADLINE, connect_with, until};
use tokio::time::{Instant, timeout};
use zk_recipes::leader::{LeaderLatch, LeadershipEvent};
use zk_testing::{ServerConfig, ServerMode, TestingCluster};

/// The participants' session timeout.
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// `syncLimit * tickTime`, well under the session timeout: the isolated leader closes its
/// clients' connections after about this long, before the majority can expire their sessions.
const SYNC_LIMIT: Duration = Duration::from_millis(1500);
/// How often the test looks at who holds the latch.
const SAMPLE: Duration = Duration::from_millis(2);
const LATCH_PATH: &str = "/partition/latch";

fn partition_config() -> ServerConfig {
    ServerConfig::builder()
        .tick_time(Duration::from_millis(100))
        .sync_limit(SYNC_LIMIT)
        .init_limit(Duration::from_secs(5))
        .build()
        .expect("a valid configuration")
}

/// Which participants hold the latch now, by index.
fn holders(latches: &[LeaderLatch; 3]) -> Vec<usize> {
    (0..3).filter(|&i| latches[i].has_leadership()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_leaders_latch_holder_gives_up_before_the_majority_takes_over() {
    let cluster = TestingCluster::start_partitionable(3, partition_config())
        .await
        .expect("ensemble starts");
    let leader = cluster.wait_for_leader(DEADLINE).await.expect("a leader");
    let (f1, f2) = ((leader + 1) % 3, (leader + 2) % 3);
    // Participant `i` is on server `i`'s client; the one on the leader server is `old`.
    let mut clients = Vec::new();
    for i in 0..3 {
        let pinned = cluster.server_connect_string(i).unwrap();
        clients.push(connect_with(&pinned, SESSION_TIMEOUT).await);
    }
    let latches: [LeaderLatch; 3] = std::array::from_fn(|i| {
        LeaderLatch::new(clients[i].clone(), LATCH_PATH, format!("on-server-{i}"))
    });
    let old = leader;
    latches[old].start().await.unwrap();
    assert!(
        latches[old]
            .await_leadership()
            .timeout(DEADLINE)
            .await
            .unwrap(),
        "the participant on the leader server leads first"
    );
    for i in [f1, f2] {
        latches[i].start().await.unwrap();
    }
    until("every participant has a node", || {
        latches.iter().all(|l| l.our_path().is_some())
    })
    .await;
    let participants = latches[old].get_participants().await.unwrap();
    assert_eq!(participants.len(), 3, "{participants:?}");
    assert!(participants[0].is_leader && participants[0].id == latches[old].id());
    let mut old_events = latches[old].events();

    cluster
        .partition(&[old], &[f1, f2])
        .await
        .expect("partition");
    let cut = Instant::now();

    // Sample who holds the latch until someone on the majority side does.
    let deadline = cut + DEADLINE;
    let mut gave_up = None;
    let mut samples = 0u64;
    let (new, took_over) = loop {
        let now = Instant::now();
        let holding = holders(&latches);
        samples += 1;
        assert!(
            holding.len() <= 1,
            "two participants lead at once after {:?}: {holding:?}",
            now - cut
        );
        if gave_up.is_none() && !holding.contains(&old) {
            gave_up = Some(now - cut);
        }
        if let Some(&new) = holding.iter().find(|&&i| i != old) {
            break (new, now - cut);
        }
        assert!(
            now < deadline && samples < 1_000_000,
            "no participant on the majority side led within {DEADLINE:?} ({samples} samples)"
        );
        tokio::time::sleep(SAMPLE).await;
    };
    let gave_up = gave_up.expect("the old holder gave up before anyone else led");
    println!(
        "old holder gave up after {gave_up:?}; participant {new} led after {took_over:?} \
         ({samples} samples)"
    );
    assert!(gave_up < took_over);
    assert!(
        gave_up >= SYNC_LIMIT / 2,
        "the old holder keeps its leadership until its server notices the partition"
    );
    assert!(
        took_over >= SESSION_TIMEOUT,
        "the majority hands the latch on only once the old holder's session has expired"
    );
    match timeout(DEADLINE, old_events.next()).await {
        Ok(Some(LeadershipEvent::NotLeader)) => {}
        other => panic!("expected NotLeader from the old holder, got {other:?}"),
    }
    assert_ne!(cluster.mode(old).await.unwrap(), Some(ServerMode::Leader));

    cluster.heal_partition().await.expect("heal");
    let mut cluster = cluster;
    let mode = cluster
        .wait_serving(old, DEADLINE)
        .await
        .expect("the old leader server rejoins");
    assert_eq!(mode, ServerMode::Follower);
    // The old holder's session expired on the majority: its client starts a new one, and the
    // latch queues a new node behind the others.
    let deadline = Instant::now() + DEADLINE;
    let participants = loop {
        if let Ok(participants) = latches[old].get_participants().await
            && participants.len() == 3
            && latches[old].our_path().is_some()
        {
            break participants;
        }
        assert!(Instant::now() < deadline, "the old holder never rejoined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(holders(&latches), [new], "one leader after the heal");
    assert_eq!(participants[0].id, latches[new].id());
    assert!(participants[0].is_leader);
    assert_eq!(
        participants[2].id,
        latches[old].id(),
        "the old holder queues last"
    );
    assert!(!participants[2].is_leader);

    for latch in &latches {
        latch.close().await.unwrap();
    }
    for client in clients {
        client.close().await;
    }
}
