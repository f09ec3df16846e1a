//! An ensemble whose servers reach each other only through proxies, cut in two with
//! `TestingCluster::partition`: a leader cut from its followers stops leading and the other
//! two elect one of their own; a follower cut from the rest stops serving while the others
//! keep their leader; after `heal_partition` the cut-off server rejoins as a follower and the
//! ensemble has one leader. Elections run through the proxies, so they prove that the
//! election links work.

mod common;

use std::time::Duration;

use common::ensemble::{EVENTUALLY, applied_zxid, modes, wait_applied, wait_mode};
use common::session::RawSession;
use tokio::time::Instant;
use zk_testing::{Error, ServerConfig, ServerMode, TestingCluster};

/// `syncLimit * tickTime`: how long each side of a partition takes to notice it.
const SYNC_LIMIT: Duration = Duration::from_secs(1);
/// `initLimit * tickTime`: how long a new leader waits for followers before it gives up.
const INIT_LIMIT: Duration = Duration::from_secs(5);

/// A small tick and sync limit, so that a partition is noticed within about a second.
fn quick_config() -> ServerConfig {
    ServerConfig::builder()
        .tick_time(Duration::from_millis(100))
        .sync_limit(SYNC_LIMIT)
        .init_limit(INIT_LIMIT)
        .build()
        .expect("a valid configuration")
}

/// One test at a time: the timings mean little while another ensemble loads the machine.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

async fn partitionable_ensemble() -> (TestingCluster, usize) {
    let cluster = TestingCluster::start_partitionable(3, quick_config())
        .await
        .expect("ensemble starts");
    let leader = cluster.wait_for_leader(EVENTUALLY).await.expect("a leader");
    (cluster, leader)
}

fn others(leader: usize) -> (usize, usize) {
    ((leader + 1) % 3, (leader + 2) % 3)
}

/// The leader, once exactly one server leads and every server serves.
async fn single_leader_of_all_serving(cluster: &TestingCluster) -> usize {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let modes = modes(cluster).await;
        let leaders: Vec<usize> = (0..modes.len())
            .filter(|&i| modes[i] == Some(ServerMode::Leader))
            .collect();
        if leaders.len() == 1 && modes.iter().all(Option::is_some) {
            return leaders[0];
        }
        assert!(
            Instant::now() < deadline,
            "the ensemble never settled on one leader: {modes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_from_its_followers_steps_down_the_majority_elects_another_and_it_rejoins_as_follower()
 {
    let _serial = serial().await;
    let (mut cluster, old) = partitionable_ensemble().await;
    let (f1, f2) = others(old);

    // Each server lists its own real ports and, for each other server, the links to it.
    for from in 0..3 {
        let cfg = std::fs::read_to_string(cluster.dir(from).unwrap().join("zoo.cfg")).unwrap();
        for to in 0..3 {
            let (quorum, election) = if from == to {
                let other = (to + 1) % 3;
                (
                    cluster.quorum_link(other, to).unwrap().upstreams()[0].port(),
                    cluster.election_link(other, to).unwrap().upstreams()[0].port(),
                )
            } else {
                (
                    cluster.quorum_link(from, to).unwrap().addr().port(),
                    cluster.election_link(from, to).unwrap().addr().port(),
                )
            };
            let line = format!("server.{}=127.0.0.1:{quorum}:{election}\n", to + 1);
            assert!(cfg.contains(&line), "server {from} lacks {line:?}:\n{cfg}");
        }
    }

    let old_addr = cluster.client_addr(old).unwrap();
    let mut on_old = RawSession::connect(old_addr, 0)
        .await
        .expect("session on the leader");
    let before = on_old.create("/before", b"").await.expect("create");
    for i in [f1, f2] {
        wait_applied(cluster.client_addr(i).unwrap(), before).await;
    }

    cluster
        .partition(&[old], &[f1, f2])
        .await
        .expect("partition");
    let cut = Instant::now();
    // Nothing was closed: the old leader serves its client until it notices.
    assert!(
        on_old
            .exists("/before")
            .await
            .expect("read on the old leader")
    );

    let (_, stepped_down) = wait_mode(&cluster, old, "stopped leading", |m| {
        m != Some(ServerMode::Leader)
    })
    .await;
    let (new, elected) = wait_new_leader(&cluster, [f1, f2]).await;
    println!(
        "old leader stopped leading after {:?}; server {new} led after {:?}",
        stepped_down - cut,
        elected - cut
    );
    assert!(
        stepped_down - cut >= SYNC_LIMIT / 2,
        "the old leader learns of the partition only through its sync limit"
    );
    assert!(
        elected - cut < SYNC_LIMIT + INIT_LIMIT,
        "the majority elected at once, without a leader waiting out its init limit for a \
         follower that was sent away"
    );
    assert_eq!(
        cluster.mode(old).await.unwrap(),
        None,
        "alone, the old leader serves nothing: no vote of its reached the others"
    );
    assert!(
        on_old.exists("/before").await.is_err(),
        "the old leader closed its client connections when it stepped down"
    );
    let other = if new == f1 { f2 } else { f1 };
    assert_eq!(
        cluster.mode(other).await.unwrap(),
        Some(ServerMode::Follower)
    );
    let mut on_new = RawSession::connect(cluster.client_addr(new).unwrap(), 0)
        .await
        .expect("session on the new leader");
    let during = on_new
        .create("/during", b"")
        .await
        .expect("the majority writes");
    assert!(
        applied_zxid(cluster.client_addr(other).unwrap())
            .await
            .is_some()
    );

    cluster.heal_partition().await.expect("heal");
    let healed = Instant::now();
    let mode = cluster
        .wait_serving(old, EVENTUALLY)
        .await
        .expect("the old leader rejoins");
    println!(
        "the old leader served again {:?} after the heal",
        healed.elapsed()
    );
    assert_eq!(mode, ServerMode::Follower);
    wait_applied(old_addr, during).await;
    assert_eq!(single_leader_of_all_serving(&cluster).await, new);
}

/// Waits until one of `candidates` leads; returns it and when that was seen.
async fn wait_new_leader(cluster: &TestingCluster, candidates: [usize; 2]) -> (usize, Instant) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        for i in candidates {
            if cluster.mode(i).await.unwrap() == Some(ServerMode::Leader) {
                return (i, Instant::now());
            }
        }
        assert!(
            Instant::now() < deadline,
            "neither {candidates:?} became leader"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_cut_from_the_others_stops_serving_while_they_keep_their_leader_until_healed() {
    let _serial = serial().await;
    let (mut cluster, leader) = partitionable_ensemble().await;
    let (cut_off, other) = others(leader);

    // Refused partitions change nothing.
    assert!(matches!(
        cluster.partition(&[cut_off, other], &[leader, other]).await,
        Err(Error::ServerOnBothSides { index }) if index == other
    ));
    assert!(matches!(
        cluster.partition(&[cut_off], &[3]).await,
        Err(Error::NoSuchServer { index: 3, len: 3 })
    ));
    assert!(matches!(
        cluster.election_link(1, 1),
        Err(Error::NoElectionLink { from: 1, to: 1, .. })
    ));
    assert!(matches!(
        cluster.election_link(0, 3),
        Err(Error::NoSuchServer { index: 3, len: 3 })
    ));

    cluster
        .partition(&[cut_off], &[leader, other])
        .await
        .expect("partition");
    let cut = Instant::now();
    let (_, stopped) = wait_mode(&cluster, cut_off, "stopped serving", |m| m.is_none()).await;
    println!(
        "the cut-off follower stopped serving after {:?}",
        stopped - cut
    );
    assert!(stopped - cut >= SYNC_LIMIT / 2);
    assert_eq!(
        cluster.mode(leader).await.unwrap(),
        Some(ServerMode::Leader),
        "the leader keeps its quorum with the other follower"
    );
    let mut on_leader = RawSession::connect(cluster.client_addr(leader).unwrap(), 0)
        .await
        .expect("session on the leader");
    let zxid = on_leader.create("/without-f", b"").await.expect("create");
    wait_applied(cluster.client_addr(other).unwrap(), zxid).await;
    assert_eq!(cluster.mode(cut_off).await.unwrap(), None);

    cluster.heal_partition().await.expect("heal");
    let mode = cluster
        .wait_serving(cut_off, EVENTUALLY)
        .await
        .expect("the follower rejoins");
    assert_eq!(mode, ServerMode::Follower);
    wait_applied(cluster.client_addr(cut_off).unwrap(), zxid).await;
    assert_eq!(single_leader_of_all_serving(&cluster).await, leader);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_election_proxies_refuses_to_be_partitioned() {
    let _serial = serial().await;
    let direct = TestingCluster::start(1).await.expect("ensemble starts");
    assert!(matches!(
        direct.partition(&[0], &[]).await,
        Err(Error::NotPartitionable)
    ));
    assert!(matches!(
        direct.heal_partition().await,
        Err(Error::NotPartitionable)
    ));
    assert!(matches!(
        direct.election_link(0, 0),
        Err(Error::NoElectionLink { from: 0, to: 0, .. })
    ));
    drop(direct);

    let quorum_only = TestingCluster::start_with_quorum_proxies(1, quick_config())
        .await
        .expect("ensemble starts");
    assert!(matches!(
        quorum_only.partition(&[0], &[]).await,
        Err(Error::NotPartitionable)
    ));
    match quorum_only.election_link(0, 0) {
        Err(err @ Error::NoElectionLink { .. }) => {
            assert!(err.to_string().contains("quorum links only"), "{err}");
        }
        other => panic!("expected NoElectionLink, got {other:?}"),
    }
}
