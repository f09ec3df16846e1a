//! A server started with `ServerSasl` runs DIGEST-MD5 as ZooKeeper's Java client expects it:
//! an empty first token is answered with a challenge for the realm `zk-sasl-md5`, a response
//! that does not prove the password is refused with `AUTHFAILED` and the connection closed,
//! and with `required(true)` a session that never logs in is closed at its first request.
//!
//! The client side is the kit's raw session: no SASL mechanism is computed here (a wrong
//! response needs none); zk-core's tests log in for real.

mod common;

use std::time::Duration;

use common::session::RawSession;
use zk_testing::{ServerConfig, ServerSasl, TestingServer};

/// ZooKeeper's result codes.
const AUTH_FAILED: i32 = -115;
const SESSION_CLOSED_REQUIRE_SASL_AUTH: i32 = -124;

const DEADLINE: Duration = Duration::from_secs(20);

async fn sasl_server(required: bool) -> TestingServer {
    let config = ServerConfig::builder()
        .sasl(
            ServerSasl::digest_md5()
                .user("alice", "alice-secret")
                .required(required),
        )
        .build()
        .expect("a valid config");
    TestingServer::start_with(config)
        .await
        .expect("a SASL server starts")
}

/// A DIGEST-MD5 response for `alice` whose digest proves nothing.
fn wrong_response(challenge: &str) -> String {
    let nonce = challenge
        .split(',')
        .find_map(|part| part.trim().strip_prefix("nonce="))
        .expect("the challenge has a nonce")
        .trim_matches('"');
    format!(
        "charset=utf-8,username=\"alice\",realm=\"zk-sasl-md5\",nonce=\"{nonce}\",nc=00000001,\
         cnonce=\"c0ffee00c0ffee00\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,\
         response=00000000000000000000000000000000,qop=auth"
    )
}

#[tokio::test]
async fn a_sasl_server_challenges_for_its_realm_and_refuses_a_wrong_response() {
    let server = sasl_server(false).await;
    assert!(
        std::fs::read_to_string(server.dir().join("jaas.conf"))
            .expect("the JAAS file")
            .contains("user_alice=")
    );
    let mut session = RawSession::connect(server.addr(), 0)
        .await
        .expect("a session");
    let (err, challenge) = tokio::time::timeout(DEADLINE, session.sasl(&[]))
        .await
        .expect("an answer in time")
        .expect("the first step");
    assert_eq!(err, 0);
    let challenge = String::from_utf8(challenge).expect("a text challenge");
    // No qop directive: RFC 2831's default, "auth".
    for expected in [
        "realm=\"zk-sasl-md5\"",
        "nonce=\"",
        "charset=utf-8",
        "algorithm=md5-sess",
    ] {
        assert!(challenge.contains(expected), "{expected} in {challenge}");
    }

    let (err, _) = tokio::time::timeout(
        DEADLINE,
        session.sasl(wrong_response(&challenge).as_bytes()),
    )
    .await
    .expect("an answer in time")
    .expect("the second step");
    assert_eq!(err, AUTH_FAILED, "a wrong digest is refused");
    // Then the server closes the connection.
    let after = tokio::time::timeout(DEADLINE, session.exists("/")).await;
    assert!(
        matches!(after, Ok(Err(_))),
        "the connection is closed: {after:?}"
    );
}

#[tokio::test]
async fn a_server_that_requires_sasl_closes_a_session_that_never_logs_in() {
    let server = sasl_server(true).await;
    let mut session = RawSession::connect(server.addr(), 0)
        .await
        .expect("a session");
    let refused = tokio::time::timeout(DEADLINE, session.exists("/"))
        .await
        .expect("an answer in time");
    match refused {
        Err(e) => assert!(
            e.to_string()
                .contains(&SESSION_CLOSED_REQUIRE_SASL_AUTH.to_string()),
            "{e}"
        ),
        Ok(found) => panic!("a session without SASL was served (exists: {found})"),
    }
}
