//! `close()`: the session ends on the server at once, operations fail with
//! `Error::Closed`, state streams end, and no task of the client keeps running
//! (background guaranteed deletes included).

mod framework_common;

use std::future::IntoFuture;
use std::time::Duration;

use framework_common::*;
use tokio::runtime::Handle;
use tokio::time::{Instant, sleep};
use zk_core::{ConnectionState::*, CreateMode, Error};
use zk_retry::RetryNTimes;
use zk_testing::Proxy;

/// The number of live tasks on this (current-thread) runtime.
fn alive() -> usize {
    Handle::current().metrics().num_alive_tasks()
}

/// Waits, up to `within`, until the runtime has at most `n` live tasks. There is no
/// event for a task's end, so this polls.
async fn tasks_settle_to(n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while alive() > n {
        assert!(
            Instant::now() < deadline,
            "{} tasks still alive after {within:?}, expected {n}",
            alive()
        );
        sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn close_ends_the_session_at_once_and_everything_of_the_client() {
    let server = server().await;
    let observer = framework_common::client(&server.connect_string()).await;
    let baseline = alive();
    // A long session: its ephemeral node could only vanish fast because of close().
    let client =
        connect(builder(&server.connect_string()).session_timeout(Duration::from_secs(30))).await;
    let clone = client.clone();
    let mut states = States::of(&client);
    let node = client
        .create(&unique("closing"), b"")
        .mode(CreateMode::Ephemeral)
        .await
        .unwrap();
    // A watch that the deletion of the ephemeral node does not fire.
    let kept = client.create(&unique("kept"), b"").await.unwrap();
    let (_, _, watch) = client.get_data(&kept).watched().await.unwrap();
    assert!(alive() > baseline);

    let started = Instant::now();
    client.close().await;
    wait_gone(&observer, &node, Duration::from_secs(2)).await;
    assert!(started.elapsed() < Duration::from_secs(2));

    assert!(
        states.ended_within(Duration::from_secs(1)).await,
        "state stream ends"
    );
    assert!(
        states.history().is_empty(),
        "close sends no state: {:?}",
        states.history()
    );
    assert!(clone.is_closed());
    for r in [
        clone.get_data("/").await.map(|_| ()),
        clone.create("/after-close", b"").await.map(|_| ()),
        client.exists("/").await.map(|_| ()),
        clone.delete("/x").guaranteed().await,
    ] {
        assert!(matches!(r, Err(Error::Closed)), "{r:?}");
    }
    let r = within(SOON, "watch", watch).await;
    assert!(matches!(r, Err(Error::Closed)), "{r:?}");
    let mut late = States::of(&clone);
    assert!(late.ended_within(Duration::from_millis(100)).await);
    tasks_settle_to(baseline, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn close_stops_a_guaranteed_delete_running_in_the_background() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let observer = framework_common::client(&server.connect_string()).await;
    let path = observer.create(&unique("kept"), b"").await.unwrap();
    let baseline = alive();
    let client = connect(
        builder(&proxy.connect_string())
            .connection_timeout(Duration::from_millis(200))
            .retry_policy(RetryNTimes::new(0, Duration::from_millis(10))),
    )
    .await;
    let mut states = States::of(&client);

    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    let before_delete = alive();
    client
        .delete(&path)
        .guaranteed()
        .await
        .expect_err("cut off: the caller gets the connection error");
    assert_eq!(
        alive(),
        before_delete + 1,
        "the guaranteed delete goes on in a background task"
    );

    client.close().await;
    // Listening again restores the proxy's own task as it was at the baseline; a
    // task of the client still trying would now get through.
    proxy.heal().await.expect("heal");
    tasks_settle_to(baseline, Duration::from_secs(5)).await;
    assert!(
        observer.exists(&path).await.unwrap().is_some(),
        "the stopped delete never ran"
    );
}

#[tokio::test]
async fn an_operation_waiting_for_a_connection_fails_with_closed_when_the_client_closes() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = framework_common::client(&proxy.connect_string()).await;
    let mut states = States::of(&client);

    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    let op = client.get_data("/").into_future();
    let close = async {
        tokio::task::yield_now().await;
        client.close().await;
    };
    let started = Instant::now();
    let (r, ()) = within(CONNECTION_TIMEOUT * 2, "op and close", async {
        tokio::join!(op, close)
    })
    .await;
    assert!(matches!(r, Err(Error::Closed)), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the waiting operation ended with the client, not at its connection timeout ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn dropping_the_last_clone_closes_the_session_and_stops_its_tasks() {
    let server = server().await;
    let observer = framework_common::client(&server.connect_string()).await;
    let baseline = alive();
    let client =
        connect(builder(&server.connect_string()).session_timeout(Duration::from_secs(30))).await;
    let clone = client.clone();
    let mut states = States::of(&client);
    let node = client
        .create(&unique("dropped"), b"")
        .mode(CreateMode::Ephemeral)
        .await
        .unwrap();

    drop(client);
    assert!(
        clone.exists(&node).await.unwrap().is_some(),
        "a remaining clone keeps the client alive"
    );
    drop(clone);
    wait_gone(&observer, &node, Duration::from_secs(2)).await;
    assert!(
        states.ended_within(Duration::from_secs(1)).await,
        "state stream ends"
    );
    tasks_settle_to(baseline, Duration::from_secs(5)).await;
}
