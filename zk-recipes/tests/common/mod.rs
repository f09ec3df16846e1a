//! Helpers shared by the integration tests: a real server, clients with short
//! timeouts, session expiry on purpose, bounded waits, and a counter of node creations
//! seen by an independent observer.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use zk_core::framework::WatchStream;
use zk_core::{
    AddWatchMode, Client, ConnectionState, ConnectionStates, CreateMode, EventType, Session,
    SessionConfig, Stat,
};
use zk_retry::ExponentialBackoffRetry;
use zk_testing::TestingServer;

/// Session timeout of the clients under test: short, so expiry tests are quick.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// How long any awaited outcome may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A standalone server on loopback.
pub async fn start_server() -> TestingServer {
    TestingServer::start().await.expect("start ZooKeeper")
}

/// A connected client with short timeouts.
pub async fn connect(connect_string: &str) -> Client {
    let client = Client::builder()
        .connect_string(connect_string)
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(Duration::from_secs(5))
        .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(100), 3))
        .build()
        .expect("client config");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("client connects");
    client
}

/// Expires `client`'s current session the way Curator's test kit does: a second
/// connection attaches to the same session and closes it. Returns the expired id.
pub async fn expire_session(connect_string: &str, client: &Client) -> i64 {
    let victim = client.session();
    let id = victim.session_id();
    let mut config = SessionConfig::new(
        connect_string.parse().expect("connect string"),
        SESSION_TIMEOUT,
    );
    config.resume = Some((id, victim.session_password()));
    let thief = Session::start(config);
    thief
        .wait_connected(DEADLINE)
        .await
        .expect("attach to the session");
    thief.close().await;
    id
}

/// Polls `probe` until it returns `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for `want` on a connection state stream.
pub async fn wait_for_state(states: &mut ConnectionStates, want: ConnectionState) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(s) = states.next().await {
            if s == want {
                return;
            }
        }
        panic!("client closed before {want:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {want:?}"));
}

/// The stat of `path` as `client` sees it.
pub async fn stat_of(client: &Client, path: &str) -> Option<Stat> {
    client.exists(path).await.expect("exists")
}

/// Counts NodeCreated events below a path, as an independent observer sees them.
pub struct CreateCounter {
    client: Client,
    root: String,
    stream: WatchStream,
    marker_seq: u32,
}

impl CreateCounter {
    /// Starts observing everything below `root` (which need not exist yet).
    pub async fn start(client: &Client, root: &str) -> Self {
        let stream = client
            .watch(root, AddWatchMode::PersistentRecursive)
            .await
            .expect("add watch");
        CreateCounter {
            client: client.clone(),
            root: root.to_string(),
            stream,
            marker_seq: 0,
        }
    }

    /// Lets any duplicate create show up (a quiet window: a second create would follow
    /// the first within milliseconds), then writes a marker node and returns how many
    /// creates of `path` the observer saw before the marker.
    pub async fn creates_of(&mut self, path: &str, quiet: Duration) -> usize {
        tokio::time::sleep(quiet).await;
        self.marker_seq += 1;
        let marker = format!("{}/zz-marker-{}", self.root, self.marker_seq);
        self.client
            .create(&marker, b"")
            .mode(CreateMode::Ephemeral)
            .create_parents()
            .await
            .expect("create marker");
        let mut count = 0;
        tokio::time::timeout(DEADLINE, async {
            while let Some(ev) = self.stream.next().await {
                let ev = ev.expect("observer session stays alive");
                if ev.event_type == EventType::NodeCreated {
                    if ev.path == marker {
                        return;
                    }
                    if ev.path == path {
                        count += 1;
                    }
                }
            }
            panic!("observer watch ended");
        })
        .await
        .expect("marker seen");
        count
    }
}
