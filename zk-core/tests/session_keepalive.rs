//! An idle session stays up on a real server: the session task pings well within
//! its read timeout and the server's session timeout, so nothing drops while no
//! request is sent for several session timeouts.

use std::time::Duration;

use futures::StreamExt;
use zk_core::{Acl, CreateMode, Session};
use zk_testing::TestingServer;

/// The session timeout asked for: short, so the idle wait is a few seconds.
const SESSION_TIMEOUT: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn an_idle_session_is_kept_alive_by_pings_for_several_session_timeouts() {
    let server = TestingServer::start().await.expect("server starts");
    let session =
        Session::connect(&server.connect_string(), SESSION_TIMEOUT).expect("connect string");
    session
        .wait_connected(Duration::from_secs(15))
        .await
        .expect("connected");
    let id = session.session_id();
    let granted = session.negotiated_timeout();
    assert!(granted <= Duration::from_secs(2), "granted {granted:?}");
    let mut events = session.events();

    // Idle for three session timeouts: without pings the client's read timeout
    // (2/3 of it) would drop the connection and the server would expire the session.
    let idle = granted * 3;
    let seen = tokio::time::timeout(idle, events.next()).await;
    assert!(
        seen.is_err(),
        "an event arrived while idle: {seen:?} (expected none)"
    );

    assert!(session.state().is_connected());
    assert_eq!(session.session_id(), id);
    let (path, _) = session
        .create(
            "/kept-alive",
            b"",
            &[Acl::open_unsafe()],
            CreateMode::Ephemeral,
        )
        .await
        .expect("the session still works after idling");
    assert_eq!(path, "/kept-alive");
    session.close().await;
}
