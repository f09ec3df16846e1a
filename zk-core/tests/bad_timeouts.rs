//! Timeouts at the edge of what a `Duration` holds: refused at `build()` when the
//! protocol cannot carry them, and never a panic or a hang when it can.

mod framework_common;

use std::time::Duration;

use framework_common::*;
use zk_core::session::config::MAX_SESSION_TIMEOUT;
use zk_core::{Client, ConnectString, Error, Session, SessionConfig, SessionState};

const PROMPTLY: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_session_timeout_the_protocol_cannot_carry_is_refused_at_build() {
    for bad in [
        Duration::from_secs(u64::MAX),
        Duration::MAX,
        MAX_SESSION_TIMEOUT + Duration::from_millis(1),
        Duration::ZERO,
    ] {
        let built = Client::builder()
            .connect_string("127.0.0.1:2181")
            .session_timeout(bad)
            .build();
        assert!(
            matches!(built, Err(Error::InvalidArgument(_))),
            "{bad:?}: {built:?}"
        );
        let connected = Session::connect("127.0.0.1:2181", bad);
        assert!(
            matches!(connected, Err(Error::InvalidArgument(_))),
            "{bad:?}: {connected:?}"
        );
    }
    assert!(matches!(
        Client::builder()
            .connect_string("127.0.0.1:2181")
            .connection_timeout(Duration::ZERO)
            .build(),
        Err(Error::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn the_longest_timeouts_work_and_close_returns() {
    let server = server().await;
    // The protocol's maximum session timeout (the server negotiates it down) and a
    // connection timeout of "forever".
    let client = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(MAX_SESSION_TIMEOUT)
        .connection_timeout(Duration::MAX)
        .build()
        .unwrap();
    within(
        PROMPTLY,
        "connecting",
        client.block_until_connected(Duration::MAX),
    )
    .await
    .unwrap();
    assert!(client.session().negotiated_timeout() < MAX_SESSION_TIMEOUT);
    let path = unique("long-timeouts");
    within(PROMPTLY, "a create", client.create(&path, b"x"))
        .await
        .unwrap();
    let (data, _) = within(PROMPTLY, "a read", client.get_data(&path))
        .await
        .unwrap();
    assert_eq!(&data[..], b"x");
    within(PROMPTLY, "close()", client.close()).await;
}

#[tokio::test]
async fn a_session_config_beyond_the_protocol_is_sent_as_its_maximum() {
    let server = server().await;
    let cs: ConnectString = server.connect_string().parse().unwrap();
    let mut config = SessionConfig::new(cs, Duration::MAX);
    config = config.with_close_timeout(Duration::MAX);
    let session = Session::start(config);
    within(PROMPTLY, "connecting", session.wait_connected(PROMPTLY))
        .await
        .unwrap();
    assert!(session.exists("/").await.unwrap().is_some());
    within(PROMPTLY, "close()", session.close()).await;
    assert_eq!(session.state(), SessionState::Closed);
}
