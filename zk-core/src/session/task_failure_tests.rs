//! A session task that dies without ending its session (a panic, as a bug would
//! cause) must not strand anyone: pending and later requests fail with a typed
//! error, `close()` returns, and the framework client builds a new session.

use std::time::Duration;

use futures::StreamExt;
use zk_testing::{Proxy, TestingServer};

use crate::{Client, ConnectionState, Error, Session, SessionEvent, SessionState};

const PROMPTLY: Duration = Duration::from_secs(5);

async fn within<T>(what: &str, fut: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(PROMPTLY, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PROMPTLY:?}"))
}

#[tokio::test]
async fn a_dead_task_fails_pending_and_later_requests_and_close_returns() {
    let server = TestingServer::start().await.unwrap();
    let proxy = Proxy::start(server.addr()).await.unwrap();
    let session = Session::connect(&proxy.connect_string(), Duration::from_secs(10)).unwrap();
    session.wait_connected(PROMPTLY).await.unwrap();
    let mut events = session.events();

    // A request the server will never answer, so it is still pending when the task dies.
    proxy.blackhole().await.unwrap();
    let pending = tokio::spawn({
        let session = session.clone();
        async move { session.get_data("/").await }
    });
    session.crash_task();

    let pending = within("the pending request", pending).await.unwrap();
    assert!(matches!(pending, Err(Error::SessionFailed)), "{pending:?}");
    let later = within("a later request", session.exists("/")).await;
    assert!(matches!(later, Err(Error::SessionFailed)), "{later:?}");
    within("close()", session.close()).await;
    assert_eq!(session.state(), SessionState::Failed);
    let event = within("the terminal event", events.next()).await;
    assert!(matches!(event, Some(SessionEvent::Failed)), "{event:?}");
    assert!(
        within("the end of the events", events.next())
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_client_replaces_a_session_whose_task_died() {
    let server = TestingServer::start().await.unwrap();
    let client = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(Duration::from_secs(10))
        .connection_timeout(PROMPTLY)
        .build()
        .unwrap();
    client.block_until_connected(PROMPTLY).await.unwrap();
    let mut states = client.connection_states();
    let first = client.session_id();

    client.session().crash_task();

    assert_eq!(
        within("LOST", states.next()).await,
        Some(ConnectionState::Lost)
    );
    assert_eq!(
        within("RECONNECTED", states.next()).await,
        Some(ConnectionState::Reconnected)
    );
    assert_ne!(client.session_id(), first);
    within(
        "an operation on the new session",
        client.create("/after-crash", b"x"),
    )
    .await
    .unwrap();
    within("close()", client.close()).await;
}
