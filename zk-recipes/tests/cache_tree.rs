//! TreeCache against a real ZooKeeper: exact event sequences for a subtree that grows,
//! changes and shrinks, with a depth limit, a missing root, a reconnect with changes
//! made meanwhile, and close. Tests end by adding a marker node whose `NodeAdded`
//! must be the very next event.

mod support;

use std::time::Duration;

use futures::StreamExt;
use support::cache_events::*;
use support::*;
use zk_recipes::cache::{ChildData, TreeCache, TreeCacheEvent as Ev};

impl Summarize for Ev {
    const ADDED: &'static str = "added";

    fn summary(&self) -> Summary {
        let node = |kind, d: &ChildData| (kind, d.path.clone(), d.data.clone());
        match self {
            Ev::NodeAdded(d) => node("added", d),
            Ev::NodeUpdated(d) => node("updated", d),
            Ev::NodeRemoved(d) => node("removed", d),
            Ev::ConnectionSuspended => conn("suspended"),
            Ev::ConnectionReconnected => conn("reconnected"),
            Ev::ConnectionLost => conn("lost"),
            Ev::Initialized => conn("initialized"),
            other => panic!("an event this test does not know: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_subtree_is_loaded_then_followed_as_it_changes() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("follow");
    create(&client, &format!("{base}/a/x"), b"x").await;
    client.set_data(&base, b"root").await.unwrap();
    client.set_data(&format!("{base}/a"), b"a").await.unwrap();
    create(&client, &format!("{base}/b"), b"b").await;

    let cache = TreeCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 5).await,
        [
            ev("added", &base, b"root"),
            ev("added", &format!("{base}/a"), b"a"),
            ev("added", &format!("{base}/a/x"), b"x"),
            ev("added", &format!("{base}/b"), b"b"),
            conn("initialized"),
        ]
    );

    create(&client, &format!("{base}/a/y"), b"y").await;
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/a/y"), b"y")]
    );
    client.set_data(&format!("{base}/b"), b"b1").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("updated", &format!("{base}/b"), b"b1")]
    );
    client.set_data(&base, b"root1").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("updated", &base, b"root1")]
    );

    let children = cache.current_children(&format!("{base}/a")).unwrap();
    assert_eq!(children.keys().collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(children["y"].data.as_deref(), Some(&b"y"[..]));
    assert_eq!(
        cache
            .current_data(&format!("{base}/b"))
            .unwrap()
            .stat
            .version,
        1
    );
    assert_eq!(cache.current_children(&format!("{base}/nope")), None);

    for path in ["a/x", "a/y", "a"] {
        client.delete(&format!("{base}/{path}")).await.unwrap();
    }
    assert_eq!(
        next_summaries(&mut events, 3).await,
        [
            ev("removed", &format!("{base}/a/x"), b"x"),
            ev("removed", &format!("{base}/a/y"), b"y"),
            ev("removed", &format!("{base}/a"), b"a"),
        ]
    );
    assert_eq!(cache.current_data(&format!("{base}/a")), None);
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn max_depth_limits_what_is_cached_and_cache_data_false_keeps_stats_only() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("depth");
    create(&client, &format!("{base}/a/x/deep"), b"d").await;
    let cache = TreeCache::builder(client.clone(), base.as_str())
        .max_depth(1)
        .cache_data(false)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    let got = next_summaries(&mut events, 3).await;
    assert_eq!(
        got,
        [
            ("added", base.clone(), None),
            ("added", format!("{base}/a"), None),
            conn("initialized"),
        ]
    );
    assert_eq!(
        cache.current_children(&format!("{base}/a")).unwrap().len(),
        0
    );
    assert_eq!(cache.current_data(&format!("{base}/a/x")), None);
    // Below the limit nothing is watched: a change there is not reported, the next
    // change within the limit is.
    create(&client, &format!("{base}/a/z"), b"").await;
    create(&client, &format!("{base}/b"), b"bb").await;
    let Ev::NodeAdded(b) = next(&mut events).await else {
        panic!("expected an addition")
    };
    assert_eq!(
        (b.path, b.data, b.stat.data_length),
        (format!("{base}/b"), None, 2)
    );
    cache.close().await;
}

#[tokio::test]
async fn a_missing_root_is_watched_and_its_deletion_removes_the_whole_tree() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("root");
    let cache = TreeCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(next_summaries(&mut events, 1).await, [conn("initialized")]);
    assert!(
        client.exists(&base).await.unwrap().is_none(),
        "nothing is created"
    );

    client.create(&base, b"r").create_parents().await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &base, b"r")]
    );
    create(&client, &format!("{base}/c"), b"c").await;
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/c"), b"c")]
    );
    client
        .delete(&base)
        .deleting_children_if_needed()
        .await
        .unwrap();
    assert_eq!(
        next_summaries(&mut events, 2).await,
        [
            ev("removed", &format!("{base}/c"), b"c"),
            ev("removed", &base, b"r")
        ]
    );
    client.create(&base, b"again").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &base, b"again")]
    );
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn changes_made_while_disconnected_are_reported_once_after_the_reconnect() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect_with(&proxy.connect_string(), Duration::from_secs(10)).await;
    let base = base("reconnect");
    for path in ["a/x", "b", "c"] {
        create(&writer, &format!("{base}/{path}"), b"0").await;
    }
    let cache = TreeCache::builder(reader.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(take(&mut events, 6).await.last(), Some(&Ev::Initialized));

    proxy.cut().await;
    assert_eq!(next_summaries(&mut events, 1).await, [conn("suspended")]);
    writer.delete(&format!("{base}/a/x")).await.unwrap();
    writer.delete(&format!("{base}/a")).await.unwrap();
    writer.set_data(&format!("{base}/b"), b"1").await.unwrap();
    create(&writer, &format!("{base}/d/e"), b"0").await;
    proxy.heal().await.unwrap();

    // The same session: the restored watches fire for what changed, and only that
    // is read. Each change is reported once, after the reconnect; across nodes in
    // the order the server fired the watches, within a subtree parents around their
    // children (a child goes before its parent, a parent comes before its child).
    let seen = next_summaries(&mut events, 6).await;
    assert_eq!(seen[0], conn("reconnected"));
    let rest = &seen[1..];
    let at = |want: &_| {
        rest.iter()
            .position(|e| e == want)
            .unwrap_or_else(|| panic!("{want:?} missing from {seen:?}"))
    };
    let removed_x = at(&ev("removed", &format!("{base}/a/x"), b"0"));
    let removed_a = at(&ev("removed", &format!("{base}/a"), b""));
    at(&ev("updated", &format!("{base}/b"), b"1"));
    let added_d = at(&ev("added", &format!("{base}/d"), b""));
    let added_e = at(&ev("added", &format!("{base}/d/e"), b"0"));
    assert!(removed_x < removed_a && added_d < added_e, "{seen:?}");
    assert_quiet_until_marker(&writer, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn close_ends_the_task_and_every_event_stream() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("close");
    create(&client, &base, b"").await;
    let cache = TreeCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(next_summaries(&mut events, 2).await[1], conn("initialized"));
    cache.close().await;
    assert!(!cache.is_running());
    assert!(events.next().await.is_none());
}
