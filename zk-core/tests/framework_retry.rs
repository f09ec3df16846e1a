//! The retry wrapper around every operation: only ConnectionLoss-like errors are
//! retried, as often as the policy allows; an operation issued while disconnected
//! waits up to the connection timeout for a connection.

mod framework_common;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use framework_common::*;
use tokio::time::Instant;
use zk_core::{Client, Code, Error};
use zk_retry::RetryNTimes;
use zk_testing::Proxy;

const RETRIES: u32 = 3;

/// A client for `connect` whose retries are counted.
async fn counted(connect_string: &str, connection_timeout: Duration) -> (Client, Arc<Counts>) {
    let (policy, counts) =
        CountingPolicy::new(RetryNTimes::new(RETRIES, Duration::from_millis(20)));
    let client = connect(
        builder(connect_string)
            .connection_timeout(connection_timeout)
            .retry_policy(policy),
    )
    .await;
    (client, counts)
}

fn assert_code(r: Result<impl std::fmt::Debug, Error>, code: Code) {
    match r {
        Err(e) => assert_eq!(e.code(), Some(code), "{e:?}"),
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
    }
}

#[tokio::test]
async fn non_retryable_errors_return_at_once_without_a_retry() {
    let server = server().await;
    let (client, counts) = counted(&server.connect_string(), CONNECTION_TIMEOUT).await;
    let path = client.create(&unique("retry"), b"").await.unwrap();

    let started = Instant::now();
    assert_code(client.get_data(&unique("missing")).await, Code::NoNode);
    assert_code(client.create(&path, b"").await, Code::NodeExists);
    assert_code(
        client.set_data(&path, b"x").version(7).await,
        Code::BadVersion,
    );
    assert_code(client.delete(&path).version(7).await, Code::BadVersion);
    let tx = client
        .transaction()
        .check(&path, 9)
        .create(format!("{path}/c"), b"")
        .await;
    assert_code(tx, Code::BadVersion);

    assert_eq!(
        counts.failures(),
        5,
        "each failure was shown to the policy once"
    );
    assert_eq!(counts.retries(), 0, "and none was retried");
    assert_eq!(
        counts.stops(),
        0,
        "the policy was not even asked for a delay"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_loss_is_retried_max_retries_times() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let connection_timeout = Duration::from_millis(300);
    let (client, counts) = counted(&proxy.connect_string(), connection_timeout).await;
    let mut states = States::of(&client);

    proxy.cut().await;
    states
        .expect(zk_core::ConnectionState::Suspended, SOON)
        .await;
    let started = Instant::now();
    let err = client.get_data("/").await.expect_err("no connection");
    let took = started.elapsed();

    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.code(), Some(Code::ConnectionLoss), "{err:?}");
    assert_eq!(counts.retries(), RETRIES);
    assert_eq!(counts.failures(), RETRIES + 1, "one failed attempt per try");
    assert_eq!(counts.stops(), 1);
    // Each attempt waited the connection timeout for a connection.
    assert!(
        took >= connection_timeout * (RETRIES + 1),
        "{took:?} for {} attempts of {connection_timeout:?}",
        RETRIES + 1
    );
    assert!(took < connection_timeout * (RETRIES + 1) + Duration::from_secs(3));
}

#[tokio::test]
async fn an_operation_issued_while_disconnected_waits_and_succeeds_after_reconnect() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let (client, counts) = counted(&proxy.connect_string(), CONNECTION_TIMEOUT).await;
    let mut states = States::of(&client);
    let path = unique("waits");

    proxy.cut().await;
    states
        .expect(zk_core::ConnectionState::Suspended, SOON)
        .await;
    let create = client.create(&path, b"late").into_future();
    let heal = async {
        // Let the operation start waiting first.
        tokio::task::yield_now().await;
        proxy.heal().await.expect("heal");
    };
    let (created, ()) = tokio::join!(create, heal);
    assert_eq!(created.expect("created once connected"), path);
    assert_eq!(
        counts.failures(),
        0,
        "the operation waited; it did not fail and retry"
    );
    states
        .expect(zk_core::ConnectionState::Reconnected, SOON)
        .await;
    assert_eq!(client.get_data(&path).await.unwrap().0.as_ref(), b"late");
}
