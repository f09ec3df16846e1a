//! Every operation of a `Session` against a real ZooKeeper server: results, the
//! errors the server gives (NoNode, NodeExists, BadVersion, NotEmpty,
//! NoChildrenForEphemerals, InvalidACL, NoAuth), containers and TTL nodes,
//! transactions, multiRead, ephemerals, whoAmI, and 10,000 pipelined requests.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use zk_core::proto::ops::ClientInfo;
use zk_core::{Acl, Code, CreateMode, Error, EventType, MultiOp, OpResult, Perms, Session};
use zk_testing::{RunningServer, ServerConfig, SharedServer, TestingServer};

/// The server these tests share: TTL nodes enabled and containers checked every 100 ms
/// (instead of every minute), so both are seen going away quickly.
static SERVER: SharedServer = SharedServer::with_config(ttl_and_fast_containers);

fn ttl_and_fast_containers() -> ServerConfig {
    ServerConfig::builder()
        .extended_types(true)
        .system_property("znode.container.checkIntervalMs", "100")
        .build()
        .expect("valid server config")
}

async fn server() -> &'static RunningServer {
    SERVER.get().await.expect("ZooKeeper starts")
}

/// Closes `s` and asserts that the session saw no disconnect (or any other event)
/// before it closed.
async fn close_with_no_disconnect_before(s: Session, events: &mut zk_core::SessionEvents) {
    s.close().await;
    let (_, skipped) = wait_event(events, DEADLINE, "Closed", |e| {
        matches!(e, zk_core::SessionEvent::Closed)
    })
    .await;
    assert!(skipped.is_empty(), "no disconnect happened: {skipped:?}");
}

#[tokio::test]
async fn node_lifecycle_gives_results_and_every_version_and_existence_error() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = unique("lifecycle");

    let (path, stat) = s
        .create(&base, b"v0", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(path, base);
    assert_eq!(
        (stat.version, stat.data_length, stat.num_children),
        (0, 2, 0)
    );
    assert!(!stat.is_ephemeral());

    let err = s
        .create(&base, b"", &open(), CreateMode::Persistent)
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NodeExists), "{err:?}");
    assert!(
        err.to_string().contains(&base),
        "the error names the path: {err}"
    );

    let err = s
        .create(
            &format!("{base}/no/parent"),
            b"",
            &open(),
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NoNode), "{err:?}");

    let (data, got) = s.get_data(&base).await.unwrap();
    assert_eq!(&data[..], b"v0");
    assert_eq!(got, stat);
    assert_eq!(s.exists(&base).await.unwrap(), Some(stat));

    let err = s.set_data(&base, b"v1", Some(7)).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::BadVersion), "{err:?}");
    let stat1 = s.set_data(&base, b"v1", Some(0)).await.unwrap();
    assert_eq!(stat1.version, 1);
    assert!(stat1.mzxid > stat.mzxid);
    let stat2 = s.set_data(&base, b"v2", None).await.unwrap();
    assert_eq!(stat2.version, 2);
    assert_eq!(&s.get_data(&base).await.unwrap().0[..], b"v2");

    let child = format!("{base}/child");
    mk(&s, &child, b"").await;
    let err = s.delete(&base, None).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::NotEmpty), "{err:?}");
    let err = s.delete(&child, Some(3)).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::BadVersion), "{err:?}");
    s.delete(&child, Some(0)).await.unwrap();
    s.delete(&base, Some(2)).await.unwrap();

    assert_eq!(s.exists(&base).await.unwrap(), None);
    for err in [
        s.get_data(&base).await.unwrap_err(),
        s.set_data(&base, b"", None).await.unwrap_err(),
        s.delete(&base, None).await.unwrap_err(),
        s.get_children(&base).await.unwrap_err(),
        s.get_acl(&base).await.unwrap_err(),
    ] {
        assert_eq!(server_code(&err), Some(Code::NoNode), "{err:?}");
        assert!(!err.is_retryable());
    }
    s.close().await;
}

#[tokio::test]
async fn children_sequential_and_ephemeral_nodes_behave_as_the_server_says() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("kids"), b"").await;

    let mut seq = Vec::new();
    for _ in 0..3 {
        let (p, _) = s
            .create(
                &format!("{base}/job-"),
                b"",
                &open(),
                CreateMode::PersistentSequential,
            )
            .await
            .unwrap();
        seq.push(p);
    }
    for (i, p) in seq.iter().enumerate() {
        let suffix = p
            .strip_prefix(&format!("{base}/job-"))
            .expect("prefix kept");
        assert_eq!(suffix.len(), 10, "ten-digit counter in {p}");
        assert_eq!(suffix.parse::<usize>().unwrap(), i, "{p}");
    }

    let (eph, eph_stat) = s
        .create(&format!("{base}/eph"), b"e", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(eph_stat.ephemeral_owner, s.session_id());
    let (eph_seq, _) = s
        .create(
            &format!("{base}/es-"),
            b"",
            &open(),
            CreateMode::EphemeralSequential,
        )
        .await
        .unwrap();
    let err = s
        .create(
            &format!("{eph}/child"),
            b"",
            &open(),
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert_eq!(
        server_code(&err),
        Some(Code::NoChildrenForEphemerals),
        "{err:?}"
    );

    let mut kids = s.get_children(&base).await.unwrap();
    kids.sort();
    let mut expected: Vec<String> = seq
        .iter()
        .chain([&eph, &eph_seq])
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(kids, expected);
    let (kids2, stat) = s.get_children2(&base).await.unwrap();
    assert_eq!(kids2.len(), 5);
    assert_eq!(stat.num_children, 5);
    assert_eq!(stat.cversion, 5);

    // Ephemerals of this session, under a prefix and in all.
    let mut mine = s.get_ephemerals(&base).await.unwrap();
    mine.sort();
    let mut want = vec![eph.clone(), eph_seq.clone()];
    want.sort();
    assert_eq!(mine, want);
    assert!(other.get_ephemerals("/").await.unwrap().is_empty());

    mk(&s, &format!("{}/deep", seq[0]), b"").await;
    mk(&s, &format!("{}/deep/deeper", seq[0]), b"").await;
    assert_eq!(s.get_all_children_number(&base).await.unwrap(), 7);
    assert_eq!(s.get_all_children_number(&seq[0]).await.unwrap(), 2);

    // The ephemerals go with the session: another client sees them gone at once.
    s.close().await;
    assert_eq!(other.exists(&eph).await.unwrap(), None);
    assert_eq!(other.exists(&eph_seq).await.unwrap(), None);
    assert!(other.exists(&seq[0]).await.unwrap().is_some());
    other.close().await;
}

#[tokio::test]
async fn containers_and_ttl_nodes_are_removed_by_the_server_when_due() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("ext"), b"").await;

    // A container goes once its last child is gone.
    let container = format!("{base}/container");
    let (p, _) = s
        .create(&container, b"", &open(), CreateMode::Container)
        .await
        .unwrap();
    assert_eq!(p, container);
    mk(&s, &format!("{container}/kid"), b"").await;
    let (_, _, gone) = s.get_data_watched(&container).await.unwrap();
    s.delete(&format!("{container}/kid"), None).await.unwrap();
    let ev = bounded("the container's removal", gone).await;
    assert_eq!(ev.event_type, EventType::NodeDeleted);
    assert_eq!(ev.path, container);

    // A TTL node goes once its time is up (and it has no children).
    let ttl = format!("{base}/ttl");
    let (p, stat) = s
        .create_ttl(
            &ttl,
            b"t",
            &open(),
            CreateMode::PersistentWithTtl,
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert_eq!(p, ttl);
    assert_eq!(stat.data_length, 1);
    let (_, _, gone) = s.get_data_watched(&ttl).await.unwrap();
    let ev = bounded("the TTL node's removal", gone).await;
    assert_eq!(ev.event_type, EventType::NodeDeleted);

    let (seq_ttl, _) = s
        .create_ttl(
            &format!("{base}/sttl-"),
            b"",
            &open(),
            CreateMode::PersistentSequentialWithTtl,
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    assert!(seq_ttl.starts_with(&format!("{base}/sttl-")) && seq_ttl.len() > base.len() + 6);

    // Misuse is refused before anything is sent.
    let bad_mode = s
        .create_ttl(
            &ttl,
            b"",
            &open(),
            CreateMode::Persistent,
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bad_mode, Error::InvalidArgument(_)),
        "{bad_mode:?}"
    );
    let zero = s
        .create_ttl(
            &ttl,
            b"",
            &open(),
            CreateMode::PersistentWithTtl,
            Duration::ZERO,
        )
        .await
        .unwrap_err();
    assert!(matches!(zero, Error::InvalidArgument(_)), "{zero:?}");
    let via_create = s
        .create(&ttl, b"", &open(), CreateMode::PersistentWithTtl)
        .await
        .unwrap_err();
    assert!(
        matches!(via_create, Error::InvalidArgument(_)),
        "{via_create:?}"
    );
    s.close().await;
}

#[tokio::test]
async fn ttl_nodes_are_refused_by_a_server_without_extended_types() {
    let server = TestingServer::start().await.expect("ZooKeeper starts");
    let s = connect(&server.connect_string()).await;
    let err = s
        .create_ttl(
            &unique("ttl"),
            b"",
            &open(),
            CreateMode::PersistentWithTtl,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::Unimplemented), "{err:?}");
    // The session is still good.
    assert!(s.exists("/").await.unwrap().is_some());
    s.close().await;
}

#[tokio::test]
async fn acls_are_read_written_versioned_and_enforced() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("acl"), b"").await;

    let (acl, stat) = s.get_acl(&base).await.unwrap();
    assert_eq!(acl, open());
    assert_eq!(stat.aversion, 0);

    let read_only = vec![Acl::read_unsafe()];
    let err = s.set_acl(&base, &read_only, Some(5)).await.unwrap_err();
    assert_eq!(server_code(&err), Some(Code::BadVersion), "{err:?}");
    let stat = s.set_acl(&base, &read_only, Some(0)).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!(s.get_acl(&base).await.unwrap().0, read_only);

    // Read-only for everyone: reads work, writes are NoAuth.
    assert!(s.get_data(&base).await.is_ok());
    for err in [
        s.set_data(&base, b"x", None).await.unwrap_err(),
        s.create(&format!("{base}/c"), b"", &open(), CreateMode::Persistent)
            .await
            .unwrap_err(),
        s.set_acl(&base, &open(), None).await.unwrap_err(),
    ] {
        assert_eq!(server_code(&err), Some(Code::NoAuth), "{err:?}");
    }

    // `auth` ACLs need an authenticated identity: without one the server says InvalidACL.
    let err = s
        .create(
            &format!("{}-creator", base),
            b"",
            &[Acl::creator_all()],
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::InvalidAcl), "{err:?}");
    // A malformed digest id is refused by the server too.
    let err = s
        .create(
            &format!("{}-bad", base),
            b"",
            &[Acl::new(Perms::ALL, zk_core::Id::new("digest", "no-colon"))],
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(&err), Some(Code::InvalidAcl), "{err:?}");
    // An empty ACL list is refused before sending, as a local error.
    let err = s
        .create(&format!("{}-empty", base), b"", &[], CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAcl(_)), "{err:?}");
    assert_eq!(err.code(), Some(Code::InvalidAcl), "{err:?}");
    let err = s.set_acl(&base, &[], None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidAcl(_)), "{err:?}");
    // An ACL too large for any request is named as the ACL, not as data.
    let huge: Vec<Acl> = (0..100_000)
        .map(|i| {
            Acl::new(
                Perms::READ,
                zk_core::Id::new("ip", format!("10.0.{}.{}", i / 256 % 256, i % 256)),
            )
        })
        .collect();
    let err = s
        .create(
            &format!("{}-huge", base),
            b"",
            &huge,
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AclTooLarge {
                entries: 100_000,
                ..
            }
        ),
        "{err:?}"
    );
    let err = s.set_acl(&base, &huge, None).await.unwrap_err();
    assert!(matches!(err, Error::AclTooLarge { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        s.exists(&base).await.unwrap().is_some(),
        "the session stays usable"
    );
    s.close().await;
}

#[tokio::test]
async fn who_am_i_and_sync_answer() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let me = s.who_am_i().await.unwrap();
    assert_eq!(
        me,
        vec![ClientInfo {
            auth_scheme: "ip".into(),
            user: "127.0.0.1".into()
        }]
    );
    let base = mk(&s, &unique("sync"), b"").await;
    s.sync(&base).await.unwrap();
    s.sync("/").await.unwrap();
    s.close().await;
}

#[tokio::test]
async fn a_transaction_applies_all_or_nothing_and_reports_every_result() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("multi"), b"").await;
    let a = format!("{base}/a");
    let b = format!("{base}/b");
    let seq = format!("{base}/s-");
    let container = format!("{base}/container");
    mk(&s, &b, b"b0").await;

    let acl = open();
    let results = s
        .multi(&[
            MultiOp::Create {
                path: &a,
                data: b"a",
                acl: &acl,
                mode: CreateMode::Persistent,
            },
            MultiOp::Create2 {
                path: &seq,
                data: b"",
                acl: &acl,
                mode: CreateMode::PersistentSequential,
            },
            MultiOp::Check {
                path: &b,
                version: 0,
            },
            MultiOp::SetData {
                path: &b,
                data: b"b1",
                version: 0,
            },
            MultiOp::Delete {
                path: &a,
                version: 0,
            },
            MultiOp::Create {
                path: &container,
                data: b"",
                acl: &acl,
                mode: CreateMode::Container,
            },
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0], OpResult::Create { path: a.clone() });
    // The server reads a create2 inside a transaction as a plain create.
    match &results[1] {
        OpResult::Create { path } => {
            assert!(
                path.starts_with(&seq) && path.len() == seq.len() + 10,
                "{path}"
            )
        }
        other => panic!("expected Create, got {other:?}"),
    }
    assert_eq!(results[2], OpResult::Check);
    match &results[3] {
        OpResult::SetData { stat } => assert_eq!(stat.version, 1),
        other => panic!("expected SetData, got {other:?}"),
    }
    assert_eq!(results[4], OpResult::Delete);
    // A container is created with createContainer, whose result has the stat.
    match &results[5] {
        OpResult::Create2 { path, stat } => {
            assert_eq!(path, &container);
            assert_eq!((stat.version, stat.data_length), (0, 0));
            // One transaction, one zxid: the same as the setData's.
            let OpResult::SetData { stat: set } = &results[3] else {
                unreachable!("checked above")
            };
            assert_eq!(stat.czxid, set.mzxid);
        }
        other => panic!("expected Create2, got {other:?}"),
    }
    assert_eq!(&s.get_data(&b).await.unwrap().0[..], b"b1");
    assert_eq!(s.exists(&a).await.unwrap(), None);

    // A failing check rolls everything back; the error carries every result.
    let c = format!("{base}/c");
    let err = s
        .multi(&[
            MultiOp::Create {
                path: &c,
                data: b"",
                acl: &acl,
                mode: CreateMode::Persistent,
            },
            MultiOp::Check {
                path: &b,
                version: 0,
            },
            MultiOp::Delete {
                path: &b,
                version: -1,
            },
        ])
        .await
        .unwrap_err();
    match &err {
        Error::Transaction {
            index,
            code,
            results,
        } => {
            assert_eq!((*index, *code), (1, Code::BadVersion));
            assert_eq!(
                results,
                &vec![
                    OpResult::Error { code: Code::Ok },
                    OpResult::Error {
                        code: Code::BadVersion
                    },
                    OpResult::Error {
                        code: Code::RuntimeInconsistency
                    },
                ]
            );
        }
        other => panic!("expected Transaction, got {other:?}"),
    }
    assert_eq!(err.code(), Some(Code::BadVersion));
    assert_eq!(s.exists(&c).await.unwrap(), None, "nothing was applied");
    assert!(s.exists(&b).await.unwrap().is_some(), "nothing was applied");

    // A missing node fails the transaction with NoNode at its index.
    let err = s
        .multi(&[MultiOp::SetData {
            path: &format!("{base}/missing"),
            data: b"",
            version: -1,
        }])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transaction {
                index: 0,
                code: Code::NoNode,
                ..
            }
        ),
        "{err:?}"
    );

    // An empty transaction succeeds with no results.
    assert!(s.multi(&[]).await.unwrap().is_empty());

    // Reads and writes cannot be mixed: refused before sending.
    let err = s
        .multi(&[
            MultiOp::GetData { path: &b },
            MultiOp::Delete {
                path: &b,
                version: -1,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert!(s.exists(&b).await.unwrap().is_some());
    s.close().await;
}

#[tokio::test]
async fn multi_read_answers_each_read_on_its_own() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("mread"), b"root").await;
    mk(&s, &format!("{base}/x"), b"").await;
    mk(&s, &format!("{base}/y"), b"").await;
    let missing = format!("{base}/missing");

    let results = s
        .multi_read(&[
            MultiOp::GetData { path: &base },
            MultiOp::GetChildren { path: &base },
            MultiOp::GetData { path: &missing },
            MultiOp::GetChildren { path: &missing },
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    match &results[0] {
        OpResult::GetData { data, stat } => {
            assert_eq!(&data[..], b"root");
            assert_eq!(stat.num_children, 2);
        }
        other => panic!("expected GetData, got {other:?}"),
    }
    match &results[1] {
        OpResult::GetChildren { children } => {
            let mut c = children.clone();
            c.sort();
            assert_eq!(c, vec!["x".to_string(), "y".to_string()]);
        }
        other => panic!("expected GetChildren, got {other:?}"),
    }
    assert_eq!(results[2], OpResult::Error { code: Code::NoNode });
    assert_eq!(results[3], OpResult::Error { code: Code::NoNode });

    let err = s
        .multi_read(&[MultiOp::Check {
            path: &base,
            version: 0,
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    s.close().await;
}

#[tokio::test]
async fn ten_thousand_pipelined_requests_are_all_answered_in_order() {
    let server = server().await;
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, &unique("pipe"), b"").await;

    // 10,000 reads in flight at once, each on its own task.
    let tasks: Vec<_> = (0..10_000)
        .map(|i| {
            let s: Session = s.clone();
            let path = if i % 2 == 0 {
                base.clone()
            } else {
                format!("{base}/absent-{i}")
            };
            tokio::spawn(async move { (i, s.exists(&path).await) })
        })
        .collect();
    let results = within(
        Duration::from_secs(60),
        "10,000 pipelined replies",
        futures::future::join_all(tasks),
    )
    .await;
    assert_eq!(results.len(), 10_000);
    for r in results {
        let (i, r) = r.expect("task did not panic");
        let stat = r.unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(stat.is_some(), i % 2 == 0, "request {i}");
    }

    // Writes issued back to back without waiting are applied in the order issued:
    // each one sees the version its predecessor left.
    let payloads: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let writes: Vec<_> = payloads
        .iter()
        .zip(0..)
        .map(|(data, version)| s.set_data(&base, data.as_bytes(), Some(version)))
        .collect();
    let stats = within(
        Duration::from_secs(60),
        "1,000 pipelined writes",
        futures::future::join_all(writes),
    )
    .await;
    for (i, st) in stats.into_iter().enumerate() {
        assert_eq!(st.unwrap().version, i as i32 + 1);
    }
    assert_eq!(&s.get_data(&base).await.unwrap().0[..], b"999");
    s.close().await;
}

#[tokio::test]
async fn invalid_paths_are_refused_before_sending_and_the_session_stays_usable() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let id = s.session_id();
    let bad = [
        "",
        "relative",
        "/trailing/",
        "//double",
        "/a//b",
        "/dot/.",
        "/dot/./x",
        "/dotdot/..",
        "/nul\u{0}",
        "/zookeeper\u{1}",
        "/bad\u{fff0}",
    ];
    let acl = open();
    for p in bad {
        let results = vec![
            s.create(p, b"", &acl, CreateMode::Persistent)
                .await
                .map(drop),
            s.delete(p, None).await,
            s.exists(p).await.map(drop),
            s.exists_watched(p).await.map(drop),
            s.get_data(p).await.map(drop),
            s.get_data_watched(p).await.map(drop),
            s.set_data(p, b"", None).await.map(drop),
            s.get_acl(p).await.map(drop),
            s.set_acl(p, &acl, None).await.map(drop),
            s.get_children(p).await.map(drop),
            s.get_children2(p).await.map(drop),
            s.get_children_watched(p).await.map(drop),
            s.sync(p).await,
            s.get_all_children_number(p).await.map(drop),
            s.add_watch(p, zk_core::AddWatchMode::Persistent)
                .await
                .map(drop),
            s.remove_watches(p, zk_core::WatcherType::Any).await,
            s.multi(&[MultiOp::Delete {
                path: p,
                version: -1,
            }])
            .await
            .map(drop),
            s.multi_read(&[MultiOp::GetData { path: p }])
                .await
                .map(drop),
        ];
        for (i, r) in results.into_iter().enumerate() {
            assert!(
                matches!(r, Err(Error::InvalidPath(_))),
                "operation {i} on {p:?}: {r:?}"
            );
        }
    }
    // A sequential create may end in '/', since the server appends the counter.
    let base = mk(&s, &unique("seqdir"), b"").await;
    let (p, _) = s
        .create(
            &format!("{base}/"),
            b"",
            &acl,
            CreateMode::PersistentSequential,
        )
        .await
        .unwrap();
    assert_eq!(p.len(), base.len() + 11, "{p}");

    // Nothing reached the server: same session, same connection, no event.
    assert_eq!(s.session_id(), id);
    assert!(s.state().is_connected());
    assert!(s.exists("/").await.unwrap().is_some());
    close_with_no_disconnect_before(s, &mut events).await;
}

#[tokio::test]
async fn oversize_data_is_refused_before_sending_and_the_session_stays_usable() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let base = mk(&s, &unique("big"), b"").await;
    let acl = open();

    let huge = vec![7u8; 2 * 1024 * 1024];
    let err = s.set_data(&base, &huge, None).await.unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let err = s
        .create(&format!("{base}/c"), &huge, &acl, CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    let err = s
        .multi(&[MultiOp::SetData {
            path: &base,
            data: &huge,
            version: -1,
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DataTooLarge { .. }), "{err:?}");
    // Each op small enough, the transaction together too large.
    let half = vec![1u8; 600 * 1024];
    let err = s
        .multi(&[
            MultiOp::SetData {
                path: &base,
                data: &half,
                version: -1,
            },
            MultiOp::SetData {
                path: &base,
                data: &half,
                version: -1,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RequestTooLarge { .. }), "{err:?}");

    // Data at every size up to the limit is accepted and reads back whole: whatever
    // the client accepts to write it can also read back.
    let Error::DataTooLarge { max, .. } = s.set_data(&base, &huge, None).await.unwrap_err() else {
        unreachable!("checked above")
    };
    for len in [max - 60, max] {
        let data = vec![3u8; len];
        s.set_data(&base, &data, None)
            .await
            .unwrap_or_else(|e| panic!("{len} bytes: {e}"));
        let (back, stat) = s
            .get_data(&base)
            .await
            .unwrap_or_else(|e| panic!("reading {len} bytes back: {e}"));
        assert_eq!(back.len(), len);
        assert_eq!(stat.data_length as usize, len);
    }
    let err = s
        .set_data(&base, &vec![0u8; max + 1], None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DataTooLarge { len, .. } if len == max + 1),
        "{err:?}"
    );

    assert!(s.state().is_connected());
    assert!(s.exists(&base).await.unwrap().is_some());
    close_with_no_disconnect_before(s, &mut events).await;
}

#[tokio::test]
async fn operations_after_close_fail_with_closed() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let clone = s.clone();
    s.close().await;
    assert!(matches!(
        next_event(&mut events).await,
        zk_core::SessionEvent::Closed
    ));
    assert!(events.next().await.is_none(), "Closed is the last event");
    assert_eq!(clone.state(), zk_core::SessionState::Closed);
    assert!(matches!(clone.exists("/").await, Err(Error::Closed)));
    assert!(matches!(
        clone.add_auth("digest", b"a:b").await,
        Err(Error::Closed)
    ));
    assert!(matches!(
        clone.wait_connected(DEADLINE).await,
        Err(Error::Closed)
    ));
    // Closing again is harmless and quick.
    bounded("a second close", clone.close()).await;
}
