//! An ensemble whose quorum links go through proxies: a delayed link makes one follower lag the
//! leader while it keeps serving clients, a blackholed one drops it out of the quorum until the
//! link heals, and the ensemble still elects, loses and takes back a leader.

mod common;

use std::time::Duration;

use common::ensemble::{EVENTUALLY, POLL, applied_zxid, wait_applied};
use common::session::RawSession;
use tokio::time::Instant;
use zk_testing::{Error, ServerConfig, ServerMode, TestingCluster};

const ELECTION_DEADLINE: Duration = Duration::from_secs(60);
/// The slow link: less than half the sync limit (5 s by default), so the leader keeps a
/// follower whose acks come back `2 * DELAY` after each proposal.
const DELAY: Duration = Duration::from_secs(2);

fn others(leader: usize) -> (usize, usize) {
    ((leader + 1) % 3, (leader + 2) % 3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_quorum_link_makes_one_follower_lag_while_it_serves_until_healed() {
    let cluster = TestingCluster::start_with_quorum_proxies(3, ServerConfig::default())
        .await
        .expect("ensemble starts");
    let leader = cluster
        .wait_for_leader(ELECTION_DEADLINE)
        .await
        .expect("a leader");
    let (lagging, prompt) = others(leader);
    let [l_addr, f_addr, g_addr] =
        [leader, lagging, prompt].map(|i| cluster.client_addr(i).unwrap());

    // Each server lists its own quorum port and, for each other server, the link to it.
    for from in 0..3 {
        let cfg = std::fs::read_to_string(cluster.dir(from).unwrap().join("zoo.cfg")).unwrap();
        for to in 0..3 {
            let port = if from == to {
                cluster.quorum_link((to + 1) % 3, to).unwrap().upstreams()[0].port()
            } else {
                cluster.quorum_link(from, to).unwrap().addr().port()
            };
            let line = format!("server.{}=127.0.0.1:{port}:", to + 1);
            assert!(cfg.contains(&line), "server {from} lacks {line:?}:\n{cfg}");
        }
    }
    assert!(matches!(
        cluster.quorum_link(1, 1),
        Err(Error::NoQuorumLink { from: 1, to: 1, .. })
    ));
    assert!(matches!(
        cluster.quorum_link(0, 3),
        Err(Error::NoSuchServer { index: 3, len: 3 })
    ));

    let mut on_leader = RawSession::connect(l_addr, 0).await.expect("session on L");
    let mut on_lagging = RawSession::connect(f_addr, 0).await.expect("session on F");
    let warm = on_leader.create("/warm", b"").await.expect("create");
    wait_applied(f_addr, warm).await;

    let link = cluster.quorum_link(lagging, leader).unwrap();
    link.delay(DELAY).await.expect("delay F's link to L");
    let written = Instant::now();
    let zxid = on_leader.create("/lagging", b"x").await.expect("create");
    let acked = written.elapsed();

    // The leader committed with the prompt follower; F has not heard yet, and still serves.
    assert!(
        !on_lagging.exists("/lagging").await.expect("read on F"),
        "F answers from its own, older state"
    );
    assert_eq!(
        cluster.mode(lagging).await.unwrap(),
        Some(ServerMode::Follower)
    );
    assert!(applied_zxid(f_addr).await.expect("F serves") < zxid);
    // A client that saw the write may not reconnect to F before F has applied it.
    assert!(
        RawSession::connect(f_addr, zxid).await.is_err(),
        "F refuses a client that has seen a newer zxid than its own"
    );
    let prompt_at = wait_applied(g_addr, zxid).await - written;
    let lagging_at = wait_applied(f_addr, zxid).await - written;
    println!(
        "create acked after {acked:?}; G applied it after {prompt_at:?}, F after {lagging_at:?}"
    );
    assert!(
        lagging_at >= DELAY,
        "the commit reached F through a {DELAY:?} delay, yet F applied it after {lagging_at:?}"
    );
    assert!(on_lagging.exists("/lagging").await.expect("read on F"));
    assert_eq!(
        cluster.mode(lagging).await.unwrap(),
        Some(ServerMode::Follower),
        "a delay of less than half the sync limit keeps F in the quorum"
    );

    link.heal().await.expect("heal");
    let written = Instant::now();
    let zxid = on_leader.create("/healed", b"").await.expect("create");
    let caught_up = wait_applied(f_addr, zxid).await - written;
    println!("after heal, F applied a write after {caught_up:?}");
    assert!(on_lagging.exists("/healed").await.expect("read on F"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_quorum_link_drops_the_follower_until_healed_and_leaders_come_and_go() {
    let mut cluster = TestingCluster::start_with_quorum_proxies(3, ServerConfig::default())
        .await
        .expect("ensemble starts");
    let leader = cluster
        .wait_for_leader(ELECTION_DEADLINE)
        .await
        .expect("a leader");
    let (cut_off, _) = others(leader);
    let link = cluster.quorum_link(cut_off, leader).unwrap();

    link.blackhole().await.expect("blackhole F's link to L");
    let stalled = Instant::now();
    let deadline = stalled + EVENTUALLY;
    while cluster.mode(cut_off).await.unwrap() == Some(ServerMode::Follower) {
        assert!(Instant::now() < deadline, "F never left the quorum");
        tokio::time::sleep(POLL).await;
    }
    println!(
        "F stopped serving {:?} after the blackhole",
        stalled.elapsed()
    );
    let mut on_leader = RawSession::connect(cluster.client_addr(leader).unwrap(), 0)
        .await
        .expect("L still serves with the other follower");
    let zxid = on_leader.create("/without-f", b"").await.expect("create");

    link.heal().await.expect("heal");
    let mode = cluster
        .wait_serving(cut_off, EVENTUALLY)
        .await
        .expect("F rejoins");
    assert_eq!(mode, ServerMode::Follower);
    wait_applied(cluster.client_addr(cut_off).unwrap(), zxid).await;

    // Leaders come and go through the proxies as they do directly.
    cluster.kill(leader).expect("kill the leader");
    let next = cluster
        .wait_for_leader(ELECTION_DEADLINE)
        .await
        .expect("the survivors elect a leader");
    assert_ne!(next, leader);
    let mut on_next = RawSession::connect(cluster.client_addr(next).unwrap(), 0)
        .await
        .expect("session on the new leader");
    let zxid = on_next.create("/next", b"").await.expect("create");
    cluster
        .restart(leader)
        .await
        .expect("the old leader returns");
    for i in 0..3 {
        wait_applied(cluster.client_addr(i).unwrap(), zxid).await;
    }
    let mut leaders = 0;
    for i in 0..3 {
        let mode = cluster.mode(i).await.unwrap();
        assert!(mode.is_some(), "server {i} serves");
        leaders += usize::from(mode == Some(ServerMode::Leader));
    }
    assert_eq!(leaders, 1);
}
