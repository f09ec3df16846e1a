//! Reads go in multiRead batches: a discovery query and a CuratorCache's load of a
//! thousand nodes cost a handful of requests, not a thousand (counted by the server
//! itself: `cons`, the requests a connection received), and a batch whose reply would
//! be over the frame limit is read node by node instead. A PathChildrenCache reads
//! its children in batches too and then sets their data watches with SetWatches:
//! a change made while it builds is not missed, and every child has its one watch.

mod support;

use futures::StreamExt;
use support::*;
use zk_core::Client;
use zk_recipes::cache::{
    CuratorCache, CuratorCacheEvent, PathChildrenCache, PathChildrenCacheEvent, StartMode,
};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_children_cache_builds_in_batches_and_misses_no_change_made_meanwhile() {
    const CHILDREN: usize = 10_000;
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let base = base("batched-children");
    create(&writer, &base, b"").await;
    let nodes = (0..CHILDREN)
        .map(|i| (format!("{base}/c{i:05}"), b"v0".to_vec()))
        .collect();
    create_all(&writer, nodes).await;

    let reader = connect(&server.connect_string()).await;
    let before = requests_received(server, reader.session_id()).await;
    let cache = PathChildrenCache::builder(reader.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    // Another client changes the first child (read in the first batch) while the
    // cache builds, paced to spread over the build. A change that lands after that
    // read and before the watches are set is the one a watch set relative to a later
    // zxid would miss; whether one lands there depends on timing, so this shows no
    // change is lost, without proving the window was hit.
    let hot = format!("{base}/c00000");
    let changes = async {
        for v in 1..=20 {
            writer.set_data(&hot, &format!("v{v}")).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    };
    let (started, ()) = tokio::join!(cache.start(), changes);
    started.unwrap();
    let sent = requests_received(server, reader.session_id()).await - before;

    assert_eq!(cache.current_data().len(), CHILDREN);
    // The listing, 50 batches of 200 and a few SetWatches of 128 KB (and perhaps
    // re-reads of the changing child and a ping): one watched read per child would
    // be over ten thousand.
    assert!(sent <= 100, "the build sent {sent} requests");
    // Whatever the build read of the hot child, its watch brings the last value.
    let last = Some(bytes::Bytes::from_static(b"v20"));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while cache.current_data_for(&hot).and_then(|d| d.data) != last {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the last change of the hot child arrives")
            .expect("the cache is open");
        assert!(
            matches!(&event, PathChildrenCacheEvent::ChildUpdated(d) if d.path == hot),
            "only the hot child changes: {event:?}"
        );
    }
    // Every child has its data watch, once: a change to any arrives.
    let counts = reader.session().watch_counts().await.unwrap();
    assert_eq!(counts.data, CHILDREN, "{counts:?}");
    writer
        .set_data(&format!("{base}/c09999"), b"new")
        .await
        .unwrap();
    loop {
        match next(&mut events).await {
            PathChildrenCacheEvent::ChildUpdated(d) if d.path.ends_with("/c09999") => {
                assert_eq!(d.data.as_deref(), Some(&b"new"[..]));
                break;
            }
            PathChildrenCacheEvent::ChildUpdated(d) if d.path == hot => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    cache.close().await;
}
