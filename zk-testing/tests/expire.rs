//! `expire_session` against a real server, for what needs no client: a session the
//! server does not know is refused, and a connect string without servers is invalid.
//! (That it expires a live session is tested with zk-core's client, in zk-core.)

use zk_testing::{Error, TestingServer, expire_session};

#[tokio::test]
async fn an_unknown_session_cannot_be_expired() {
    let server = TestingServer::start().await.expect("ZooKeeper starts");
    let err = expire_session(&server.connect_string(), 0x0bad_5e55_1011, &[7; 16])
        .await
        .expect_err("the server knows no such session");
    match err {
        Error::Io { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::NotFound),
        other => panic!("expected the refusal as NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connect_string_without_servers_is_invalid() {
    let err = expire_session("/chroot-only", 1, &[0; 16])
        .await
        .expect_err("no server to ask");
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
}
