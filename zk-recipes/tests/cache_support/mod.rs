//! What the cache tests share: a real server, clients with short timeouts, waiting
//! for events with generous deadlines, and breaking a session on purpose.

#![allow(dead_code)] // each test file uses part of this module

use std::fmt::Debug;
use std::time::Duration;

use futures::{Stream, StreamExt};
use zk_core::{Client, ConnectionState, CreateMode, Session, SessionConfig};
use zk_retry::ExponentialBackoffRetry;
use zk_testing::TestingServer;

/// How long any single expected event may take: generous, as the machine is shared.
pub const EVENT_DEADLINE: Duration = Duration::from_secs(20);

/// A standalone server with the kit's defaults (100 ms tick, sessions from 200 ms).
pub async fn server() -> TestingServer {
    TestingServer::start()
        .await
        .expect("a ZooKeeper server starts")
}

/// A connected client with a `session` timeout and quick retries.
pub async fn client_with(connect: &str, session: Duration) -> Client {
    let client = Client::builder()
        .connect_string(connect)
        .session_timeout(session)
        .connection_timeout(Duration::from_secs(5))
        .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(50), 5))
        .build()
        .expect("a valid client configuration");
    client
        .block_until_connected(EVENT_DEADLINE)
        .await
        .expect("the client connects");
    client
}

/// A connected client with a 4 s session.
pub async fn client(connect: &str) -> Client {
    client_with(connect, Duration::from_secs(4)).await
}

/// The next item of `stream`, failing the test if none comes within the deadline.
pub async fn next<S>(stream: &mut S) -> S::Item
where
    S: Stream + Unpin,
    S::Item: Debug,
{
    match tokio::time::timeout(EVENT_DEADLINE, stream.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("the stream ended while an item was expected"),
        Err(_) => panic!("no item within {EVENT_DEADLINE:?}"),
    }
}

/// The next `n` items of `stream`.
pub async fn take<S>(stream: &mut S, n: usize) -> Vec<S::Item>
where
    S: Stream + Unpin,
    S::Item: Debug,
{
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(next(stream).await);
    }
    items
}

/// Waits until `client` reports `state`.
pub async fn wait_for_state(
    states: &mut (impl Stream<Item = ConnectionState> + Unpin),
    state: ConnectionState,
) {
    tokio::time::timeout(EVENT_DEADLINE, async {
        while let Some(s) = states.next().await {
            if s == state {
                return;
            }
        }
        panic!("the client closed before reaching {state:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {state:?} within {EVENT_DEADLINE:?}"));
}

/// Creates `path` (and its parents) as a persistent node holding `data`.
pub async fn create(client: &Client, path: &str, data: &[u8]) {
    client
        .create(path, data)
        .create_parents()
        .await
        .unwrap_or_else(|e| panic!("create {path}: {e}"));
}

/// Creates `path` as an ephemeral node of `client`'s session.
pub async fn create_ephemeral(client: &Client, path: &str, data: &[u8]) {
    client
        .create(path, data)
        .mode(CreateMode::Ephemeral)
        .await
        .unwrap_or_else(|e| panic!("create ephemeral {path}: {e}"));
}

/// A base path no other test uses.
pub fn base(name: &str) -> String {
    format!("/cache-tests/{name}-{}", uuid::Uuid::new_v4().simple())
}

/// Expires `client`'s current session the way Curator's tests do: another connection
/// takes the session over with its id and password and closes it. The server then
/// ends the session (its ephemeral nodes go), and the client learns of it at its
/// next contact with the server.
pub async fn expire_session(connect: &str, client: &Client) {
    let session = client.session();
    let mut config = SessionConfig::new(
        connect.parse().expect("a valid connect string"),
        Duration::from_secs(4),
    );
    config.resume = Some((session.session_id(), session.session_password()));
    let killer = Session::start(config);
    killer
        .wait_connected(EVENT_DEADLINE)
        .await
        .expect("the session can be taken over");
    assert_eq!(killer.session_id(), session.session_id());
    killer.close().await;
}
