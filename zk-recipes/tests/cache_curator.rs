//! CuratorCache (one persistent recursive watch) against a real ZooKeeper: exact event
//! sequences for the initial load, creates, changes and deletes, a reconnect and a
//! session expiry with changes made meanwhile, the single-node option, and close.
//! Tests end by creating a marker node whose `Created` must be the very next event.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use support::cache_events::*;
use support::*;
use zk_core::ConnectionState;
use zk_recipes::cache::{CuratorCache, CuratorCacheEvent as Ev};

impl Summarize for Ev {
    const ADDED: &'static str = "created";

    fn summary(&self) -> Summary {
        match self {
            Ev::Created(d) => ("created", d.path.clone(), d.data.clone()),
            Ev::Changed { old, new } => {
                assert_eq!(old.path, new.path);
                assert!(old.stat.mzxid < new.stat.mzxid, "old and new are in order");
                ("changed", new.path.clone(), new.data.clone())
            }
            Ev::Deleted(d) => ("deleted", d.path.clone(), d.data.clone()),
            Ev::Initialized => conn("initialized"),
            other => panic!("an event this test does not know: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_tree_is_loaded_then_followed_through_the_persistent_watch() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("follow");
    create(&client, &format!("{base}/a/x"), b"x").await;
    client.set_data(&base, b"root").await.unwrap();

    let cache = CuratorCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 4).await,
        [
            ev("created", &base, b"root"),
            ev("created", &format!("{base}/a"), b""),
            ev("created", &format!("{base}/a/x"), b"x"),
            conn("initialized"),
        ]
    );

    create(&client, &format!("{base}/b/c"), b"c").await; // parent, then child
    assert_eq!(
        next_summaries(&mut events, 2).await,
        [
            ev("created", &format!("{base}/b"), b""),
            ev("created", &format!("{base}/b/c"), b"c")
        ]
    );
    client
        .set_data(&format!("{base}/a/x"), b"x1")
        .await
        .unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("changed", &format!("{base}/a/x"), b"x1")]
    );
    client.delete(&format!("{base}/a/x")).await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("deleted", &format!("{base}/a/x"), b"x1")]
    );

    assert_eq!(cache.size(), 4);
    assert_eq!(
        cache.get(&format!("{base}/b/c")).and_then(|d| d.data),
        Some(Bytes::from_static(b"c"))
    );
    let paths: Vec<_> = cache.current_data().into_iter().map(|d| d.path).collect();
    assert_eq!(
        paths,
        [
            base.clone(),
            format!("{base}/a"),
            format!("{base}/b"),
            format!("{base}/b/c")
        ]
    );
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
    assert_eq!(cache.size(), 0, "closing empties the cache");
}

#[tokio::test]
async fn a_single_node_cache_ignores_the_subtree() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("single");
    create(&client, &format!("{base}/child"), b"c").await;
    let cache = CuratorCache::builder(client.clone(), base.as_str())
        .single_node(true)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 2).await,
        [ev("created", &base, b""), conn("initialized")]
    );
    create(&client, &format!("{base}/other"), b"o").await;
    client.set_data(&base, b"r1").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("changed", &base, b"r1")]
    );
    assert_eq!(cache.size(), 1);
    cache.close().await;
}

#[tokio::test]
async fn changes_made_while_disconnected_are_reported_once_after_the_reconnect() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect_with(&proxy.connect_string(), Duration::from_secs(10)).await;
    let mut states = reader.connection_states();
    let base = base("reconnect");
    for path in ["a/x", "b", "c"] {
        create(&writer, &format!("{base}/{path}"), b"0").await;
    }
    let cache = CuratorCache::builder(reader.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(take(&mut events, 6).await.last(), Some(&Ev::Initialized));

    let session = reader.session_id();
    proxy.cut().await;
    wait_for_state(&mut states, ConnectionState::Suspended).await;
    writer.delete(&format!("{base}/a/x")).await.unwrap();
    writer.delete(&format!("{base}/a")).await.unwrap();
    writer.set_data(&format!("{base}/b"), b"1").await.unwrap();
    create(&writer, &format!("{base}/d/e"), b"0").await;
    proxy.heal().await.unwrap();

    assert_eq!(
        next_summaries(&mut events, 5).await,
        [
            ev("deleted", &format!("{base}/a/x"), b"0"),
            ev("deleted", &format!("{base}/a"), b""),
            ev("changed", &format!("{base}/b"), b"1"),
            ev("created", &format!("{base}/d"), b""),
            ev("created", &format!("{base}/d/e"), b"0"),
        ]
    );
    assert_eq!(reader.session_id(), session, "the same session");
    assert_quiet_until_marker(&writer, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn after_session_expiry_the_watch_is_set_again_and_only_differences_are_reported() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect(&proxy.connect_string()).await;
    let mut states = reader.connection_states();
    let base = base("expiry");
    create(&writer, &format!("{base}/p1"), b"1").await;
    create(&writer, &format!("{base}/p2"), b"2").await;
    create_ephemeral(&reader, &format!("{base}/mine"), b"e").await;
    let cache = CuratorCache::builder(reader.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(take(&mut events, 5).await.last(), Some(&Ev::Initialized));

    let old_session = reader.session_id();
    proxy.cut().await;
    wait_for_state(&mut states, ConnectionState::Suspended).await;
    expire_session(&server.connect_string(), &reader).await;
    writer.set_data(&format!("{base}/p2"), b"2b").await.unwrap();
    proxy.heal().await.unwrap();

    assert_eq!(
        next_summaries(&mut events, 2).await,
        [
            ev("deleted", &format!("{base}/mine"), b"e"),
            ev("changed", &format!("{base}/p2"), b"2b")
        ]
    );
    assert_ne!(reader.session_id(), old_session, "a new session");
    writer.set_data(&format!("{base}/p1"), b"1b").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("changed", &format!("{base}/p1"), b"1b")]
    );
    assert_quiet_until_marker(&writer, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn close_ends_the_task_and_every_event_stream() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("close");
    create(&client, &base, b"").await;
    let cache = CuratorCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(next_summaries(&mut events, 2).await[1].0, "initialized");
    cache.close().await;
    assert!(!cache.is_running());
    assert!(events.next().await.is_none());
}
