//! Every request record sent to a real ZooKeeper 3.8 server, and every reply
//! decoded, over a plain blocking socket: proof that the bytes the proto module
//! writes are the bytes the server expects, and the other way round.
//!
//! The server is a zk-testing `TestingServer` (Debian's ZooKeeper on a loopback port)
//! with extended types on, for TTL nodes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use zk_core::proto::ops::*;
use zk_core::proto::*;
use zk_testing::{ServerConfig, TestingServer};

/// A standalone server started on a runtime of its own, so the test can stay on
/// blocking sockets. The runtime outlives the server (fields drop in order).
struct Server {
    server: TestingServer,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let config = ServerConfig::builder()
            .extended_types(true)
            .build()
            .expect("a valid server configuration");
        let server = runtime
            .block_on(TestingServer::start_with(config))
            .expect("ZooKeeper starts");
        Server {
            server,
            _runtime: runtime,
        }
    }

    fn port(&self) -> u16 {
        self.server.port()
    }
}

/// One session over a blocking socket.
struct Session {
    socket: TcpStream,
    xid: i32,
    /// The zxid of the latest reply.
    last_zxid: i64,
    events: Vec<WatcherEvent>,
    connect: ConnectResponse,
}

impl Session {
    fn open(port: u16) -> Session {
        let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        socket
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut session = Session {
            socket,
            xid: 0,
            last_zxid: 0,
            events: Vec::new(),
            connect: ConnectResponse {
                protocol_version: 0,
                timeout_ms: 0,
                session_id: 0,
                passwd: Bytes::new(),
                read_only: false,
            },
        };
        let mut buf = BytesMut::new();
        frame::write(
            &mut buf,
            &ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                timeout_ms: 30_000,
                session_id: 0,
                passwd: Bytes::from_static(&[0; 16]),
                read_only: false,
            },
        );
        session.socket.write_all(&buf).unwrap();
        let mut r = Reader::new(session.read_frame());
        session.connect = ConnectResponse::decode(&mut r).unwrap();
        assert_eq!(r.remaining(), 0);
        session
    }

    fn read_frame(&mut self) -> Bytes {
        let mut prefix = [0u8; 4];
        self.socket.read_exact(&mut prefix).unwrap();
        let len = frame::check(&prefix, frame::DEFAULT_MAX_FRAME_LEN)
            .map(|_| i32::from_be_bytes(prefix) as usize)
            .unwrap();
        let mut body = vec![0u8; len];
        self.socket.read_exact(&mut body).unwrap();
        Bytes::from(body)
    }

    /// Sends a record under `xid`/`op` and returns the matching reply, keeping
    /// notifications that arrive before it.
    fn exchange(&mut self, xid: i32, op: OpCode, record: &impl Encode) -> (ReplyHeader, Reader) {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, xid, op, record);
        self.socket.write_all(&buf).unwrap();
        for _ in 0..1000 {
            let mut r = Reader::new(self.read_frame());
            let header = ReplyHeader::decode(&mut r).unwrap();
            if header.xid == opcode::xid::NOTIFICATION {
                self.events.push(WatcherEvent::decode(&mut r).unwrap());
                continue;
            }
            assert_eq!(header.xid, xid, "replies come back in order");
            self.last_zxid = self.last_zxid.max(header.zxid);
            return (header, r);
        }
        panic!("no reply to {op:?} among 1000 notifications");
    }

    /// Sends a request; `Err(code)` for an error reply (which must have no body).
    fn call<R: Request>(&mut self, request: &R) -> Result<R::Response, Code> {
        self.xid += 1;
        let (header, mut r) = self.exchange(self.xid, R::OP, request);
        if header.err != 0 {
            assert_eq!(r.remaining(), 0, "{:?}: error reply with a body", R::OP);
            return Err(header.code());
        }
        let response = R::Response::decode(&mut r).unwrap();
        // addWatch replies carry a 4-byte ErrorResponse(0) the client drops.
        if R::OP == OpCode::AddWatch {
            assert_eq!(&r.into_rest()[..], &[0, 0, 0, 0]);
        } else {
            assert_eq!(r.remaining(), 0, "{:?}: bytes left after the reply", R::OP);
        }
        Ok(response)
    }
}

#[test]
fn every_request_record_is_understood_by_a_real_server() {
    let server = Server::start();
    let mut s = Session::open(server.port());
    assert!(s.connect.timeout_ms > 0);
    assert_ne!(s.connect.session_id, 0);
    assert_eq!(s.connect.passwd.len(), 16);
    assert!(!s.connect.read_only);

    // Auth, then an ACL for the same digest identity.
    let auth = AuthPacket {
        auth_type: 0,
        scheme: "digest".into(),
        auth: Bytes::from_static(b"bob:pw"),
    };
    let (h, _) = s.exchange(opcode::xid::AUTH, OpCode::Auth, &auth);
    assert_eq!(h.xid, opcode::xid::AUTH);
    assert_eq!(h.code(), Code::Ok);

    // Creates of every kind.
    let open = [Acl::open_unsafe()];
    let r = s
        .call(&Create2Request {
            path: "/w",
            data: b"hello",
            acl: &open,
            flags: CreateMode::Persistent.flag(),
        })
        .unwrap();
    assert_eq!((r.path.as_str(), r.stat.data_length), ("/w", 5));
    let r = s
        .call(&CreateRequest {
            path: "/w/seq-",
            data: b"",
            acl: &open,
            flags: CreateMode::EphemeralSequential.flag(),
        })
        .unwrap();
    assert_eq!(r.path, "/w/seq-0000000000");
    assert_eq!(path::sequence_of(path::node_name(&r.path)), Some(0));
    let exists_again = s.call(&CreateRequest {
        path: "/w",
        data: b"",
        acl: &open,
        flags: 0,
    });
    assert_eq!(exists_again.unwrap_err(), Code::NodeExists);
    let r = s
        .call(&CreateContainerRequest {
            path: "/c",
            data: b"",
            acl: &open,
            flags: CreateMode::Container.flag(),
        })
        .unwrap();
    assert_eq!(r.path, "/c");
    let r = s
        .call(&CreateTtlRequest {
            path: "/t",
            data: b"",
            acl: &open,
            flags: CreateMode::PersistentWithTtl.flag(),
            ttl: 60_000,
        })
        .unwrap();
    assert_eq!(r.path, "/t");

    // Reads with watches, then changes that fire them.
    let r = s
        .call(&GetDataRequest {
            path: "/w",
            watch: true,
        })
        .unwrap();
    assert_eq!((&r.data[..], r.stat.num_children), (&b"hello"[..], 1));
    let missing = s.call(&ExistsRequest {
        path: "/nope",
        watch: true,
    });
    assert_eq!(missing.unwrap_err(), Code::NoNode);
    assert_eq!(
        s.call(&ExistsRequest {
            path: "/w",
            watch: false
        })
        .unwrap()
        .stat
        .version,
        0
    );
    let r = s
        .call(&GetChildren2Request {
            path: "/w",
            watch: true,
        })
        .unwrap();
    assert_eq!(r.children, vec!["seq-0000000000"]);
    let r = s
        .call(&SetDataRequest {
            path: "/w",
            data: b"v2",
            version: 0,
        })
        .unwrap();
    assert_eq!(r.stat.version, 1);
    let stale = s.call(&SetDataRequest {
        path: "/w",
        data: b"v3",
        version: 0,
    });
    assert_eq!(stale.unwrap_err(), Code::BadVersion);
    assert!(s.events.contains(&WatcherEvent {
        event_type: EventType::NodeDataChanged,
        state: KeeperState::SyncConnected,
        path: "/w".into()
    }));
    let r = s
        .call(&GetChildrenRequest {
            path: "/",
            watch: false,
        })
        .unwrap();
    assert!(r.children.iter().any(|c| c == "w"));

    // ACLs: a digest ACL computed here matches the identity the server derives.
    let bob = [Acl::digest("bob", &digest_id("bob", "pw"))];
    s.call(&Create2Request {
        path: "/w/d",
        data: b"secret",
        acl: &bob,
        flags: 0,
    })
    .unwrap();
    s.call(&Create2Request {
        path: "/w/ca",
        data: b"",
        acl: &[Acl::creator_all()],
        flags: 0,
    })
    .unwrap();
    assert_eq!(s.call(&GetAclRequest { path: "/w/ca" }).unwrap().acl, bob);
    let both = [Acl::read_unsafe(), bob[0].clone()];
    let r = s
        .call(&SetAclRequest {
            path: "/w/d",
            acl: &both,
            version: 0,
        })
        .unwrap();
    assert_eq!(r.stat.aversion, 1);
    assert_eq!(s.call(&GetAclRequest { path: "/w/d" }).unwrap().acl, both);

    // A transaction that applies, with the result kinds a 3.8 server sends.
    let ops = [
        MultiOp::Check {
            path: "/w",
            version: 1,
        },
        MultiOp::Create {
            path: "/w/m",
            data: b"x",
            acl: &open,
            mode: CreateMode::Persistent,
        },
        MultiOp::Create2 {
            path: "/w/m2-",
            data: b"",
            acl: &open,
            mode: CreateMode::PersistentSequential,
        },
        MultiOp::Create {
            path: "/w/mc",
            data: b"",
            acl: &open,
            mode: CreateMode::Container,
        },
        MultiOp::CreateTtl {
            path: "/w/mt",
            data: b"",
            acl: &open,
            mode: CreateMode::PersistentWithTtl,
            ttl: 60_000,
        },
        MultiOp::SetData {
            path: "/w/m",
            data: b"y",
            version: 0,
        },
        MultiOp::Delete {
            path: "/w/m",
            version: -1,
        },
    ];
    check_multi_ops(&ops, false).unwrap();
    let r = s.call(&MultiRequest { ops: &ops }).unwrap();
    assert_eq!(r.results.len(), 7);
    assert_eq!(r.results[0], OpResult::Check);
    assert_eq!(
        r.results[1],
        OpResult::Create {
            path: "/w/m".into()
        }
    );
    assert!(matches!(&r.results[2], OpResult::Create { path } if path.starts_with("/w/m2-")));
    assert!(matches!(&r.results[3], OpResult::Create2 { path, .. } if path == "/w/mc"));
    assert!(matches!(&r.results[4], OpResult::Create2 { path, .. } if path == "/w/mt"));
    assert!(matches!(&r.results[5], OpResult::SetData { stat } if stat.version == 1));
    assert_eq!(r.results[6], OpResult::Delete);
    assert_eq!(r.first_error(), None);

    // A transaction that fails answers Ok in the header and the codes in the body.
    let failing = [
        MultiOp::Create {
            path: "/w/never",
            data: b"",
            acl: &open,
            mode: CreateMode::Persistent,
        },
        MultiOp::Check {
            path: "/w",
            version: 99,
        },
        MultiOp::Delete {
            path: "/w/d",
            version: -1,
        },
    ];
    let r = s.call(&MultiRequest { ops: &failing }).unwrap();
    assert_eq!(
        r.results,
        vec![
            OpResult::Error { code: Code::Ok },
            OpResult::Error {
                code: Code::BadVersion
            },
            OpResult::Error {
                code: Code::RuntimeInconsistency
            },
        ]
    );
    assert_eq!(r.first_error(), Some((1, Code::BadVersion)));
    assert_eq!(
        s.call(&ExistsRequest {
            path: "/w/never",
            watch: false
        })
        .unwrap_err(),
        Code::NoNode
    );

    // Reads in one batch, each failing on its own.
    let reads = [
        MultiOp::GetData { path: "/w" },
        MultiOp::GetChildren { path: "/w/d" },
        MultiOp::GetData { path: "/nope" },
    ];
    check_multi_ops(&reads, true).unwrap();
    let r = s.call(&MultiReadRequest { ops: &reads }).unwrap();
    assert!(matches!(&r.results[0], OpResult::GetData { data, .. } if &data[..] == b"v2"));
    assert_eq!(r.results[1], OpResult::GetChildren { children: vec![] });
    assert_eq!(r.results[2], OpResult::Error { code: Code::NoNode });

    // Watch management and re-registration.
    s.call(&AddWatchRequest {
        path: "/w",
        mode: AddWatchMode::PersistentRecursive,
    })
    .unwrap();
    s.call(&CheckWatchesRequest {
        path: "/w",
        watcher_type: WatcherType::Any,
    })
    .unwrap();
    let none = s.call(&CheckWatchesRequest {
        path: "/zzz",
        watcher_type: WatcherType::Data,
    });
    assert_eq!(none.unwrap_err(), Code::NoWatcher);
    // Watches re-registered as of the latest zxid stay set (nothing changed since).
    let all = SetWatches2 {
        relative_zxid: s.last_zxid,
        data_watches: vec!["/w".into()],
        exist_watches: vec!["/nope2".into()],
        child_watches: vec!["/w".into()],
        persistent_watches: vec!["/c".into()],
        persistent_recursive_watches: vec!["/w".into()],
    };
    for batch in all.into_batches(SET_WATCHES_MAX_LEN) {
        let (h, rest) = s.exchange(opcode::xid::SET_WATCHES, batch.op(), &batch);
        assert_eq!(
            (h.xid, h.code(), rest.remaining()),
            (opcode::xid::SET_WATCHES, Code::Ok, 0)
        );
    }
    let plain = SetWatches {
        relative_zxid: s.last_zxid,
        data_watches: vec!["/w/d".into()],
        ..SetWatches::default()
    };
    let (h, _) = s.exchange(opcode::xid::SET_WATCHES, OpCode::SetWatches, &plain);
    assert_eq!(h.code(), Code::Ok);
    s.call(&RemoveWatchesRequest {
        path: "/w/d",
        watcher_type: WatcherType::Data,
    })
    .unwrap();

    // Session queries.
    let who = s.call(&WhoAmIRequest).unwrap();
    assert!(who.client_info.contains(&ClientInfo {
        auth_scheme: "digest".into(),
        user: "bob".into()
    }));
    assert_eq!(
        s.call(&GetEphemeralsRequest { prefix_path: "/w" })
            .unwrap()
            .ephemerals,
        vec!["/w/seq-0000000000"]
    );
    let n = s.call(&GetAllChildrenNumberRequest { path: "/w" }).unwrap();
    assert_eq!(n.total, 6); // seq, d, ca, m2-..., mc, mt
    assert_eq!(s.call(&SyncRequest { path: "/w" }).unwrap().path, "/w");
    s.call(&DeleteRequest {
        path: "/w/ca",
        version: -1,
    })
    .unwrap();
    let (h, rest) = s.exchange(opcode::xid::PING, OpCode::Ping, &PingRequest);
    assert_eq!(
        (h.xid, h.code(), rest.remaining()),
        (opcode::xid::PING, Code::Ok, 0)
    );
    s.call(&CloseSessionRequest).unwrap();

    // A second session sees the ephemeral gone with the first.
    let mut other = Session::open(server.port());
    assert_eq!(
        other
            .call(&ExistsRequest {
                path: "/w/seq-0000000000",
                watch: false
            })
            .unwrap_err(),
        Code::NoNode
    );
}
