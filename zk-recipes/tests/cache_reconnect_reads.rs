//! No read storm: after a reconnect that keeps the session, a 10,000-child
//! PathChildrenCache reads only what changed while it was away (the watches the
//! client restored fire for exactly that), and those changes still arrive as events.
//! What the client sent is counted by the server itself (`cons`: the requests the
//! new connection received).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use support::*;
use zk_core::Client;
use zk_recipes::cache::{PathChildrenCache, PathChildrenCacheEvent as Ev, StartMode};

const CHILDREN: usize = 10_000;

/// Creates `n` children of 100 bytes under `base`, many at a time.
async fn create_children(client: &Client, base: &str, n: usize) {
    let data = [b'x'; 100];
    let created: Vec<_> = futures::stream::iter(0..n)
        .map(|i| {
            let path = format!("{base}/c{i:05}");
            let data = &data;
            async move { client.create(&path, data).await }
        })
        .buffer_unordered(500)
        .collect()
        .await;
    assert!(created.iter().all(Result::is_ok), "every child is created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_session_reconnect_reads_only_what_changed() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let base = base("no-storm");
    create(&writer, &base, b"").await;
    create_children(&writer, &base, CHILDREN).await;

    let proxy = proxy(server.addr()).await;
    let reader = connect_with(&proxy.connect_string(), Duration::from_secs(30)).await;
    let session = reader.session_id();
    let cache = PathChildrenCache::builder(reader.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(cache.current_data().len(), CHILDREN);

    proxy.cut().await;
    assert!(matches!(next(&mut events).await, Ev::ConnectionSuspended));
    // Made by another client while the reader is away.
    writer
        .set_data(&format!("{base}/c00010"), b"new")
        .await
        .unwrap();
    writer
        .set_data(&format!("{base}/c09999"), b"new")
        .await
        .unwrap();
    writer.delete(&format!("{base}/c00500")).await.unwrap();
    create(&writer, &format!("{base}/late"), b"late").await;
    proxy.heal().await.unwrap();

    assert!(matches!(next(&mut events).await, Ev::ConnectionReconnected));
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        seen.insert(match next(&mut events).await {
            Ev::ChildUpdated(d) => ("updated", d.path, d.data),
            Ev::ChildAdded(d) => ("added", d.path, d.data),
            Ev::ChildRemoved(d) => ("removed", d.path, None),
            other => panic!("unexpected {other:?}"),
        });
    }
    let new = Some(bytes::Bytes::from_static(b"new"));
    let want = BTreeSet::from([
        ("updated", format!("{base}/c00010"), new.clone()),
        ("updated", format!("{base}/c09999"), new),
        ("removed", format!("{base}/c00500"), None),
        (
            "added",
            format!("{base}/late"),
            Some(bytes::Bytes::from_static(b"late")),
        ),
    ]);
    assert_eq!(seen, want);
    assert_eq!(reader.session_id(), session, "the session was kept");
    assert_eq!(cache.current_data().len(), CHILDREN);

    // The marker: its event comes next, so nothing else was read and reported.
    create(&writer, &format!("{base}/marker"), b"").await;
    assert!(matches!(next(&mut events).await, Ev::ChildAdded(d) if d.path.ends_with("/marker")));
    // The connect, the restored watches (a few frames), the answers to four changes
    // and the marker, and pings: tens of requests, where a full re-read would send
    // over ten thousand.
    let sent = requests_received(server, session).await;
    assert!(sent < 100, "the reconnected cache sent {sent} requests");
    eprintln!("requests after the reconnect: {sent}");
    cache.close().await;
}
