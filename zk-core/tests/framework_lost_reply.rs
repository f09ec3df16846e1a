//! Lost replies: a write reaches the server but its reply never reaches the client.
//! The proxy swallows replies until the client's read timeout drops the connection
//! (an ambiguous ConnectionLoss), then the link heals and the retry runs. Protection
//! and idempotency are what keep that retry from duplicating or failing the write.

mod framework_common;

use std::future::{Future, IntoFuture};
use std::time::Duration;

use framework_common::*;
use futures::StreamExt;
use zk_core::{
    Client, Code, ConnectionState::*, CreateMode, Disconnect, Error, Session, SessionConfig,
    SessionEvent, framework::PROTECTED_PREFIX,
};
use zk_retry::RetryNTimes;
use zk_testing::Proxy;

/// A client behind `proxy` whose retries outlast a read timeout and a reconnect.
async fn client_behind(proxy: &Proxy) -> Client {
    connect(
        builder(&proxy.connect_string())
            .retry_policy(RetryNTimes::new(5, Duration::from_millis(100))),
    )
    .await
}

/// Runs `op` on `client` while the proxy swallows replies. Once `reached` says the
/// request took effect on the server, waits for the client's own read timeout to
/// drop the connection (SUSPENDED), then heals the link so the retry can run.
/// Asserts that the connection was dropped by the read timeout.
async fn with_lost_reply<T>(
    proxy: &Proxy,
    client: &Client,
    op: impl Future<Output = T>,
    reached: impl Future<Output = ()>,
) -> T {
    let mut events = client.session().events();
    let mut states = States::of(client);
    proxy.drop_replies().await.expect("drop replies");
    let drive = async {
        within(SOON, "the request reaches the server", reached).await;
        states.expect(Suspended, SOON).await;
        // Close whatever connection attempt went through the proxy meanwhile (its
        // handshake reply was swallowed too), then let the client in again.
        proxy.cut().await;
        proxy.heal().await.expect("heal");
        states.expect(Reconnected, SOON).await;
    };
    let (result, ()) = tokio::join!(op, drive);
    states.expect_quiet(Duration::from_millis(200)).await;
    let first_drop = within(SOON, "the session's disconnect event", async {
        loop {
            match events.next().await {
                Some(SessionEvent::Disconnected(reason)) => return reason,
                Some(_) => {}
                None => panic!("the session ended"),
            }
        }
    })
    .await;
    assert!(
        matches!(first_drop, Disconnect::ReadTimeout(_)),
        "the connection was dropped by the client's read timeout, not {first_drop:?}"
    );
    result
}

/// Waits until `parent` has at least `n` children as `observer` sees it.
async fn children_reach(observer: &Client, parent: &str, n: usize) {
    loop {
        let (kids, _, changed) = observer
            .get_children(parent)
            .watched()
            .await
            .expect("children of the parent");
        if kids.len() >= n {
            return;
        }
        let _ = changed.await;
    }
}

#[tokio::test]
async fn protected_create_with_a_lost_reply_leaves_one_node_and_returns_it() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let parent = observer.create(&unique("protected"), b"").await.unwrap();

    let pattern = format!("{parent}/n-");
    let create = client
        .create(&pattern, b"x")
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .into_future();
    let created = with_lost_reply(
        &proxy,
        &client,
        create,
        children_reach(&observer, &parent, 1),
    )
    .await
    .expect("the protected create succeeds after the retry");

    let kids = observer.get_children(&parent).await.unwrap();
    assert_eq!(kids.len(), 1, "exactly one node: {kids:?}");
    assert_eq!(
        created,
        format!("{parent}/{}", kids[0]),
        "the caller gets that node"
    );
    assert!(kids[0].starts_with(PROTECTED_PREFIX) && kids[0].contains("-n-"));
    let stat = observer
        .exists(&created)
        .await
        .unwrap()
        .expect("node exists");
    assert_eq!(stat.ephemeral_owner, client.session_id());
}

#[tokio::test]
async fn unprotected_create_with_a_lost_reply_leaves_a_duplicate() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let parent = observer.create(&unique("unprotected"), b"").await.unwrap();

    let pattern = format!("{parent}/n-");
    let create = client
        .create(&pattern, b"x")
        .mode(CreateMode::EphemeralSequential)
        .into_future();
    let created = with_lost_reply(
        &proxy,
        &client,
        create,
        children_reach(&observer, &parent, 1),
    )
    .await
    .expect("the retried create succeeds");

    let mut kids = observer.get_children(&parent).await.unwrap();
    kids.sort();
    assert_eq!(
        kids.len(),
        2,
        "the lost attempt left a node and the retry made another: {kids:?}"
    );
    assert_eq!(
        created,
        format!("{parent}/{}", kids[1]),
        "the caller gets the second"
    );
}

#[tokio::test]
async fn idempotent_create_with_a_lost_reply_succeeds() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = unique("idempotent-create");

    let create = client.create(&path, b"v").idempotent().into_future();
    let reached = wait_exists(&observer, &path, SOON);
    let created = with_lost_reply(&proxy, &client, create, reached)
        .await
        .expect("the retry finds its own node and succeeds");
    assert_eq!(created, path);
}

#[tokio::test]
async fn plain_create_with_a_lost_reply_fails_with_node_exists() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = unique("plain-create");

    let create = client.create(&path, b"v").into_future();
    let reached = wait_exists(&observer, &path, SOON);
    let err = with_lost_reply(&proxy, &client, create, reached)
        .await
        .expect_err("the retry runs into the first attempt's node");
    assert!(
        matches!(
            err,
            Error::Server {
                code: Code::NodeExists,
                ..
            }
        ),
        "{err:?}"
    );
}

/// Waits until `path`'s data version is `version` as `observer` sees it.
async fn version_reaches(observer: &Client, path: &str, version: i32) {
    loop {
        let (_, stat, changed) = observer.get_data(path).watched().await.unwrap();
        if stat.version >= version {
            return;
        }
        let _ = changed.await;
    }
}

#[tokio::test]
async fn idempotent_versioned_set_with_a_lost_reply_succeeds() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = observer
        .create(&unique("idempotent-set"), b"v0")
        .await
        .unwrap();

    let set = client
        .set_data(&path, b"v1")
        .version(0)
        .idempotent()
        .into_future();
    let stat = with_lost_reply(&proxy, &client, set, version_reaches(&observer, &path, 1))
        .await
        .expect("the retry sees its own write and succeeds");
    assert_eq!(stat.version, 1);
    assert_eq!(observer.get_data(&path).await.unwrap().0.as_ref(), b"v1");
}

#[tokio::test]
async fn plain_versioned_set_with_a_lost_reply_fails_with_bad_version() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = observer.create(&unique("plain-set"), b"v0").await.unwrap();

    let set = client.set_data(&path, b"v1").version(0).into_future();
    let err = with_lost_reply(&proxy, &client, set, version_reaches(&observer, &path, 1))
        .await
        .expect_err("the retry runs into the first attempt's version");
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
}

/// The lost reply and then the session: the client gives its session up (LOST)
/// while the server still holds it, so the node of the first attempt belongs to a
/// session the client no longer has. The protected retry on the new session must
/// replace that node rather than return it (it would vanish with the old session).
#[tokio::test]
async fn protected_ephemeral_create_across_lost_replaces_the_old_sessions_node() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let parent = observer.create(&unique("across-lost"), b"").await.unwrap();
    let old = client.session();
    let mut states = States::of(&client);

    proxy.drop_replies().await.expect("drop replies");
    let pattern = format!("{parent}/n-");
    let create = client
        .create(&pattern, b"x")
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .into_future();
    let drive = async {
        within(
            SOON,
            "the request reaches the server",
            children_reach(&observer, &parent, 1),
        )
        .await;
        states.expect(Suspended, SOON).await;
        proxy.cut().await;
        // Someone else keeps the old session alive on the server.
        let mut keep = SessionConfig::new(
            server.connect_string().parse().unwrap(),
            old.negotiated_timeout(),
        );
        keep = keep.with_resume(old.session_id(), old.session_password());
        let keeper = Session::start(keep);
        keeper
            .wait_connected(SOON)
            .await
            .expect("keeper resumes the session");
        states.expect(Lost, SOON).await;
        proxy.heal().await.expect("heal");
        states.expect(Reconnected, SOON).await;
        keeper
    };
    let (created, keeper) = tokio::join!(create, drive);
    let created = created.expect("the protected create succeeds on the new session");

    let new = client.session_id();
    assert_ne!(new, old.session_id());
    let kids = observer.get_children(&parent).await.unwrap();
    assert_eq!(
        kids.len(),
        1,
        "the old session's node was replaced: {kids:?}"
    );
    assert_eq!(created, format!("{parent}/{}", kids[0]));
    let stat = observer.exists(&created).await.unwrap().expect("exists");
    assert_eq!(
        stat.ephemeral_owner, new,
        "owned by the client's current session"
    );
    assert!(
        keeper.state().is_connected(),
        "the old session was alive all along"
    );
    keeper.close().await;
    // The node belongs to the new session: closing the old one leaves it.
    observer.sync("/").await.unwrap();
    assert!(observer.exists(&created).await.unwrap().is_some());
}

/// A protected create whose retries run out after a lost reply fails, and a
/// background task removes the node its lost attempt made once it can.
#[tokio::test]
async fn a_protected_create_that_fails_for_good_removes_its_orphan() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client =
        connect(builder(&proxy.connect_string()).retry_policy(RetryNTimes::new(0, Duration::ZERO)))
            .await;
    let observer = framework_common::client(&server.connect_string()).await;
    let parent = observer.create(&unique("orphan"), b"").await.unwrap();

    let pattern = format!("{parent}/n-");
    let create = client
        .create(&pattern, b"x")
        .mode(CreateMode::PersistentSequential)
        .protected()
        .into_future();
    let err = with_lost_reply(
        &proxy,
        &client,
        create,
        children_reach(&observer, &parent, 1),
    )
    .await
    .expect_err("no retry allowed: the connection loss reaches the caller");
    assert!(
        matches!(err, Error::ConnectionLoss(Disconnect::ReadTimeout(_))),
        "{err:?}"
    );

    within(SOON, "the orphan is removed", async {
        loop {
            let (kids, _, changed) = observer.get_children(&parent).watched().await.unwrap();
            if kids.is_empty() {
                return;
            }
            let _ = changed.await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_protected_create_dropped_while_its_reply_is_lost_leaves_no_node() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = client_behind(&proxy).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let parent = unique("cancelled");
    observer.create(&parent, b"").await.unwrap();
    proxy.drop_replies().await.expect("drop replies");
    let path = format!("{parent}/n-");
    let create = client
        .create(&path, b"")
        .mode(CreateMode::PersistentSequential)
        .protected()
        .into_future();
    // The create reaches the server; then its caller gives up on it.
    let reached = children_reach(&observer, &parent, 1);
    tokio::select! {
        r = create => panic!("the create answered although its reply was swallowed: {r:?}"),
        () = within(SOON, "the create reaches the server", reached) => {}
    }
    let made = observer.get_children(&parent).await.unwrap();
    assert!(made[0].starts_with(PROTECTED_PREFIX), "{made:?}");
    proxy.cut().await;
    proxy.heal().await.expect("heal");
    // The dropped create's cleanup finds its node by the protection prefix.
    wait_gone(&observer, &format!("{parent}/{}", made[0]), SOON).await;
}
