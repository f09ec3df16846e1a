//! Digest authentication and chroot against a real server: NoAuth without
//! credentials, access with them, credentials kept across reconnects, and a chroot
//! that is added to every path sent and removed from every path received.

mod common;

use common::*;
use futures::StreamExt;
use zk_core::proto::digest_id;
use zk_core::proto::ops::ClientInfo;
use zk_core::{
    Acl, AddWatchMode, Code, CreateMode, Error, EventType, MultiOp, OpResult, SessionEvent,
    SessionState,
};
use zk_testing::Proxy;

fn is_code(r: &Result<impl std::fmt::Debug, Error>, want: Code) -> bool {
    matches!(r, Err(Error::Server { code, .. }) if *code == want)
}

#[tokio::test]
async fn a_digest_acl_refuses_strangers_admits_the_user_and_the_credentials_survive_a_reconnect() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let owner = connect(&server.connect_string()).await;
    owner.add_auth("digest", b"alice:secret").await.unwrap();
    let node = unique("digest");
    owner
        .create(
            &node,
            b"private",
            &[Acl::digest("alice", &digest_id("alice", "secret"))],
            CreateMode::Persistent,
        )
        .await
        .unwrap();
    // `auth` ACLs expand to the creator's identity.
    let by_creator = format!("{node}-creator");
    owner
        .create(
            &by_creator,
            b"",
            &[Acl::creator_all()],
            CreateMode::Persistent,
        )
        .await
        .unwrap();
    let (acl, _) = owner.get_acl(&by_creator).await.unwrap();
    assert_eq!(acl[0].id.id, digest_id("alice", "secret"));

    let (s, mut events) = start_with_events(config(&proxy.connect_string(), SESSION_TIMEOUT)).await;
    assert!(is_code(&s.get_data(&node).await, Code::NoAuth));
    assert!(is_code(&s.set_data(&node, b"x", None).await, Code::NoAuth));
    // A wrong password is accepted as an identity, just not this node's.
    s.add_auth("digest", b"alice:wrong").await.unwrap();
    assert!(is_code(&s.get_data(&node).await, Code::NoAuth));
    s.add_auth("digest", b"alice:secret").await.unwrap();
    assert_eq!(&s.get_data(&node).await.unwrap().0[..], b"private");
    let mut me = s.who_am_i().await.unwrap();
    // Both digest identities (right and wrong password) are for user alice.
    me.sort_by(|a, b| (&a.auth_scheme, &a.user).cmp(&(&b.auth_scheme, &b.user)));
    me.dedup();
    assert_eq!(
        me,
        vec![
            ClientInfo {
                auth_scheme: "digest".into(),
                user: "alice".into()
            },
            ClientInfo {
                auth_scheme: "ip".into(),
                user: "127.0.0.1".into()
            },
        ]
    );

    // Cut the connection; the session resumes on a new one, and its credentials
    // are sent again before anything else.
    proxy.cut().await;
    proxy.heal().await.expect("heal");
    let (_, skipped) = wait_event(&mut events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert!(
        skipped
            .iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_))),
        "the cut was seen: {skipped:?}"
    );
    s.set_data(&node, b"written after reconnect", None)
        .await
        .expect("the credentials are still in force");
    assert_eq!(
        &owner.get_data(&node).await.unwrap().0[..],
        b"written after reconnect"
    );
    s.close().await;
    owner.close().await;
}

#[tokio::test]
async fn credentials_in_the_config_are_sent_before_the_first_request() {
    let server = server().await;
    let owner = connect(&server.connect_string()).await;
    let node = unique("configured");
    owner.add_auth("digest", b"bob:pw").await.unwrap();
    owner
        .create(
            &node,
            b"b",
            &[Acl::digest("bob", &digest_id("bob", "pw"))],
            CreateMode::Persistent,
        )
        .await
        .unwrap();
    let mut cfg = config(&server.connect_string(), SESSION_TIMEOUT);
    cfg = cfg.with_auth("digest", b"bob:pw");
    let (s, _events) = start_with_events(cfg).await;
    assert_eq!(&s.get_data(&node).await.unwrap().0[..], b"b");
    s.close().await;
    owner.close().await;
}

#[tokio::test]
async fn credentials_the_server_refuses_end_the_session_with_auth_failed() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    // The server has no provider for this scheme: it answers AuthFailed and hangs up.
    let err = bounded("add_auth", s.add_auth("no-such-scheme", b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AuthFailed), "{err:?}");
    let (ev, _) = wait_event(&mut events, DEADLINE, "AuthFailed", |e| e.is_terminal()).await;
    assert!(matches!(ev, SessionEvent::AuthFailed), "{ev:?}");
    assert_eq!(s.state(), SessionState::AuthFailed);
    assert!(matches!(s.exists("/").await, Err(Error::AuthFailed)));
}

#[tokio::test]
async fn a_chroot_is_added_to_every_path_sent_and_removed_from_every_path_received() {
    let server = server().await;
    let root = connect(&server.connect_string()).await;
    let chroot = mk(&root, &unique("chroot"), b"top").await;
    let s = connect(&format!("{}{chroot}", server.connect_string())).await;
    assert_eq!(s.chroot(), Some(chroot.as_str()));

    // "/" is the chroot node itself.
    assert_eq!(&s.get_data("/").await.unwrap().0[..], b"top");

    let (p, _) = s
        .create("/a", b"1", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(p, "/a");
    let (seq, _) = s
        .create("/a/q-", b"", &open(), CreateMode::PersistentSequential)
        .await
        .unwrap();
    assert!(
        seq.starts_with("/a/q-") && seq.len() == "/a/q-".len() + 10,
        "{seq}"
    );
    assert_eq!(
        &root.get_data(&format!("{chroot}/a")).await.unwrap().0[..],
        b"1"
    );
    assert!(
        root.exists(&format!("{chroot}{seq}"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        root.exists("/a").await.unwrap().is_none(),
        "nothing outside the chroot"
    );
    assert_eq!(s.get_children("/").await.unwrap(), vec!["a".to_string()]);

    let (eph, _) = s
        .create("/e", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(eph, "/e");
    assert_eq!(s.get_ephemerals("/").await.unwrap(), vec!["/e".to_string()]);
    assert_eq!(s.get_all_children_number("/").await.unwrap(), 3);
    s.sync("/a").await.unwrap();

    // Watch events carry client paths.
    let (_, _, changed) = s.get_data_watched("/a").await.unwrap();
    let (_, created) = s.exists_watched("/b").await.unwrap();
    let mut tree = s
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    root.set_data(&format!("{chroot}/a"), b"2", None)
        .await
        .unwrap();
    mk(&root, &format!("{chroot}/b"), b"").await;
    let ev = bounded("data change", changed).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/a")
    );
    let ev = bounded("creation", created).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/b")
    );
    let mut seen = Vec::new();
    for _ in 0..2 {
        let ev = bounded("recursive events", tree.next()).await.unwrap();
        seen.push((ev.event_type, ev.path));
    }
    assert_eq!(
        seen,
        vec![
            (EventType::NodeDataChanged, "/a".to_string()),
            (EventType::NodeCreated, "/b".to_string())
        ]
    );

    // Transaction results are client paths too.
    let acl = open();
    let results = s
        .multi(&[
            MultiOp::Create {
                path: "/m",
                data: b"",
                acl: &acl,
                mode: CreateMode::Persistent,
            },
            MultiOp::Create {
                path: "/m/s-",
                data: b"",
                acl: &acl,
                mode: CreateMode::PersistentSequential,
            },
        ])
        .await
        .unwrap();
    assert_eq!(results[0], OpResult::Create { path: "/m".into() });
    match &results[1] {
        OpResult::Create { path } => assert!(path.starts_with("/m/s-"), "{path}"),
        other => panic!("expected Create, got {other:?}"),
    }
    // Error results of a failed transaction name no paths; the error does.
    let err = s.delete("/m", None).await.unwrap_err();
    assert!(
        matches!(&err, Error::Server { code: Code::NotEmpty, path: Some(p) } if p == "/m"),
        "{err:?}"
    );
    s.close().await;
    root.close().await;
}

#[tokio::test]
async fn a_chrooted_watch_is_reregistered_under_the_chroot_after_a_reconnect() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let root = connect(&server.connect_string()).await;
    let chroot = mk(&root, &unique("chroot-rereg"), b"").await;
    mk(&root, &format!("{chroot}/w"), b"").await;
    let (s, mut events) = start_with_events(config(
        &format!("{}{chroot}", proxy.connect_string()),
        SESSION_TIMEOUT,
    ))
    .await;
    let (_, _, changed) = s.get_data_watched("/w").await.unwrap();
    let (_, created) = s.exists_watched("/later").await.unwrap();

    proxy.cut().await;
    wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    root.set_data(&format!("{chroot}/w"), b"x", None)
        .await
        .unwrap();
    mk(&root, &format!("{chroot}/later"), b"").await;
    proxy.heal().await.expect("heal");

    let ev = bounded("the missed change", changed).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/w")
    );
    let ev = bounded("the missed creation", created).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/later")
    );
    s.close().await;
    root.close().await;
}
