//! A lock holder under faults on a 3-server ensemble: when its server is paused past
//! the session timeout, or its link is cut, the holder's `lost()` fires before any
//! other contender holds; a killed follower it is not on costs it nothing; an
//! injected expiry ends its holding and the next contender takes over.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{DEADLINE, connect, expire_session, proxy, serial};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use zk_core::Client;
use zk_recipes::locks::{InterProcessMutex, LockGuard};
use zk_testing::TestingCluster;

/// A started ensemble and the index of its leader and of one follower.
async fn ensemble() -> (TestingCluster, usize, usize) {
    let cluster = TestingCluster::start(3).await.expect("the ensemble starts");
    let leader = cluster
        .wait_for_leader(Duration::from_secs(60))
        .await
        .expect("the ensemble has a leader");
    let follower = (0..3).find(|&i| i != leader).expect("a follower");
    (cluster, leader, follower)
}

/// When the holder's guard reports the loss.
fn lost_at(guard: &Arc<LockGuard>) -> JoinHandle<Instant> {
    let guard = guard.clone();
    tokio::spawn(async move {
        guard.lost().await;
        Instant::now()
    })
}

/// A contender that waits for the lock; resolves to when it held it.
async fn waiting_contender(client: &Client, path: &str) -> JoinHandle<(Instant, LockGuard)> {
    let mutex = InterProcessMutex::new(client.clone(), path);
    let task = tokio::spawn(async move {
        let guard = mutex.acquire().await.expect("the contender acquires");
        (Instant::now(), guard)
    });
    // Wait until its node is in the queue behind the holder's.
    let probe = InterProcessMutex::new(client.clone(), path);
    let deadline = Instant::now() + DEADLINE;
    while probe.participant_nodes().await.unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the contender never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task
}

/// Checks that the holder gave up before the contender held.
async fn holder_gives_up_first(
    lost: JoinHandle<Instant>,
    contender: JoinHandle<(Instant, LockGuard)>,
    fault: &str,
) -> LockGuard {
    let lost = timeout(DEADLINE * 2, lost)
        .await
        .unwrap_or_else(|_| panic!("{fault}: the holder never learned it lost the lock"))
        .unwrap();
    let (held, guard) = timeout(DEADLINE * 2, contender)
        .await
        .unwrap_or_else(|_| panic!("{fault}: the contender never took over"))
        .unwrap();
    assert!(
        lost < held,
        "{fault}: the contender held {:?} before the holder gave up",
        lost - held
    );
    guard
}

#[tokio::test]
async fn a_holder_whose_server_is_paused_gives_up_before_anyone_else_holds() {
    let _serial = serial().await;
    let (mut cluster, leader, follower) = ensemble().await;
    let path = "/locks/paused";
    let holder = connect(&cluster.server_connect_string(follower).unwrap()).await;
    let other = connect(&cluster.server_connect_string(leader).unwrap()).await;
    let guard = Arc::new(
        InterProcessMutex::new(holder.clone(), path)
            .acquire()
            .await
            .unwrap(),
    );
    let contender = waiting_contender(&other, path).await;
    let lost = lost_at(&guard);
    // The laptop went to sleep: the holder's server stops answering, past the
    // session timeout, and the leader expires the session.
    cluster.pause(follower).unwrap();
    let next = holder_gives_up_first(lost, contender, "paused server").await;
    assert!(next.fencing_token() > guard.fencing_token());
    cluster.resume(follower).unwrap();
    next.release().await.unwrap();
}

#[tokio::test]
async fn a_holder_cut_off_gives_up_before_anyone_else_holds() {
    let _serial = serial().await;
    let (cluster, leader, follower) = ensemble().await;
    let path = "/locks/cut";
    let link = proxy(cluster.client_addr(follower).unwrap()).await;
    let holder = connect(&link.connect_string()).await;
    let other = connect(&cluster.server_connect_string(leader).unwrap()).await;
    let guard = Arc::new(
        InterProcessMutex::new(holder.clone(), path)
            .acquire()
            .await
            .unwrap(),
    );
    let contender = waiting_contender(&other, path).await;
    let lost = lost_at(&guard);
    link.cut().await;
    let next = holder_gives_up_first(lost, contender, "cut link").await;
    link.heal().await.unwrap();
    next.release().await.unwrap();
}

#[tokio::test]
async fn killing_a_follower_the_holder_is_not_on_loses_nothing() {
    let _serial = serial().await;
    let (mut cluster, leader, follower) = ensemble().await;
    let path = "/locks/killed-follower";
    let holder = connect(&cluster.server_connect_string(leader).unwrap()).await;
    let guard = InterProcessMutex::new(holder.clone(), path)
        .acquire()
        .await
        .unwrap();
    cluster.kill(follower).unwrap();
    // The quorum is still there: a write gated on the lock commits, and the guard
    // never reported a loss.
    guard
        .transaction()
        .create("/locks/killed-follower-gated", b"")
        .await
        .expect("a gated write with one follower down");
    assert!(
        guard.is_held(),
        "a killed follower cost the holder its lock"
    );
    guard.release().await.unwrap();
}

#[tokio::test]
async fn an_injected_expiry_ends_the_holding_and_the_next_contender_holds() {
    let _serial = serial().await;
    let (cluster, leader, follower) = ensemble().await;
    let path = "/locks/expired";
    let holder = connect(&cluster.server_connect_string(follower).unwrap()).await;
    let other = connect(&cluster.server_connect_string(leader).unwrap()).await;
    let guard = Arc::new(
        InterProcessMutex::new(holder.clone(), path)
            .acquire()
            .await
            .unwrap(),
    );
    let contender = waiting_contender(&other, path).await;
    let lost = lost_at(&guard);
    expire_session(&cluster.connect_string(), &holder).await;
    timeout(DEADLINE, lost)
        .await
        .expect("the holder learns of the expiry")
        .unwrap();
    let (_, next) = timeout(DEADLINE, contender)
        .await
        .expect("the next contender holds")
        .unwrap();
    assert!(!guard.is_held());
    next.release().await.unwrap();
}
