//! Deletes: guaranteed (finished in the background after a connection loss),
//! quiet, versioned and recursive.

mod framework_common;

use std::time::Duration;

use framework_common::*;
use zk_core::{Code, ConnectionState::*, Error};
use zk_retry::RetryNTimes;
use zk_testing::Proxy;

#[tokio::test]
async fn guaranteed_delete_issued_while_cut_off_completes_after_heal() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = connect(
        builder(&proxy.connect_string())
            .connection_timeout(Duration::from_millis(300))
            .retry_policy(RetryNTimes::new(1, Duration::from_millis(20))),
    )
    .await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = client.create(&unique("guaranteed"), b"").await.unwrap();
    let mut states = States::of(&client);

    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    let err = client
        .delete(&path)
        .guaranteed()
        .await
        .expect_err("cut off: the caller gets the connection error");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        observer.exists(&path).await.unwrap().is_some(),
        "nothing reached the server yet"
    );

    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
    wait_gone(&observer, &path, SOON).await;
}

#[tokio::test]
async fn deleting_children_if_needed_removes_a_whole_tree() {
    let server = server().await;
    let client = framework_common::client(&server.connect_string()).await;
    let root = unique("tree");
    for p in ["/a/b/c", "/a/d", "/e"] {
        client
            .create(&format!("{root}{p}"), b"")
            .create_parents()
            .await
            .unwrap();
    }
    let err = client.delete(&root).await.expect_err("not empty");
    assert!(
        matches!(
            err,
            Error::Server {
                code: Code::NotEmpty,
                ..
            }
        ),
        "{err:?}"
    );

    client
        .delete(&root)
        .deleting_children_if_needed()
        .await
        .unwrap();
    assert!(client.exists(&root).await.unwrap().is_none());
}

#[tokio::test]
async fn quiet_delete_ignores_a_missing_node_and_versions_are_checked() {
    let server = server().await;
    let client = framework_common::client(&server.connect_string()).await;
    let missing = unique("missing");
    let err = client.delete(&missing).await.expect_err("no node");
    assert!(
        matches!(
            err,
            Error::Server {
                code: Code::NoNode,
                ..
            }
        ),
        "{err:?}"
    );
    client.delete(&missing).quietly().await.expect("quietly");

    let path = client.create(&unique("versioned"), b"").await.unwrap();
    client.set_data(&path, b"1").await.unwrap();
    let err = client
        .delete(&path)
        .version(0)
        .await
        .expect_err("stale version");
    assert!(
        matches!(
            err,
            Error::Server {
                code: Code::BadVersion,
                ..
            }
        ),
        "{err:?}"
    );
    client.delete(&path).version(1).await.unwrap();
    assert!(client.exists(&path).await.unwrap().is_none());
}

#[tokio::test]
async fn a_delete_in_the_background_returns_at_once_and_finishes_after_a_heal() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = connect(
        builder(&proxy.connect_string())
            .connection_timeout(Duration::from_millis(300))
            .retry_policy(RetryNTimes::new(1, Duration::from_millis(20))),
    )
    .await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = client.create(&unique("background"), b"").await.unwrap();
    let mut states = States::of(&client);
    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    // Called from synchronous code, while cut off.
    client.delete(&path).in_background().expect("a valid path");
    assert!(observer.exists(&path).await.unwrap().is_some());
    proxy.heal().await.expect("heal");
    wait_gone(&observer, &path, SOON).await;
    // A bad path is refused at once, and a missing node is fine.
    assert!(matches!(
        client.delete("no-slash").in_background(),
        Err(Error::InvalidPath(_))
    ));
    client.delete(&path).in_background().expect("a valid path");
}
