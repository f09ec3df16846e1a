//! Life across sessions: clones of a `Client` follow it onto its new session, and
//! watches of an ended session resolve to `SessionExpired` instead of hanging.

mod framework_common;

use std::time::Duration;

use framework_common::*;
use futures::StreamExt;
use zk_core::{AddWatchMode, Client, ConnectionState::*, CreateMode, Error};
use zk_testing::{Proxy, expire_session};

async fn expire(server: &zk_testing::TestingServer, client: &Client) {
    let s = client.session();
    expire_session(
        &server.connect_string(),
        s.session_id(),
        &s.session_password(),
    )
    .await
    .expect("session expired on purpose");
}

// On a multi-threaded runtime: clones are used from several worker threads at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_keep_working_across_a_new_session() {
    let server = server().await;
    let client = framework_common::client(&server.connect_string()).await;
    let before = client.clone();
    let mut states = States::of(&client);
    let old = client.session_id();
    let root = client.create(&unique("clones"), b"").await.unwrap();

    expire(&server, &client).await;
    states
        .expect_seq(&[Suspended, Lost, Reconnected], SOON)
        .await;
    let after = client.clone();

    assert_ne!(before.session_id(), old);
    assert_eq!(before.session_id(), client.session_id());
    assert_eq!(after.session_id(), client.session_id());

    // Several clones at once, on the new session.
    let clones = [
        client.clone(),
        before.clone(),
        after.clone(),
        before.clone(),
    ];
    let tasks: Vec<_> = clones
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let root = root.clone();
            tokio::spawn(async move {
                c.create(&format!("{root}/e{i}"), b"")
                    .mode(CreateMode::Ephemeral)
                    .await
                    .map(|p| (p, c.session_id()))
            })
        })
        .collect();
    for t in tasks {
        let (path, sid) = t
            .await
            .expect("task")
            .expect("an operation from a clone succeeds");
        let stat = before.exists(&path).await.unwrap().expect("created");
        assert_eq!(stat.ephemeral_owner, sid);
        assert_eq!(sid, client.session_id());
    }
    assert_eq!(after.get_children(&root).await.unwrap().len(), 4);
}

#[tokio::test]
async fn watched_reads_resolve_to_session_expired_when_the_server_expires_the_session() {
    let server = server().await;
    let client = framework_common::client(&server.connect_string()).await;
    let path = client.create(&unique("watched"), b"").await.unwrap();
    let (_, _, data) = client.get_data(&path).watched().await.unwrap();
    let (_, exists) = client.exists(&path).watched().await.unwrap();
    let (_, _, children) = client.get_children(&path).watched().await.unwrap();
    let mut persistent = client.watch(&path, AddWatchMode::Persistent).await.unwrap();

    expire(&server, &client).await;
    for (what, r) in [
        ("data", within(SOON, "data watch", data).await),
        ("exists", within(SOON, "exists watch", exists).await),
        ("children", within(SOON, "children watch", children).await),
    ] {
        assert!(
            matches!(r, Err(Error::SessionExpired)),
            "{what} watch: {r:?}"
        );
    }
    let r = within(SOON, "persistent watch", persistent.next()).await;
    assert!(matches!(r, Some(Err(Error::SessionExpired))), "{r:?}");
    assert!(
        persistent.next().await.is_none(),
        "the stream ends after the error"
    );

    // A new read on the client's new session sets a working watch again.
    let (_, _, again) = client.get_data(&path).watched().await.unwrap();
    client.set_data(&path, b"x").await.unwrap();
    within(SOON, "new watch", again)
        .await
        .expect("a data change");
}

/// When the client itself gives the session up (LOST after the session timeout
/// while suspended), watches of that session end the same way.
#[tokio::test]
async fn watched_reads_resolve_to_session_expired_when_the_client_declares_lost() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = framework_common::client(&proxy.connect_string()).await;
    let path = client.create(&unique("lost"), b"").await.unwrap();
    let mut states = States::of(&client);
    let (_, _, data) = client.get_data(&path).watched().await.unwrap();

    proxy.blackhole().await.expect("blackhole");
    states.expect(Suspended, SOON).await;
    states.expect(Lost, SOON).await;
    let r = within(Duration::from_secs(2), "watch after LOST", data).await;
    assert!(matches!(r, Err(Error::SessionExpired)), "{r:?}");
    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
}

#[tokio::test]
async fn watches_survive_a_reconnect_on_the_same_session() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = framework_common::client(&proxy.connect_string()).await;
    let observer = framework_common::client(&server.connect_string()).await;
    let path = client.create(&unique("kept"), b"").await.unwrap();
    let mut states = States::of(&client);
    let (_, _, data) = client.get_data(&path).watched().await.unwrap();

    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    observer
        .set_data(&path, b"changed while away")
        .await
        .unwrap();
    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
    let ev = within(SOON, "watch", data)
        .await
        .expect("the change, not an error");
    assert_eq!(ev.path, path);
}
