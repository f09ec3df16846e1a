//! PersistentNode on a real ZooKeeper: creation, re-creation after deletion and after
//! session expiry (once per loss), data updates, protected sequential names, leftovers
//! of other sessions, rival owners, and close.

mod support;

use std::time::Duration;

use support::*;
use zk_core::{ConnectionState, CreateMode};
use zk_recipes::{NodeError, PersistentNode};

const QUIET: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn ephemeral_node_is_created_and_close_deletes_it() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let node = PersistentNode::builder(client.clone(), "/pn/a/b")
        .mode(CreateMode::Ephemeral)
        .data(b"one".to_vec())
        .build()
        .expect("valid node");
    assert!(matches!(
        node.wait_for_initial_create(Duration::from_millis(10))
            .await,
        Err(NodeError::NotStarted)
    ));
    assert_eq!(node.actual_path(), None);

    node.start().expect("start");
    assert!(matches!(node.start(), Err(NodeError::AlreadyStarted)));
    assert!(
        node.wait_for_initial_create(DEADLINE)
            .await
            .expect("started")
    );
    assert_eq!(node.actual_path().as_deref(), Some("/pn/a/b"));

    let (data, stat) = observer.get_data("/pn/a/b").await.expect("node exists");
    assert_eq!(&data[..], b"one");
    assert_eq!(stat.ephemeral_owner, client.session_id());
    // Missing parents are containers, as in Curator.
    let (_, parent) = observer.get_data("/pn/a").await.expect("parent exists");
    assert_eq!(parent.ephemeral_owner, 0);

    node.close().await.expect("close");
    assert_eq!(
        stat_of(&observer, "/pn/a/b").await,
        None,
        "close deletes the node"
    );
    assert_eq!(node.actual_path(), None);
    assert!(matches!(node.start(), Err(NodeError::Closed)));
    node.close().await.expect("closing twice is fine");
}

#[tokio::test]
async fn deleted_node_is_created_again_exactly_once() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let mut counter = CreateCounter::start(&observer, "/pn").await;
    let node = PersistentNode::builder(client.clone(), "/pn/x")
        .mode(CreateMode::Ephemeral)
        .data(b"d".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    assert_eq!(counter.creates_of("/pn/x", Duration::ZERO).await, 1);
    let before = stat_of(&observer, "/pn/x").await.expect("created");

    observer.delete("/pn/x").await.expect("delete");
    let (_, after) = recreated("node re-created", &observer, "/pn/x", &before).await;
    assert_eq!(after.ephemeral_owner, client.session_id());
    assert_eq!(
        counter.creates_of("/pn/x", QUIET).await,
        1,
        "one create per deletion"
    );
    node.close().await.unwrap();
}

#[tokio::test]
async fn expired_session_node_is_created_again_exactly_once() {
    let server = fresh_chroot().await;
    let connect_string = server.connect_string();
    let client = connect(&connect_string).await;
    let observer = connect(&connect_string).await;
    let mut counter = CreateCounter::start(&observer, "/pn").await;
    let node = PersistentNode::builder(client.clone(), "/pn/e")
        .mode(CreateMode::Ephemeral)
        .data(b"e".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    assert_eq!(counter.creates_of("/pn/e", Duration::ZERO).await, 1);
    let before = stat_of(&observer, "/pn/e").await.unwrap();

    let mut states = client.connection_states();
    let old_session = expire_session(&connect_string, &client).await;
    wait_for_state(&mut states, ConnectionState::Lost).await;
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    let (_, after) = recreated(
        "node re-created on the new session",
        &observer,
        "/pn/e",
        &before,
    )
    .await;
    assert_ne!(after.ephemeral_owner, old_session);
    assert_eq!(after.ephemeral_owner, client.session_id());
    assert_eq!(
        counter.creates_of("/pn/e", QUIET).await,
        1,
        "one create per session loss"
    );
    assert_eq!(
        observer
            .get_children("/pn")
            .await
            .unwrap()
            .iter()
            .filter(|c| !c.starts_with("zz-"))
            .count(),
        1
    );
    node.close().await.unwrap();
}

#[tokio::test]
async fn set_data_updates_the_node_and_later_re_creations() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let node = PersistentNode::builder(client.clone(), "/pn/d")
        .mode(CreateMode::Ephemeral)
        .data(b"v1".to_vec())
        .build()
        .unwrap();
    // Data set before the first create is what the create writes.
    node.set_data(b"v2".to_vec()).await.unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    assert_eq!(&observer.get_data("/pn/d").await.unwrap().0[..], b"v2");

    node.set_data(b"v3".to_vec()).await.unwrap();
    assert_eq!(&node.get_data()[..], b"v3");
    assert_eq!(&observer.get_data("/pn/d").await.unwrap().0[..], b"v3");

    let before = stat_of(&observer, "/pn/d").await.unwrap();
    observer.delete("/pn/d").await.unwrap();
    let (data, _) = recreated(
        "re-created with the latest data",
        &observer,
        "/pn/d",
        &before,
    )
    .await;
    assert_eq!(&data[..], b"v3");
    node.close().await.unwrap();
}

#[tokio::test]
async fn protected_sequential_node_keeps_its_name_when_re_created() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let node = PersistentNode::builder(client.clone(), "/pn/seq/w-")
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .data(b"s".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    let path = node.actual_path().expect("named by the server");
    let name = path.strip_prefix("/pn/seq/").unwrap();
    assert!(name.starts_with("_c_"), "protected name: {name}");
    assert!(
        zk_core::path::sequence_of(name).is_some(),
        "sequential name: {name}"
    );
    let before = stat_of(&observer, &path).await.unwrap();

    observer.delete(&path).await.unwrap();
    let (_, after) = recreated("re-created under the same name", &observer, &path, &before).await;
    assert_eq!(after.ephemeral_owner, client.session_id());
    assert_eq!(node.actual_path().as_deref(), Some(path.as_str()));
    assert_eq!(
        observer.get_children("/pn/seq").await.unwrap(),
        vec![name.to_string()]
    );
    node.close().await.unwrap();
    assert!(observer.get_children("/pn/seq").await.unwrap().is_empty());
}

#[tokio::test]
async fn leftover_ephemeral_of_another_session_is_replaced() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    other
        .create("/pn/left", b"stale")
        .mode(CreateMode::Ephemeral)
        .create_parents()
        .await
        .unwrap();
    let node = PersistentNode::builder(client.clone(), "/pn/left")
        .mode(CreateMode::Ephemeral)
        .data(b"fresh".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    let (data, stat) = other.get_data("/pn/left").await.unwrap();
    assert_eq!(stat.ephemeral_owner, client.session_id());
    assert_eq!(&data[..], b"fresh");
    node.close().await.unwrap();
}

#[tokio::test]
async fn persistent_mode_adopts_an_existing_node() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    observer
        .create("/pn/p", b"old")
        .create_parents()
        .await
        .unwrap();
    let before = stat_of(&observer, "/pn/p").await.unwrap();
    let node = PersistentNode::builder(client.clone(), "/pn/p")
        .mode(CreateMode::Persistent)
        .data(b"new".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    let (data, stat) = observer.get_data("/pn/p").await.unwrap();
    assert_eq!(&data[..], b"new");
    assert_eq!(stat.czxid, before.czxid, "kept, not re-created");
    node.close().await.unwrap();
    assert_eq!(stat_of(&observer, "/pn/p").await, None);
}

#[tokio::test]
async fn rival_owners_of_one_path_settle_instead_of_fighting() {
    let server = fresh_chroot().await;
    let a = connect(&server.connect_string()).await;
    let b = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let mut counter = CreateCounter::start(&observer, "/pn").await;
    let first = PersistentNode::builder(a.clone(), "/pn/r")
        .mode(CreateMode::Ephemeral)
        .data(b"a".to_vec())
        .build()
        .unwrap();
    first.start().unwrap();
    assert!(first.wait_for_initial_create(DEADLINE).await.unwrap());
    let second = PersistentNode::builder(b.clone(), "/pn/r")
        .mode(CreateMode::Ephemeral)
        .data(b"b".to_vec())
        .build()
        .unwrap();
    second.start().unwrap();
    // One take-over each at most, then one side yields: a handful of creates, not a loop.
    let creates = counter.creates_of("/pn/r", Duration::from_secs(3)).await;
    assert!((1..=3).contains(&creates), "creates: {creates}");
    let settled = stat_of(&observer, "/pn/r")
        .await
        .expect("one of them holds it");
    assert_eq!(
        counter.creates_of("/pn/r", QUIET).await,
        0,
        "no more creates once settled"
    );
    assert_eq!(
        stat_of(&observer, "/pn/r").await.unwrap().czxid,
        settled.czxid
    );
    assert!(first.is_held() != second.is_held(), "exactly one holder");
    first.close().await.unwrap();
    second.close().await.unwrap();
}

#[tokio::test]
async fn server_paused_past_the_session_timeout_re_creates_once() {
    let mut server = own_server().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let node = PersistentNode::builder(client.clone(), "/pn/z")
        .mode(CreateMode::Ephemeral)
        .data(b"z".to_vec())
        .build()
        .unwrap();
    node.start().unwrap();
    assert!(node.wait_for_initial_create(DEADLINE).await.unwrap());
    let before = stat_of(&observer, "/pn/z").await.unwrap();

    let mut states = client.connection_states();
    server.pause().unwrap();
    // The client gives the session up itself once the session timeout passes while
    // suspended; the server (frozen) has not expired it yet.
    wait_for_state(&mut states, ConnectionState::Lost).await;
    server.resume().unwrap();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;

    let observer = connect(&server.connect_string()).await;
    let after = eventually("node re-created on the new session", || async {
        stat_of(&observer, "/pn/z")
            .await
            .filter(|s| s.czxid != before.czxid && s.ephemeral_owner == client.session_id())
    })
    .await;
    let mut counter = CreateCounter::start(&observer, "/pn").await;
    assert_eq!(
        counter.creates_of("/pn/z", QUIET).await,
        0,
        "no create after the re-creation"
    );
    assert_eq!(
        stat_of(&observer, "/pn/z").await.unwrap().czxid,
        after.czxid
    );
    node.close().await.unwrap();
}
