//! Namespaces: every path of a namespaced client lives under `/<namespace>`, the
//! namespace node appears on first use, and every path handed back (created paths,
//! transaction results, watch events, error paths) is a client path.

mod framework_common;

use framework_common::*;
use futures::StreamExt;
use zk_core::{AddWatchMode, Code, CreateMode, Error, EventType, OpResult};

#[tokio::test]
async fn namespaces_isolate_paths_and_a_plain_client_sees_them_under_the_prefix() {
    let server = server().await;
    let ns_a = unique("ns-a").trim_start_matches('/').to_string();
    let ns_b = format!("{}/deeper", unique("ns-b").trim_start_matches('/'));
    let a = connect(builder(&server.connect_string()).namespace(ns_a.clone())).await;
    let b = connect(builder(&server.connect_string()).namespace(ns_b.clone())).await;
    let plain = framework_common::client(&server.connect_string()).await;

    // Connected, but no operation yet: the namespace node does not exist.
    assert!(plain.exists(&format!("/{ns_a}")).await.unwrap().is_none());

    assert_eq!(a.create("/x", b"A").await.unwrap(), "/x");
    assert_eq!(b.create("/x", b"B").await.unwrap(), "/x");

    assert_eq!(
        plain
            .get_data(&format!("/{ns_a}/x"))
            .await
            .unwrap()
            .0
            .as_ref(),
        b"A"
    );
    assert_eq!(
        plain
            .get_data(&format!("/{ns_b}/x"))
            .await
            .unwrap()
            .0
            .as_ref(),
        b"B"
    );
    assert_eq!(a.get_data("/x").await.unwrap().0.as_ref(), b"A");
    assert_eq!(b.get_data("/x").await.unwrap().0.as_ref(), b"B");
    assert_eq!(a.get_children("/").await.unwrap(), vec!["x".to_string()]);
    assert!(a.exists(&format!("/{ns_b}")).await.unwrap().is_none());

    a.delete("/x").await.unwrap();
    assert!(plain.exists(&format!("/{ns_a}/x")).await.unwrap().is_none());
    assert!(plain.exists(&format!("/{ns_b}/x")).await.unwrap().is_some());
}

#[tokio::test]
async fn the_namespace_node_is_created_on_first_use_even_by_a_read() {
    let server = server().await;
    let ns = unique("ns-first").trim_start_matches('/').to_string();
    let client = connect(builder(&server.connect_string()).namespace(ns.clone())).await;
    let plain = client_of_plain(&server.connect_string()).await;
    assert!(plain.exists(&format!("/{ns}")).await.unwrap().is_none());

    assert!(client.exists("/nothing").await.unwrap().is_none());
    assert!(
        plain.exists(&format!("/{ns}")).await.unwrap().is_some(),
        "the first operation created the namespace node"
    );
}

async fn client_of_plain(connect_string: &str) -> zk_core::Client {
    client(connect_string).await
}

#[tokio::test]
async fn returned_paths_and_watch_paths_are_client_paths() {
    let server = server().await;
    let ns = unique("ns-paths").trim_start_matches('/').to_string();
    let c = connect(builder(&server.connect_string()).namespace(ns.clone())).await;
    let plain = framework_common::client(&server.connect_string()).await;

    // Sequential and protected creates, with parents.
    let seq = c
        .create("/q/item-", b"")
        .mode(CreateMode::PersistentSequential)
        .create_parents()
        .await
        .unwrap();
    assert!(seq.starts_with("/q/item-"), "{seq}");
    let protected = c
        .create("/q/p-", b"")
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .await
        .unwrap();
    assert!(protected.starts_with("/q/_c_"), "{protected}");
    assert!(
        plain
            .exists(&format!("/{ns}{protected}"))
            .await
            .unwrap()
            .is_some()
    );

    // Transaction results.
    let results = c
        .transaction()
        .create("/t", b"")
        .create_with_mode("/q/tx-", b"", CreateMode::PersistentSequential)
        .await
        .unwrap();
    let paths: Vec<&str> = results
        .iter()
        .filter_map(|r| match r {
            OpResult::Create { path } | OpResult::Create2 { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(paths.len(), 2, "{results:?}");
    assert_eq!(paths[0], "/t");
    assert!(paths[1].starts_with("/q/tx-"), "{}", paths[1]);

    // One-shot watches.
    let (_, _, data_changed) = c.get_data("/t").watched().await.unwrap();
    let (_, children_changed) = {
        let (kids, _, w) = c.get_children("/q").watched().await.unwrap();
        (kids, w)
    };
    let (_, created) = c.exists("/new").watched().await.unwrap();
    // On its own path: ZooKeeper 3.8 keeps one watch mode per connection and path, so
    // a recursive watch on /q would replace the child watch there.
    c.create("/r", b"").await.unwrap();
    let mut tree = c
        .watch("/r", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    plain.set_data(&format!("/{ns}/t"), b"1").await.unwrap();
    plain.create(&format!("/{ns}/q/z"), b"").await.unwrap();
    plain.create(&format!("/{ns}/new"), b"").await.unwrap();
    plain.create(&format!("/{ns}/r/z"), b"").await.unwrap();

    let ev = within(SOON, "data watch", data_changed).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/t")
    );
    let ev = within(SOON, "child watch", children_changed).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeChildrenChanged, "/q")
    );
    let ev = within(SOON, "exists watch", created).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/new")
    );
    let ev = within(SOON, "persistent watch", tree.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/r/z")
    );

    // Error paths.
    match c.get_data("/absent").await {
        Err(Error::Server {
            code: Code::NoNode,
            path,
        }) => {
            assert_eq!(path.as_deref(), Some("/absent"))
        }
        other => panic!("{other:?}"),
    }
}
