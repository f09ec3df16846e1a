//! NodeCache against a real ZooKeeper: exact event sequences for a node that is
//! changed, deleted, missing and created, across a reconnect, and after close.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use support::*;
use zk_recipes::cache::{CacheEvents, NodeCache, NodeCacheEvent};

/// The data an event carries (`None` for a deleted node).
async fn next_data(events: &mut CacheEvents<NodeCacheEvent>) -> Option<Bytes> {
    let NodeCacheEvent::Changed(now) = next(events).await else {
        panic!("a node cache only reports changes")
    };
    now.map(|d| d.data.expect("a node cache keeps data"))
}

fn bytes(b: &'static [u8]) -> Option<Bytes> {
    Some(Bytes::from_static(b))
}

#[tokio::test]
async fn every_change_of_the_node_is_reported_with_its_data() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let path = format!("{}/node", base("changes"));
    create(&client, &path, b"v0").await;
    let cache = NodeCache::new(client.clone(), path.as_str());
    let mut events = cache.events();
    cache.start(false).await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v0"), "found at start");

    client.set_data(&path, b"v1").await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v1"));
    client.delete(&path).await.unwrap();
    assert_eq!(next_data(&mut events).await, None);
    assert_eq!(cache.current_data(), None);
    client.create(&path, b"v2").await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v2"));
    let current = cache.current_data().unwrap();
    assert_eq!(
        (current.path.as_str(), current.stat.version),
        (path.as_str(), 0)
    );
    cache.close().await;
}

#[tokio::test]
async fn build_initial_reads_the_node_before_start_returns_without_an_event() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let path = format!("{}/node", base("initial"));
    create(&client, &path, b"v0").await;
    let cache = NodeCache::new(client.clone(), path.as_str());
    let mut events = cache.events();
    cache.start(true).await.unwrap();
    assert_eq!(cache.current_data().and_then(|d| d.data), bytes(b"v0"));
    // The first event is the change made after start: nothing was sent for the load.
    client.set_data(&path, b"v1").await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v1"));
    cache.close().await;
}

#[tokio::test]
async fn a_missing_node_is_reported_when_created() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let path = format!("{}/node", base("missing"));
    let cache = NodeCache::new(client.clone(), path.as_str());
    let mut events = cache.events();
    cache.start(true).await.unwrap();
    assert_eq!(cache.current_data(), None);
    create(&client, &path, b"born").await;
    assert_eq!(next_data(&mut events).await, bytes(b"born"));
    // A child changes the node's stat, not its data: no event. The next event is the
    // data change that follows.
    create(&client, &format!("{path}/child"), b"").await;
    client.set_data(&path, b"grown").await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"grown"));
    cache.close().await;
}

#[tokio::test]
async fn a_change_made_while_disconnected_is_reported_once_after_the_reconnect() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect_with(&proxy.connect_string(), Duration::from_secs(10)).await;
    let path = format!("{}/node", base("reconnect"));
    create(&writer, &path, b"v0").await;
    let cache = NodeCache::new(reader.clone(), path.as_str());
    let mut events = cache.events();
    cache.start(true).await.unwrap();
    let mut states = reader.connection_states();

    proxy.cut().await;
    wait_for_state(&mut states, zk_core::ConnectionState::Suspended).await;
    writer.set_data(&path, b"v1").await.unwrap();
    proxy.heal().await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v1"));
    // The watch is still set, and the reconnect sent nothing more.
    writer.set_data(&path, b"v2").await.unwrap();
    assert_eq!(next_data(&mut events).await, bytes(b"v2"));

    // A reconnect with no change in between sends nothing at all.
    proxy.cut().await;
    wait_for_state(&mut states, zk_core::ConnectionState::Suspended).await;
    proxy.heal().await.unwrap();
    wait_for_state(&mut states, zk_core::ConnectionState::Reconnected).await;
    writer.delete(&path).await.unwrap();
    assert_eq!(next_data(&mut events).await, None);
    cache.close().await;
}

#[tokio::test]
async fn close_ends_the_task_and_the_event_stream() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let path = format!("{}/node", base("close"));
    create(&client, &path, b"v0").await;
    let cache = NodeCache::new(client.clone(), path.as_str());
    let mut events = cache.events();
    cache.start(true).await.unwrap();
    assert!(cache.is_running());
    cache.close().await;
    assert!(!cache.is_running());
    assert!(events.next().await.is_none());
    // A live cache sees the next change; the closed one keeps what it had.
    let witness = NodeCache::new(client.clone(), path.as_str());
    let mut witness_events = witness.events();
    witness.start(true).await.unwrap();
    client.set_data(&path, b"v1").await.unwrap();
    assert_eq!(next_data(&mut witness_events).await, bytes(b"v1"));
    assert_eq!(cache.current_data().and_then(|d| d.data), bytes(b"v0"));
    witness.close().await;
}
