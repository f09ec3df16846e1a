//! PathChildrenCache against a real ZooKeeper: every test asserts the exact sequence
//! of events, and ends by creating a marker child whose `ChildAdded` must be the very
//! next event (so nothing unexpected came before it).

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use support::cache_events::*;
use support::*;
use zk_core::ConnectionState;
use zk_recipes::cache::{PathChildrenCache, PathChildrenCacheEvent as Ev, StartMode};

impl Summarize for Ev {
    const ADDED: &'static str = "added";

    fn summary(&self) -> Summary {
        match self {
            Ev::ChildAdded(d) => ("added", d.path.clone(), d.data.clone()),
            Ev::ChildUpdated(d) => ("updated", d.path.clone(), d.data.clone()),
            Ev::ChildRemoved(d) => ("removed", d.path.clone(), d.data.clone()),
            Ev::ConnectionSuspended => conn("suspended"),
            Ev::ConnectionReconnected => conn("reconnected"),
            Ev::ConnectionLost => conn("lost"),
            Ev::Initialized(_) => conn("initialized"),
            other => panic!("an event this test does not know: {other:?}"),
        }
    }
}

#[tokio::test]
async fn children_added_updated_and_removed_are_reported_in_order() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("crud");
    create(&client, &base, b"").await;
    create(&client, &format!("{base}/a"), b"a0").await;

    let cache = PathChildrenCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/a"), b"a0")]
    );

    create(&client, &format!("{base}/b"), b"b0").await;
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/b"), b"b0")]
    );
    client.set_data(&format!("{base}/a"), b"a1").await.unwrap();
    let updated = next(&mut events).await;
    let Ev::ChildUpdated(a) = &updated else {
        panic!("expected an update, got {updated:?}")
    };
    assert_eq!(
        (a.path.as_str(), a.data.as_deref(), a.stat.version),
        (format!("{base}/a").as_str(), Some(&b"a1"[..]), 1)
    );
    client.delete(&format!("{base}/b")).await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("removed", &format!("{base}/b"), b"b0")]
    );

    let current: Vec<_> = cache
        .current_data()
        .into_iter()
        .map(|d| (d.path, d.data))
        .collect();
    assert_eq!(
        current,
        [(format!("{base}/a"), Some(Bytes::from_static(b"a1")))]
    );
    assert_eq!(
        cache
            .current_data_for(&format!("{base}/a"))
            .map(|d| d.stat.version),
        Some(1)
    );
    assert_eq!(cache.current_data_for(&format!("{base}/b")), None);
    assert_quiet_until_marker(&client, &base, &mut events).await;

    // clear() forgets without events; a child read again is then new to the cache.
    cache.clear();
    assert!(cache.current_data().is_empty());
    client.set_data(&format!("{base}/a"), b"a2").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/a"), b"a2")]
    );
    cache.close().await;
}

#[tokio::test]
async fn without_cache_data_children_carry_stats_only() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("nodata");
    create(&client, &format!("{base}/a"), b"payload").await;

    let cache = PathChildrenCache::builder(client.clone(), base.as_str())
        .cache_data(false)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    let Ev::ChildAdded(a) = next(&mut events).await else {
        panic!("expected an addition")
    };
    assert_eq!(
        (a.path.clone(), a.data, a.stat.data_length),
        (format!("{base}/a"), None, 7)
    );
    client.set_data(&format!("{base}/a"), b"xy").await.unwrap();
    let Ev::ChildUpdated(a) = next(&mut events).await else {
        panic!("expected an update")
    };
    assert_eq!((a.data, a.stat.version, a.stat.data_length), (None, 1, 2));
    assert_eq!(
        cache.current_data_for(&format!("{base}/a")).unwrap().data,
        None
    );
    cache.close().await;
}

#[tokio::test]
async fn build_initial_cache_loads_before_start_returns_without_events() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("initial");
    for name in ["c", "a", "b"] {
        create(&client, &format!("{base}/{name}"), name.as_bytes()).await;
    }
    let cache = PathChildrenCache::builder(client.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    let paths: Vec<_> = cache.current_data().into_iter().map(|d| d.path).collect();
    assert_eq!(paths, ["a", "b", "c"].map(|n| format!("{base}/{n}")));
    // Watches are set: a change after start is reported, and nothing came before it.
    client.set_data(&format!("{base}/b"), b"b1").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("updated", &format!("{base}/b"), b"b1")]
    );
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn post_initialized_event_follows_the_initial_additions() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("postinit");
    for name in ["b", "a"] {
        create(&client, &format!("{base}/{name}"), name.as_bytes()).await;
    }
    let cache = PathChildrenCache::builder(client.clone(), base.as_str())
        .start_mode(StartMode::PostInitializedEvent)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    let got = take(&mut events, 3).await;
    assert_eq!(
        got[..2].iter().map(Ev::summary).collect::<Vec<_>>(),
        [
            ev("added", &format!("{base}/a"), b"a"),
            ev("added", &format!("{base}/b"), b"b")
        ]
    );
    let Ev::Initialized(initial) = &got[2] else {
        panic!("expected Initialized, got {:?}", got[2])
    };
    let paths: Vec<_> = initial.iter().map(|d| d.path.clone()).collect();
    assert_eq!(paths, [format!("{base}/a"), format!("{base}/b")]);
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn a_missing_path_is_watched_until_it_appears_and_nothing_is_created() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("missing");
    // Built before start returns: the first read (which found nothing) is over.
    let cache = PathChildrenCache::builder(client.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert!(cache.current_data().is_empty());
    assert!(
        client.exists(&base).await.unwrap().is_none(),
        "the cache must not create its path"
    );

    create(&client, &format!("{base}/a"), b"a").await; // creates the parent, then the child
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/a"), b"a")]
    );

    // The parent goes away with its children, and comes back.
    client
        .delete(&base)
        .deleting_children_if_needed()
        .await
        .unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("removed", &format!("{base}/a"), b"a")]
    );
    create(&client, &format!("{base}/b"), b"b").await;
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("added", &format!("{base}/b"), b"b")]
    );
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn create_parents_creates_the_watched_path() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("ensure");
    let path = format!("{base}/deep/er");
    let cache = PathChildrenCache::builder(client.clone(), path.as_str())
        .create_parents(true)
        .start_mode(StartMode::BuildInitialCache)
        .build();
    cache.start().await.unwrap();
    assert!(client.exists(&path).await.unwrap().is_some());
    assert!(cache.current_data().is_empty());
    cache.close().await;
}

#[tokio::test]
async fn a_child_deleted_and_created_again_is_removed_then_added() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("recreate");
    create(&client, &format!("{base}/a"), b"one").await;
    let cache = PathChildrenCache::builder(client.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    client
        .transaction()
        .delete(format!("{base}/a"))
        .create(format!("{base}/a"), b"two")
        .await
        .unwrap();
    assert_eq!(
        next_summaries(&mut events, 2).await,
        [
            ev("removed", &format!("{base}/a"), b"one"),
            ev("added", &format!("{base}/a"), b"two")
        ]
    );
    assert_quiet_until_marker(&client, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn every_subscriber_sees_the_events_sent_after_it_subscribed() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("subscribers");
    create(&client, &base, b"").await;
    let cache = PathChildrenCache::builder(client.clone(), base.as_str()).build();
    let mut first = cache.events();
    cache.start().await.unwrap();
    create(&client, &format!("{base}/a"), b"a").await;
    assert_eq!(
        next_summaries(&mut first, 1).await,
        [ev("added", &format!("{base}/a"), b"a")]
    );
    let mut second = cache.events();
    create(&client, &format!("{base}/b"), b"b").await;
    let b = [ev("added", &format!("{base}/b"), b"b")];
    assert_eq!(next_summaries(&mut first, 1).await, b);
    assert_eq!(next_summaries(&mut second, 1).await, b);
    cache.close().await;
}

#[tokio::test]
async fn changes_made_while_disconnected_across_a_server_restart_are_reported_once() {
    let mut server = own_server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect_with(&proxy.connect_string(), Duration::from_secs(15)).await;
    let session = reader.session_id();
    let base = base("restart");
    for name in ["a", "b", "c"] {
        create(&writer, &format!("{base}/{name}"), b"0").await;
    }
    let cache = PathChildrenCache::builder(reader.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();

    // The reader is cut off, the server restarts, and the writer changes things.
    proxy.cut().await;
    assert_eq!(next_summaries(&mut events, 1).await, [conn("suspended")]);
    server.restart().await.unwrap();
    writer.set_data(&format!("{base}/a"), b"1").await.unwrap();
    writer.delete(&format!("{base}/b")).await.unwrap();
    create(&writer, &format!("{base}/d"), b"0").await;

    proxy.heal().await.unwrap();
    // The same session: the restored watches fire for each change, in the order the
    // server fires them, and each is reported once, after the reconnect.
    let mut seen = next_summaries(&mut events, 4).await;
    assert_eq!(seen.remove(0), conn("reconnected"));
    seen.sort();
    let mut want = vec![
        ev("removed", &format!("{base}/b"), b"0"),
        ev("updated", &format!("{base}/a"), b"1"),
        ev("added", &format!("{base}/d"), b"0"),
    ];
    want.sort();
    assert_eq!(seen, want);
    assert_eq!(
        reader.session_id(),
        session,
        "the session survived the restart"
    );
    assert_quiet_until_marker(&writer, &base, &mut events).await;
    cache.close().await;
}

#[tokio::test]
async fn after_session_expiry_the_cache_resyncs_with_exactly_the_differences() {
    let server = server().await;
    let writer = connect(&server.connect_string()).await;
    let proxy = proxy(server.addr()).await;
    let reader = connect(&proxy.connect_string()).await;
    let mut states = reader.connection_states();
    let base = base("expiry");
    create(&writer, &format!("{base}/p1"), b"1").await;
    create(&writer, &format!("{base}/p2"), b"2").await;
    create_ephemeral(&reader, &format!("{base}/mine"), b"e").await;
    let cache = PathChildrenCache::builder(reader.clone(), base.as_str())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(cache.current_data().len(), 3);

    // Cut off, the reader's session is expired by the server; meanwhile p2 changes.
    let old_session = reader.session_id();
    proxy.cut().await;
    assert_eq!(next_summaries(&mut events, 1).await, [conn("suspended")]);
    expire_session(&server.connect_string(), &reader).await;
    writer.set_data(&format!("{base}/p2"), b"2b").await.unwrap();
    proxy.heal().await.unwrap();

    assert_eq!(
        next_summaries(&mut events, 4).await,
        [
            conn("lost"),
            conn("reconnected"),
            ev("removed", &format!("{base}/mine"), b"e"),
            ev("updated", &format!("{base}/p2"), b"2b"),
        ]
    );
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    assert_ne!(reader.session_id(), old_session, "a new session");
    // Watches were set again on the new session.
    writer.set_data(&format!("{base}/p1"), b"1b").await.unwrap();
    assert_eq!(
        next_summaries(&mut events, 1).await,
        [ev("updated", &format!("{base}/p1"), b"1b")]
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
    let cache = PathChildrenCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert!(cache.is_running());
    cache.close().await;
    assert!(!cache.is_running(), "the task is gone when close returns");
    assert!(events.next().await.is_none(), "the stream ends at close");
    assert!(cache.events().next().await.is_none());

    // A live cache on the same path sees a change the closed one must not take in.
    let witness = PathChildrenCache::builder(client.clone(), base.as_str()).build();
    let mut witness_events = witness.events();
    witness.start().await.unwrap();
    create(&client, &format!("{base}/late"), b"").await;
    assert!(matches!(next(&mut witness_events).await, Ev::ChildAdded(_)));
    assert!(cache.current_data().is_empty());
    assert!(matches!(
        cache.start().await,
        Err(zk_recipes::cache::CacheError::Closed)
    ));
    witness.close().await;
}

#[tokio::test]
async fn dropping_the_cache_stops_its_task() {
    let server = server().await;
    let client = connect(&server.connect_string()).await;
    let base = base("drop");
    create(&client, &format!("{base}/a"), b"a").await;
    let cache = PathChildrenCache::builder(client.clone(), base.as_str()).build();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert!(matches!(next(&mut events).await, Ev::ChildAdded(_)));
    drop(cache);
    // The stream's senders live as long as the task: the stream ends once it is gone.
    let end = tokio::time::timeout(DEADLINE, events.next()).await;
    assert!(
        matches!(end, Ok(None)),
        "the task outlived its cache: {end:?}"
    );
}
