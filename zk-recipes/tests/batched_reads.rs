//! Reads that set no watch go in multiRead batches: a discovery query and a
//! CuratorCache's load of a thousand nodes cost a handful of requests, not a thousand
//! (counted by the server itself: `cons`, the requests a connection received), and a
//! batch whose reply would be over the frame limit is read node by node instead.

mod support;

use futures::StreamExt;
use support::*;
use zk_core::Client;
use zk_recipes::cache::{CuratorCache, CuratorCacheEvent};
use zk_recipes::discovery::{JsonInstanceSerializer, ServiceDiscovery, ServiceInstance};

/// Creates every `(path, data)` of `nodes`, many at a time.
async fn create_all(client: &Client, nodes: Vec<(String, Vec<u8>)>) {
    let created: Vec<_> = futures::stream::iter(&nodes)
        .map(|(path, data)| async move { client.create(path, data).await })
        .buffer_unordered(500)
        .collect()
        .await;
    assert!(
        created.iter().all(Result::is_ok),
        "every node is created: {:?}",
        created.iter().find(|r| r.is_err())
    );
}

/// Waits for the cache's `Initialized`.
async fn initialized(events: &mut (impl futures::Stream<Item = CuratorCacheEvent> + Unpin)) {
    loop {
        if let CuratorCacheEvent::Initialized = next(events).await {
            return;
        }
    }
}

#[tokio::test]
async fn a_query_for_a_thousand_instances_costs_a_few_requests() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let base = base("batched-query");
    create(&writer, &format!("{base}/api"), b"").await;
    let json = JsonInstanceSerializer::new();
    let nodes = (0..1000u16)
        .map(|i| {
            let id = format!("i{i:04}");
            let instance = ServiceInstance::builder()
                .name("api")
                .id(id.clone())
                .address("127.0.0.1")
                .port(9000 + i)
                .build()
                .unwrap();
            (
                format!("{base}/api/{id}"),
                json.serialize(&instance).unwrap(),
            )
        })
        .collect();
    create_all(&writer, nodes).await;

    let reader = connect(&server.connect_string()).await;
    let discovery: ServiceDiscovery = ServiceDiscovery::builder()
        .client(reader.clone())
        .base_path(base.clone())
        .build()
        .unwrap();
    discovery.start().await.unwrap();
    let before = requests_received(server, reader.session_id()).await;
    let instances = discovery.query_for_instances("api").await.unwrap();
    let sent = requests_received(server, reader.session_id()).await - before;

    assert_eq!(instances.len(), 1000);
    let ids: Vec<&str> = instances.iter().map(|i| i.id()).collect();
    let want: Vec<String> = (0..1000).map(|i| format!("i{i:04}")).collect();
    assert_eq!(ids, want, "every instance, in id order");
    assert!(
        instances
            .iter()
            .enumerate()
            .all(|(i, inst)| inst.port() == Some(9000 + i as u16)),
        "each instance is its own node's"
    );
    // One listing and five batches of 200 (and perhaps a ping): one request per
    // instance would be over a thousand.
    assert!(sent <= 10, "the query sent {sent} requests");
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn a_curator_cache_loads_a_thousand_nodes_in_a_few_requests() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let base = base("batched-tree");
    create(&writer, &base, b"top").await;
    let mut nodes = Vec::new();
    for p in 0..10 {
        nodes.push((format!("{base}/p{p}"), format!("p{p}").into_bytes()));
    }
    create_all(&writer, nodes).await;
    let leaves = (0..1000)
        .map(|i| {
            (
                format!("{base}/p{}/c{i:04}", i % 10),
                format!("leaf {i}").into_bytes(),
            )
        })
        .collect();
    create_all(&writer, leaves).await;

    let reader = connect(&server.connect_string()).await;
    let before = requests_received(server, reader.session_id()).await;
    let cache = CuratorCache::builder(reader.clone(), base.clone()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    initialized(&mut events).await;
    let sent = requests_received(server, reader.session_id()).await - before;

    assert_eq!(cache.size(), 1 + 10 + 1000);
    let leaf = cache
        .get(&format!("{base}/p7/c0457"))
        .expect("a leaf is cached");
    assert_eq!(leaf.data.as_deref(), Some(&b"leaf 457"[..]));
    assert_eq!(
        cache.get(&base).and_then(|d| d.data),
        Some(bytes::Bytes::from_static(b"top"))
    );
    // The watch, one batch for the top, one for the ten parents, five for the
    // leaves (and perhaps a ping): one request per read would be over two thousand.
    assert!(sent <= 12, "the load sent {sent} requests");
    cache.close().await;
}

#[tokio::test]
async fn a_batch_too_large_for_one_frame_is_read_node_by_node() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let base = base("batched-large");
    create(&writer, &base, b"").await;
    // 150 nodes of 10 KB: one batch would answer 1.5 MB, over the 1 MiB frame limit.
    let nodes = (0..150)
        .map(|i| {
            (
                format!("{base}/n{i:03}"),
                vec![b'a' + (i % 26) as u8; 10_000],
            )
        })
        .collect();
    create_all(&writer, nodes).await;

    let reader = connect(&server.connect_string()).await;
    let cache = CuratorCache::builder(reader.clone(), base.clone()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    initialized(&mut events).await;

    assert_eq!(cache.size(), 151);
    for i in [0usize, 77, 149] {
        let node = cache.get(&format!("{base}/n{i:03}")).expect("cached");
        assert_eq!(
            node.data.as_deref(),
            Some(&vec![b'a' + (i % 26) as u8; 10_000][..])
        );
    }
    // The connection survived the oversized reply: the same session still reads.
    assert!(reader.get_data(&base).await.is_ok());
    cache.close().await;
}
