//! The operation builders on a real server: idempotent writes, parents and
//! container parents, transactions and their errors, and one-shot watches.

mod framework_common;

use framework_common::*;
use zk_core::{Code, CreateMode, Error, EventType, OpResult};

fn code_of<T: std::fmt::Debug>(r: Result<T, Error>) -> Code {
    match r {
        Err(e) => e.code().expect("a coded error"),
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
    }
}

#[tokio::test]
async fn idempotent_create_accepts_the_same_node_and_refuses_a_different_one() {
    let server = server().await;
    let client = framework_common::client(&server.connect_string()).await;
    let other = client_of(&server).await;
    let path = unique("idem");

    assert_eq!(
        client.create(&path, b"same").idempotent().await.unwrap(),
        path
    );
    assert_eq!(
        client.create(&path, b"same").idempotent().await.unwrap(),
        path
    );
    let (again, stat) = client
        .create(&path, b"same")
        .idempotent()
        .with_stat()
        .await
        .unwrap();
    assert_eq!((again.as_str(), stat.version), (path.as_str(), 0));
    assert_eq!(
        code_of(client.create(&path, b"same").await),
        Code::NodeExists
    );
    assert_eq!(
        code_of(client.create(&path, b"different").idempotent().await),
        Code::NodeExists
    );

    // An ephemeral node is only "ours" if our session owns it.
    let eph = unique("idem-eph");
    other
        .create(&eph, b"e")
        .mode(CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(
        code_of(
            client
                .create(&eph, b"e")
                .mode(CreateMode::Ephemeral)
                .idempotent()
                .await
        ),
        Code::NodeExists
    );
    assert!(matches!(
        client
            .create(&unique("s"), b"")
            .mode(CreateMode::PersistentSequential)
            .idempotent()
            .await,
        Err(Error::InvalidArgument(_))
    ));
}

async fn client_of(server: &zk_testing::TestingServer) -> zk_core::Client {
    client(&server.connect_string()).await
}

#[tokio::test]
async fn idempotent_set_accepts_exactly_the_write_it_would_have_made() {
    let server = server().await;
    let client = client_of(&server).await;
    let path = client.create(&unique("idem-set"), b"v0").await.unwrap();

    let stat = client.set_data(&path, b"v1").version(0).await.unwrap();
    assert_eq!(stat.version, 1);
    // The same write again, as a retry after a lost reply would send it.
    let again = client
        .set_data(&path, b"v1")
        .version(0)
        .idempotent()
        .await
        .expect("version one past and the same data: done already");
    assert_eq!(again.version, 1);
    assert_eq!(
        code_of(client.set_data(&path, b"v1").version(0).await),
        Code::BadVersion,
        "without idempotent() it is a BadVersion"
    );
    assert_eq!(
        code_of(
            client
                .set_data(&path, b"other")
                .version(0)
                .idempotent()
                .await
        ),
        Code::BadVersion,
        "different data is someone else's write"
    );
    client.set_data(&path, b"v2").await.unwrap();
    assert_eq!(
        code_of(client.set_data(&path, b"v2").version(0).idempotent().await),
        Code::BadVersion,
        "two versions past is not our write"
    );
}

#[tokio::test]
async fn create_parents_makes_persistent_parents_and_containers_when_asked() {
    // The server sweeps empty containers every 100 ms instead of every minute.
    let config = zk_testing::ServerConfig::builder()
        .tick_time(TICK)
        .session_timeouts(TICK * 2, std::time::Duration::from_secs(60))
        .system_property("znode.container.checkIntervalMs", "100")
        .build()
        .unwrap();
    let server = zk_testing::TestingServer::start_with(config).await.unwrap();
    let client = client_of(&server).await;
    let root = unique("parents");

    assert_eq!(
        code_of(client.create(&format!("{root}/a/b"), b"").await),
        Code::NoNode
    );
    let leaf = client
        .create(&format!("{root}/a/b"), b"leaf")
        .create_parents()
        .await
        .unwrap();
    assert_eq!(leaf, format!("{root}/a/b"));
    // Parents that exist already are fine.
    client
        .create(&format!("{root}/a/c"), b"")
        .create_parents()
        .await
        .unwrap();

    let croot = unique("containers");
    let cleaf = client
        .create(&format!("{croot}/x/y"), b"")
        .create_parent_containers()
        .await
        .unwrap();

    // Emptied, container parents are swept away by the server; persistent ones stay.
    client.delete(&leaf).await.unwrap();
    client.delete(&format!("{root}/a/c")).await.unwrap();
    client.delete(&cleaf).await.unwrap();
    wait_gone(&client, &croot, SOON).await;
    assert!(client.exists(&format!("{root}/a")).await.unwrap().is_some());
}

#[tokio::test]
async fn a_transaction_returns_one_result_per_operation_in_order() {
    let server = server().await;
    let client = client_of(&server).await;
    let root = client.create(&unique("tx"), b"").await.unwrap();
    client.create(&format!("{root}/old"), b"").await.unwrap();

    let results = client
        .transaction()
        .check(&root, 0)
        .create(format!("{root}/new"), b"n")
        .set_data(format!("{root}/new"), b"m")
        .delete(format!("{root}/old"))
        .await
        .unwrap();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(matches!(results[0], OpResult::Check));
    assert!(matches!(
        &results[1],
        OpResult::Create { path } | OpResult::Create2 { path, .. } if *path == format!("{root}/new")
    ));
    assert!(matches!(&results[2], OpResult::SetData { stat } if stat.version == 1));
    assert!(matches!(results[3], OpResult::Delete));
    assert_eq!(
        client
            .get_data(&format!("{root}/new"))
            .await
            .unwrap()
            .0
            .as_ref(),
        b"m"
    );
    assert!(
        client
            .exists(&format!("{root}/old"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_multi_read_answers_each_read_in_order_and_a_missing_node_alone_fails() {
    let server = server().await;
    let client = client_of(&server).await;
    let root = client.create(&unique("multiread"), b"top").await.unwrap();
    client.create(&format!("{root}/b"), b"bee").await.unwrap();
    client.create(&format!("{root}/a"), b"").await.unwrap();

    let results = client
        .multi_read()
        .get_data(format!("{root}/b"))
        .get_data(format!("{root}/missing"))
        .get_children(root.clone())
        .get_data(root.clone())
        .await
        .unwrap();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(
        matches!(&results[0], OpResult::GetData { data, stat } if data.as_ref() == b"bee" && stat.data_length == 3),
        "{:?}",
        results[0]
    );
    assert!(matches!(results[1], OpResult::Error { code: Code::NoNode }));
    match &results[2] {
        OpResult::GetChildren { children } => {
            let mut names = children.clone();
            names.sort();
            assert_eq!(names, ["a", "b"]);
        }
        other => panic!("expected the children, got {other:?}"),
    }
    assert!(matches!(&results[3], OpResult::GetData { data, .. } if data.as_ref() == b"top"));
    assert!(client.multi_read().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_transaction_applies_nothing_and_names_the_failing_operation() {
    let server = server().await;
    let client = client_of(&server).await;
    let root = client.create(&unique("txfail"), b"").await.unwrap();

    let err = client
        .transaction()
        .create(format!("{root}/a"), b"")
        .delete(format!("{root}/missing"))
        .create(format!("{root}/b"), b"")
        .await
        .expect_err("the delete fails");
    match err {
        Error::Transaction {
            index,
            code,
            results,
        } => {
            assert_eq!((index, code), (1, Code::NoNode));
            assert_eq!(results.len(), 3, "{results:?}");
            assert!(matches!(results[1], OpResult::Error { code: Code::NoNode }));
        }
        other => panic!("expected Error::Transaction, got {other:?}"),
    }
    assert!(
        client.get_children(&root).await.unwrap().is_empty(),
        "nothing applied"
    );
}

#[tokio::test]
async fn watched_reads_fire_once_on_the_change_they_watch() {
    let server = server().await;
    let client = client_of(&server).await;
    let writer = client_of(&server).await;
    let path = unique("watched");

    let (none, created) = client.exists(&path).watched().await.unwrap();
    assert!(none.is_none());
    writer.create(&path, b"0").await.unwrap();
    let ev = within(SOON, "exists watch", created).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, path.as_str())
    );

    let (data, stat, changed) = client.get_data(&path).watched().await.unwrap();
    assert_eq!((data.as_ref(), stat.version), (&b"0"[..], 0));
    let (kids, _, child_added) = client.get_children(&path).watched().await.unwrap();
    assert!(kids.is_empty());
    writer.set_data(&path, b"1").await.unwrap();
    writer.create(&format!("{path}/c"), b"").await.unwrap();
    let ev = within(SOON, "data watch", changed).await.unwrap();
    assert_eq!(ev.event_type, EventType::NodeDataChanged);
    let ev = within(SOON, "child watch", child_added).await.unwrap();
    assert_eq!(ev.event_type, EventType::NodeChildrenChanged);
}

#[tokio::test]
async fn watches_set_since_a_zxid_fire_for_what_changed_after_it_and_wait_for_the_rest() {
    use futures::FutureExt;
    let server = server().await;
    let client = client_of(&server).await;
    let writer = client_of(&server).await;
    let root = client.create(&unique("since"), b"").await.unwrap();
    let [a, b, c] = ["a", "b", "c"].map(|n| format!("{root}/{n}"));
    for p in [&a, &b, &c] {
        client.create(p, b"0").await.unwrap();
    }
    // What the client read (unwatched) is as of this zxid; then another client
    // changes one node and deletes another before the watches are set.
    client.multi_read().get_data(a.clone()).await.unwrap();
    let since = client.last_zxid();
    assert!(since > 0);
    writer.set_data(&b, b"1").await.unwrap();
    writer.delete(&c).await.unwrap();

    let watches = client
        .watch_data_since(&[a.clone(), b.clone(), c.clone()], since)
        .await
        .unwrap();
    let [mut wa, wb, wc]: [_; 3] = watches.try_into().expect("one watch per path");
    // The server fired the two at once, before it answered.
    let ev = within(SOON, "b's watch", wb).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, b.as_str())
    );
    let ev = within(SOON, "c's watch", wc).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDeleted, c.as_str())
    );
    assert!((&mut wa).now_or_never().is_none(), "a has not changed");
    writer.set_data(&a, b"1").await.unwrap();
    let ev = within(SOON, "a's watch", wa).await.unwrap();
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, a.as_str())
    );
    assert!(
        client
            .watch_data_since(&[], since)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn create_and_set_data_take_anything_that_reads_as_bytes() {
    let server = server().await;
    let client = client_of(&server).await;
    let text = unique("as-ref-text");
    client.create(&text, "hello").await.unwrap();
    let owned: Vec<u8> = b"owned".to_vec();
    let vec_path = unique("as-ref-vec");
    client.create(&vec_path, &owned).await.unwrap();
    client
        .set_data(&text, &bytes::Bytes::from_static(b"bytes"))
        .await
        .unwrap();
    assert_eq!(&client.get_data(&text).await.unwrap().0[..], b"bytes");
    assert_eq!(&client.get_data(&vec_path).await.unwrap().0[..], b"owned");
    client.close().await;
}
