//! Watches against a real server: one-shot data, exists and child watches,
//! persistent and recursive watches, removal, sharing, the end of the session, and
//! re-registration after the connection was cut while the node changed.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use zk_core::{
    AddWatchMode, Code, EventType, KeeperState, PersistentWatch, SessionEvent, WatchedEvent,
    WatcherType,
};
use zk_testing::Proxy;

/// The next event of a persistent watch, within the deadline.
async fn next(w: &mut PersistentWatch) -> WatchedEvent {
    bounded("a persistent watch event", w.next())
        .await
        .expect("persistent watch streams do not end on their own")
}

/// Asserts nothing more arrives on `w` for a short while (after a sync, which
/// orders every notification the server owed before it).
async fn quiet(s: &zk_core::Session, w: &mut PersistentWatch) {
    s.sync("/").await.unwrap();
    // The sync's reply follows every notification sent before it on this connection.
    let more = tokio::time::timeout(Duration::from_millis(200), w.next()).await;
    assert!(more.is_err(), "unexpected event {more:?}");
}

#[tokio::test]
async fn one_shot_watches_fire_once_with_the_change_and_the_client_path() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("oneshot"), b"").await;
    let node = format!("{base}/node");

    // exists on a missing node fires when it is created.
    let (stat, created) = s.exists_watched(&node).await.unwrap();
    assert_eq!(stat, None);
    mk(&other, &node, b"0").await;
    let ev = bounded("NodeCreated", created).await;
    assert_eq!(
        ev,
        WatchedEvent {
            event_type: EventType::NodeCreated,
            keeper_state: KeeperState::SyncConnected,
            path: node.clone()
        }
    );

    // getData fires on a data change, once.
    let (_, _, changed) = s.get_data_watched(&node).await.unwrap();
    other.set_data(&node, b"1", None).await.unwrap();
    let ev = bounded("NodeDataChanged", changed).await;
    assert_eq!(ev.event_type, EventType::NodeDataChanged);
    assert_eq!(ev.path, node);
    // Fired watches are gone on the server as well.
    let err = s.check_watches(&node, WatcherType::Data).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");

    // exists on an existing node fires on a data change.
    let (stat, changed) = s.exists_watched(&node).await.unwrap();
    assert!(stat.is_some());
    other.set_data(&node, b"2", None).await.unwrap();
    assert_eq!(
        bounded("NodeDataChanged", changed).await.event_type,
        EventType::NodeDataChanged
    );

    // getChildren fires when a child comes or goes, not on the node's data.
    let (kids, _, kids_changed) = s.get_children_watched(&node).await.unwrap();
    assert!(kids.is_empty());
    s.check_watches(&node, WatcherType::Children).await.unwrap();
    other.set_data(&node, b"3", None).await.unwrap();
    mk(&other, &format!("{node}/kid"), b"").await;
    let ev = bounded("NodeChildrenChanged", kids_changed).await;
    assert_eq!(ev.event_type, EventType::NodeChildrenChanged);
    assert_eq!(ev.path, node);

    // Deletion fires data and child watches alike.
    let (_, _, data_w) = s.get_data_watched(&format!("{node}/kid")).await.unwrap();
    let (_, _, child_w) = s
        .get_children_watched(&format!("{node}/kid"))
        .await
        .unwrap();
    other.delete(&format!("{node}/kid"), None).await.unwrap();
    assert_eq!(
        bounded("deletion", data_w).await.event_type,
        EventType::NodeDeleted
    );
    assert_eq!(
        bounded("deletion", child_w).await.event_type,
        EventType::NodeDeleted
    );
    s.close().await;
    other.close().await;
}

#[tokio::test]
async fn the_same_watch_set_twice_is_one_registration_and_both_futures_fire_from_one_event() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let node = mk(&s, &unique("twice"), b"").await;

    let (_, _, first) = s.get_data_watched(&node).await.unwrap();
    let (_, _, second) = s.get_data_watched(&node).await.unwrap();
    let (_, third) = s.exists_watched(&node).await.unwrap();
    other.set_data(&node, b"x", None).await.unwrap();
    let (a, b, c) = bounded("all three watches", async {
        tokio::join!(first, second, third)
    })
    .await;
    for ev in [&a, &b, &c] {
        assert_eq!(ev.event_type, EventType::NodeDataChanged);
        assert_eq!(ev.path, node);
    }
    // One event consumed the one server-side watch: nothing is left to fire.
    let err = s.check_watches(&node, WatcherType::Data).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");
    s.close().await;
    other.close().await;
}

#[tokio::test]
async fn a_persistent_watch_sees_every_change_of_its_node_and_children_until_removed() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("persistent"), b"").await;
    let node = format!("{base}/node");

    let mut w = s.add_watch(&node, AddWatchMode::Persistent).await.unwrap();
    assert_eq!(w.path(), node);
    mk(&other, &node, b"").await;
    other.set_data(&node, b"1", None).await.unwrap();
    other.set_data(&node, b"2", None).await.unwrap();
    mk(&other, &format!("{node}/kid"), b"").await;
    // A grandchild is not the persistent (non-recursive) watch's business.
    mk(&other, &format!("{node}/kid/grandkid"), b"").await;
    let want = [
        EventType::NodeCreated,
        EventType::NodeDataChanged,
        EventType::NodeDataChanged,
        EventType::NodeChildrenChanged,
    ];
    for t in want {
        let ev = next(&mut w).await;
        assert_eq!((ev.event_type, ev.path.as_str()), (t, node.as_str()));
    }
    quiet(&s, &mut w).await;

    s.remove_watches(&node, WatcherType::Any).await.unwrap();
    let ev = next(&mut w).await;
    assert_eq!(ev.event_type, EventType::PersistentWatchRemoved);
    assert!(w.next().await.is_none(), "the stream ends after removal");
    let err = s.check_watches(&node, WatcherType::Any).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");
    s.close().await;
    other.close().await;
}

#[tokio::test]
async fn a_recursive_watch_sees_changes_anywhere_below_but_no_child_list_events() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("recursive"), b"").await;

    let mut w = s
        .add_watch(&base, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let a = format!("{base}/a");
    let ab = format!("{base}/a/b");
    mk(&other, &a, b"").await;
    mk(&other, &ab, b"").await;
    other.set_data(&ab, b"x", None).await.unwrap();
    other.delete(&ab, None).await.unwrap();
    other.set_data(&base, b"top", None).await.unwrap();
    let want = [
        (EventType::NodeCreated, &a),
        (EventType::NodeCreated, &ab),
        (EventType::NodeDataChanged, &ab),
        (EventType::NodeDeleted, &ab),
        (EventType::NodeDataChanged, &base),
    ];
    for (t, p) in want {
        let ev = next(&mut w).await;
        assert_eq!((ev.event_type, &ev.path), (t, p));
    }
    quiet(&s, &mut w).await;

    // A sibling with the same prefix is not below the watched node.
    mk(&other, &format!("{base}x"), b"").await;
    quiet(&s, &mut w).await;
    s.close().await;
    let ev = next(&mut w).await;
    assert!(ev.is_session_end(), "{ev:?}");
    assert_eq!(ev.keeper_state, KeeperState::Closed);
    other.close().await;
}

#[tokio::test]
async fn removing_watches_ends_them_with_removal_events_and_missing_ones_are_nowatcher() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let node = mk(&s, &unique("remove"), b"").await;

    let (_, _, data) = s.get_data_watched(&node).await.unwrap();
    let (_, _, kids) = s.get_children_watched(&node).await.unwrap();
    s.check_watches(&node, WatcherType::Data).await.unwrap();

    s.remove_watches(&node, WatcherType::Data).await.unwrap();
    let ev = bounded("DataWatchRemoved", data).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::DataWatchRemoved, node.as_str())
    );
    // The child watch is untouched.
    s.check_watches(&node, WatcherType::Children).await.unwrap();
    let err = s
        .remove_watches(&node, WatcherType::Data)
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");

    s.remove_watches(&node, WatcherType::Children)
        .await
        .unwrap();
    let ev = bounded("ChildWatchRemoved", kids).await;
    assert_eq!(ev.event_type, EventType::ChildWatchRemoved);
    let err = s.check_watches(&node, WatcherType::Any).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");

    // An exists watch on a missing node is a data watch for removal purposes.
    let missing = format!("{node}-missing");
    let (_, created) = s.exists_watched(&missing).await.unwrap();
    s.remove_watches(&missing, WatcherType::Any).await.unwrap();
    assert_eq!(
        bounded("DataWatchRemoved", created).await.event_type,
        EventType::DataWatchRemoved
    );
    s.close().await;
}

#[tokio::test]
async fn every_pending_watch_ends_when_the_session_is_closed() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let node = mk(&s, &unique("end"), b"").await;
    let (_, _, data) = s.get_data_watched(&node).await.unwrap();
    let (_, missing) = s.exists_watched(&format!("{node}/missing")).await.unwrap();
    let (_, _, kids) = s.get_children_watched(&node).await.unwrap();
    s.close().await;
    for w in [data, missing, kids] {
        let ev = bounded("the session end", w).await;
        assert!(ev.is_session_end(), "{ev:?}");
        assert_eq!(ev.keeper_state, KeeperState::Closed);
    }
}

/// The watching session goes through a proxy that is cut; while it is cut, another
/// client (connected directly) changes the watched nodes; after healing, the session
/// reconnects, re-registers its watches relative to the last zxid it saw, and the
/// server fires at once the one-shot watches whose nodes changed meanwhile.
#[tokio::test]
async fn watches_missed_while_cut_off_fire_after_the_reconnect() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let (s, mut events) = start_with_events(config(&proxy.connect_string(), SESSION_TIMEOUT)).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&other, &unique("rereg"), b"").await;
    let data_node = mk(&other, &format!("{base}/data"), b"").await;
    let parent = mk(&other, &format!("{base}/parent"), b"").await;
    let later = format!("{base}/later");
    let tree = mk(&other, &format!("{base}/tree"), b"").await;
    let still = mk(&other, &format!("{base}/still"), b"").await;

    let (_, _, data_w) = s.get_data_watched(&data_node).await.unwrap();
    let (_, _, child_w) = s.get_children_watched(&parent).await.unwrap();
    let (_, exist_w) = s.exists_watched(&later).await.unwrap();
    let mut tree_w = s
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let (_, _, mut still_w) = s.get_data_watched(&still).await.unwrap();
    let session_id = s.session_id();

    proxy.cut().await;
    let (ev, _) = wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    assert!(matches!(ev, SessionEvent::Disconnected(_)));
    other.set_data(&data_node, b"changed", None).await.unwrap();
    mk(&other, &format!("{parent}/kid"), b"").await;
    mk(&other, &later, b"").await;
    other.set_data(&tree, b"changed", None).await.unwrap();
    proxy.heal().await.expect("heal");

    let (ev, skipped) = wait_event(&mut events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert!(matches!(ev, SessionEvent::SyncConnected));
    assert!(
        skipped
            .iter()
            .all(|e| matches!(e, SessionEvent::Disconnected(_))),
        "{skipped:?}"
    );
    assert_eq!(s.session_id(), session_id, "the same session resumed");

    let ev = bounded("the missed data change", data_w).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, data_node.as_str())
    );
    let ev = bounded("the missed child change", child_w).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeChildrenChanged, parent.as_str())
    );
    let ev = bounded("the missed creation", exist_w).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, later.as_str())
    );
    // An unchanged node's watch was re-registered and not fired; it still works.
    s.sync("/").await.unwrap();
    assert!(
        futures::poll!(&mut still_w).is_pending(),
        "nothing changed it"
    );
    other.set_data(&still, b"now", None).await.unwrap();
    assert_eq!(
        bounded("the re-registered watch", still_w).await.event_type,
        EventType::NodeDataChanged
    );
    // The recursive watch was re-registered (SetWatches2), but the server replays
    // nothing for persistent watches: the change made while cut off is not seen,
    // the next one is.
    let new = format!("{tree}/new");
    mk(&other, &new, b"").await;
    let ev = next(&mut tree_w).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, new.as_str())
    );
    s.close().await;
    other.close().await;
}

#[tokio::test]
async fn an_unawaited_dropped_watch_is_not_reregistered() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let (s, mut events) = start_with_events(config(&proxy.connect_string(), SESSION_TIMEOUT)).await;
    let node = mk(&s, &unique("dropped"), b"").await;
    let (_, _, w) = s.get_data_watched(&node).await.unwrap();
    drop(w);
    proxy.cut().await;
    proxy.heal().await.expect("heal");
    wait_event(&mut events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    let err = s.check_watches(&node, WatcherType::Data).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoWatcher), "{err:?}");
    s.close().await;
}

/// Enough watches that re-registering them takes several SetWatches requests (the
/// client splits them at 128 KiB of paths): after a cut, every one is registered
/// again, and the ones whose nodes changed meanwhile fire.
#[tokio::test]
async fn thousands_of_watches_are_reregistered_in_batches_after_a_reconnect() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let (s, mut events) = start_with_events(config(&proxy.connect_string(), SESSION_TIMEOUT)).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&other, &unique("many"), b"").await;
    // ~100-byte paths: 3,000 of them are well over two batches.
    let pad = "p".repeat(80);
    let paths: Vec<String> = (0..3000).map(|i| format!("{base}/{pad}{i:05}")).collect();
    let acl = [zk_core::Acl::open_unsafe()];
    let created = futures::future::join_all(
        paths
            .iter()
            .map(|p| other.create(p, b"", &acl, zk_core::CreateMode::Persistent)),
    );
    for r in bounded("creating 3,000 nodes", created).await {
        r.unwrap();
    }
    let watched = futures::future::join_all(paths.iter().map(|p| s.get_data_watched(p)));
    let mut watches: Vec<_> = bounded("setting 3,000 watches", watched)
        .await
        .into_iter()
        .map(|r| r.unwrap().2)
        .collect();

    proxy.cut().await;
    wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    // Change the first, a middle and the last node while the watcher is away.
    let changed = [0usize, 1500, 2999];
    for &i in &changed {
        other.set_data(&paths[i], b"x", None).await.unwrap();
    }
    proxy.heal().await.expect("heal");
    wait_event(&mut events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    for &i in changed.iter().rev() {
        let ev = bounded("a missed change", watches.remove(i)).await;
        assert_eq!(
            (ev.event_type, ev.path.as_str()),
            (EventType::NodeDataChanged, paths[i].as_str())
        );
    }
    // Every other watch is registered on the server again.
    for (i, p) in paths.iter().enumerate() {
        if !changed.contains(&i) {
            s.check_watches(p, WatcherType::Data)
                .await
                .unwrap_or_else(|e| panic!("watch on {p} lost: {e}"));
        }
    }
    s.close().await;
    other.close().await;
}
