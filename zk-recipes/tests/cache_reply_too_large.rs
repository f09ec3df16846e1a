//! A PathChildrenCache over a node whose children list is larger than the client's
//! frame limit (Curator's CURATOR-690): the failure comes back from `start()` when it
//! builds the cache, and a cache loading in the background retries with its backoff
//! instead of asking again and again. The server runs with zk-testing's 16 MB
//! `jute.maxbuffer`, so it sends the list that the client's 64 KB limit refuses.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use support::*;
use zk_core::{Client, ConnectionState, Error};
use zk_recipes::cache::{CacheError, PathChildrenCache, StartMode};

/// The client's frame limit in these tests.
const LIMIT: usize = 64 * 1024;

/// Packets the server has received from every client (`mntr`).
async fn packets_received(addr: SocketAddr) -> u64 {
    let mntr = zk_testing::four_letter_word(addr, "mntr").await.unwrap();
    mntr.lines()
        .find_map(|l| l.strip_prefix("zk_packets_received"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no zk_packets_received in mntr: {mntr}"))
}

#[tokio::test]
async fn a_children_list_over_the_frame_limit_fails_the_cache_start_and_is_not_hammered() {
    let server = own_server().await;
    let addr = server.addr();
    let writer = connect(&server.connect_string()).await;
    let parent = "/big";
    create(&writer, parent, b"").await;
    let created: Vec<_> = futures::stream::iter(0..5_000)
        .map(|i| {
            let path = format!("{parent}/{i:040}");
            let writer = &writer;
            async move { writer.create(&path, b"").await }
        })
        .buffer_unordered(500)
        .collect()
        .await;
    assert!(created.iter().all(Result::is_ok));
    writer.close().await;

    let client = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(CONNECTION_TIMEOUT)
        .max_frame_len(LIMIT)
        .build()
        .unwrap();
    client.block_until_connected(DEADLINE).await.unwrap();
    let mut states = client.connection_states();

    // Building before start() returns: start() reports the typed error, promptly.
    let cache = PathChildrenCache::builder(client.clone(), parent)
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let started = Instant::now();
    let err = cache.start().await.unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::ZooKeeper(Error::ReplyTooLarge { limit: LIMIT, .. })
        ),
        "got {err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "no retry loop");
    cache.close().await;

    // Loading in the background: the worker retries on its backoff schedule
    // (500 ms doubling), so a 3 s window sees a handful of attempts, not a stream.
    let background = PathChildrenCache::builder(client.clone(), parent).build();
    let before = packets_received(addr).await;
    background.start().await.unwrap();
    let window = tokio::time::timeout(Duration::from_secs(3), states.next()).await;
    assert!(
        window.is_err(),
        "no state change while the list fails: {window:?}"
    );
    let sent = packets_received(addr).await - before;
    eprintln!("packets received by the server in the 3 s window: {sent}");
    // At most 4 list attempts in 3 s, a few pings, and the two mntr connections.
    assert!(sent <= 12, "{sent} packets in 3 s");
    assert!(background.current_data().is_empty());
    assert!(background.is_running(), "the cache keeps trying");
    assert_eq!(client.state(), Some(ConnectionState::Connected));
    background.close().await;
    client.close().await;
}
