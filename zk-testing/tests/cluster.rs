//! A TestingCluster: it elects a leader, survives losing it, takes it back, and can be frozen.

mod common;

use std::time::Duration;

use common::process_exists;
use zk_testing::{Error, ServerMode, TestingCluster, four_letter_word, four_letter_word_within};

const ELECTION_DEADLINE: Duration = Duration::from_secs(60);

async fn modes(cluster: &TestingCluster) -> Vec<Option<ServerMode>> {
    let mut modes = Vec::new();
    for i in 0..cluster.len() {
        modes.push(cluster.mode(i).await.ok().flatten());
    }
    modes
}

#[tokio::test]
async fn ensemble_elects_a_leader_survives_its_death_and_takes_it_back() {
    let mut cluster = TestingCluster::start(3).await.expect("ensemble starts");
    println!(
        "3-server ensemble startup time: {:?}",
        cluster.startup_time()
    );
    assert_eq!(cluster.len(), 3);
    let ports: Vec<String> = (0..3)
        .map(|i| cluster.server_connect_string(i).unwrap())
        .collect();
    assert_eq!(cluster.connect_string(), ports.join(","));

    let old_leader = cluster
        .leader()
        .await
        .expect("a started ensemble has a leader");
    let before = modes(&cluster).await;
    assert_eq!(before[old_leader], Some(ServerMode::Leader));
    assert_eq!(
        before
            .iter()
            .filter(|m| **m == Some(ServerMode::Follower))
            .count(),
        2,
        "the other two follow: {before:?}"
    );

    let old_pid = cluster.pid(old_leader).unwrap().expect("running");
    cluster.kill(old_leader).expect("kill the leader");
    assert_eq!(cluster.pid(old_leader).unwrap(), None);
    assert!(!process_exists(old_pid), "kill reaps the leader's JVM");

    let new_leader = cluster
        .wait_for_leader(ELECTION_DEADLINE)
        .await
        .expect("the two survivors elect a new leader");
    assert_ne!(new_leader, old_leader);

    cluster
        .restart(old_leader)
        .await
        .expect("the old leader comes back");
    let back = cluster.mode(old_leader).await.expect("it answers srvr");
    assert!(
        matches!(back, Some(ServerMode::Follower | ServerMode::Leader)),
        "the restarted server serves again: {back:?}"
    );
    let after = modes(&cluster).await;
    assert_eq!(
        after
            .iter()
            .filter(|m| **m == Some(ServerMode::Leader))
            .count(),
        1,
        "exactly one leader after the restart: {after:?}"
    );
    assert!(
        after.iter().all(Option::is_some),
        "all three serve: {after:?}"
    );
}

#[tokio::test]
async fn paused_member_goes_silent_until_resumed() {
    let mut cluster = TestingCluster::start(3).await.expect("ensemble starts");
    let leader = cluster.leader().await.expect("a leader");
    let follower = (leader + 1) % 3;
    let addr = cluster.client_addr(follower).unwrap();

    cluster.pause(follower).expect("pause a follower");
    let silent = four_letter_word_within(addr, "ruok", Duration::from_secs(1)).await;
    assert!(
        matches!(silent, Err(Error::Timeout { .. })),
        "a paused server must not answer: {silent:?}"
    );
    assert_eq!(
        cluster.leader().await,
        Some(leader),
        "leader() skips the paused server and still finds the leader"
    );

    cluster.resume(follower).expect("resume");
    let mode = cluster
        .wait_serving(follower, ELECTION_DEADLINE)
        .await
        .expect("the follower serves again");
    assert!(matches!(mode, ServerMode::Follower | ServerMode::Leader));
    assert_eq!(four_letter_word(addr, "ruok").await.unwrap(), "imok");

    let pid = cluster.pid(follower).unwrap().expect("running");
    cluster.stop(follower).await.expect("stop");
    assert_eq!(cluster.pid(follower).unwrap(), None);
    assert!(!process_exists(pid), "stop reaps the JVM");
    assert!(
        four_letter_word_within(addr, "ruok", Duration::from_secs(2))
            .await
            .is_err()
    );
    cluster.restart(follower).await.expect("restart after stop");
    assert_eq!(cluster.client_addr(follower).unwrap(), addr, "same port");
    assert!(matches!(
        cluster.mode(follower).await.unwrap(),
        Some(ServerMode::Follower | ServerMode::Leader)
    ));

    assert!(matches!(
        cluster.kill(3),
        Err(Error::NoSuchServer { index: 3, len: 3 })
    ));
    assert!(matches!(
        cluster.client_port(7),
        Err(Error::NoSuchServer { index: 7, len: 3 })
    ));
    assert!(
        matches!(
            cluster.quorum_link(0, 1),
            Err(Error::NoQuorumLink { from: 0, to: 1, .. })
        ),
        "a cluster started without quorum proxies has no quorum links"
    );
}

#[tokio::test]
async fn an_empty_ensemble_is_refused() {
    assert!(matches!(
        TestingCluster::start(0).await,
        Err(Error::InvalidConfig(_))
    ));
}
