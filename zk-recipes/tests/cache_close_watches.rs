//! Closing a cache removes its watches: opening and closing caches on one
//! long-lived client grows neither the client's watch table nor the server's watch
//! count. Each test has a server of its own, as the server's count is global.

mod support;

use std::net::SocketAddr;

use futures::StreamExt;
use support::*;
use zk_core::{Client, WatchCounts};
use zk_recipes::cache::{NodeCache, PathChildrenCache, StartMode, TreeCache, TreeCacheEvent};

/// The server's watches over both of its tables (`mntr` `zk_watch_count`).
async fn server_watches(addr: SocketAddr) -> usize {
    let mntr = zk_testing::four_letter_word(addr, "mntr").await.unwrap();
    mntr.lines()
        .find_map(|l| l.strip_prefix("zk_watch_count"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no zk_watch_count in mntr: {mntr}"))
}

/// The client's watch table, once every drop notice sent so far was handled.
async fn local(client: &Client) -> WatchCounts {
    client.session().watch_counts().await.unwrap()
}

/// Checks that the client's table and the server's count are back to `baseline`.
/// A closed cache has dropped its watches when `close()` returns, so the table is
/// exact at once; the server is polled, as nothing tells the client when the
/// removals it did not await are done.
async fn back_to(client: &Client, addr: SocketAddr, baseline: (WatchCounts, usize), when: &str) {
    assert_eq!(local(client).await, baseline.0, "client watches {when}");
    eventually(
        &format!("the server's watches back to {} {when}", baseline.1),
        || async { (server_watches(addr).await == baseline.1).then_some(()) },
    )
    .await;
}

/// Creates `n` children of `parent` (which it creates), 500 requests in flight.
async fn children(client: &Client, parent: &str, n: usize) {
    create(client, parent, b"").await;
    let results: Vec<_> = futures::stream::iter(0..n)
        .map(|i| {
            let path = format!("{parent}/child-{i:05}");
            async move { client.create(&path, b"data").await }
        })
        .buffer_unordered(500)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "every child created");
}

#[tokio::test]
async fn a_path_children_cache_opened_and_closed_50_times_leaves_no_watch() {
    let server = own_server().await;
    let addr = server.addr();
    let client = connect(&server.connect_string()).await;
    let parent = "/many";
    const CHILDREN: usize = 1_000;
    children(&client, parent, CHILDREN).await;
    let baseline = (local(&client).await, server_watches(addr).await);

    for round in 0..50 {
        let cache = PathChildrenCache::builder(client.clone(), parent)
            .start_mode(StartMode::BuildInitialCache)
            .build();
        cache.start().await.unwrap();
        assert_eq!(cache.current_data().len(), CHILDREN);
        let open = local(&client).await;
        assert_eq!(
            (open.data, open.child),
            (baseline.0.data + CHILDREN, baseline.0.child + 1),
            "round {round}: one data watch per child and one on the list"
        );
        cache.close().await;
        back_to(&client, addr, baseline, &format!("after round {round}")).await;
    }
    client.close().await;
}

#[tokio::test]
async fn tree_node_and_curator_caches_leave_no_watch_once_closed() {
    let server = own_server().await;
    let addr = server.addr();
    let client = connect(&server.connect_string()).await;
    let root = "/tree";
    children(&client, root, 200).await;
    create(&client, "/tree/child-00000/deeper", b"").await;
    let baseline = (local(&client).await, server_watches(addr).await);

    let tree = TreeCache::builder(client.clone(), root).build();
    let mut events = tree.events();
    tree.start().await.unwrap();
    // One NodeAdded per node (the root, 200 children, one grandchild), then
    // Initialized: a bounded number of events.
    let mut initialized = false;
    for _ in 0..210 {
        if next(&mut events).await == TreeCacheEvent::Initialized {
            initialized = true;
            break;
        }
    }
    assert!(initialized, "the tree cache reports Initialized");
    assert!(local(&client).await.total() > baseline.0.total());
    tree.close().await;
    back_to(&client, addr, baseline, "after the tree cache").await;

    let node = NodeCache::new(client.clone(), "/tree/child-00001");
    node.start(true).await.unwrap();
    assert_eq!(local(&client).await.data, baseline.0.data + 1);
    node.close().await;
    back_to(&client, addr, baseline, "after the node cache").await;

    // A node cache on a missing node holds an exist watch; it goes too.
    let missing = NodeCache::new(client.clone(), "/tree/not-yet");
    missing.start(true).await.unwrap();
    assert_eq!(local(&client).await.exist, baseline.0.exist + 1);
    missing.close().await;
    back_to(
        &client,
        addr,
        baseline,
        "after the node cache on a missing node",
    )
    .await;
    client.close().await;
}
