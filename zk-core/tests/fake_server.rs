//! A scripted fake server, for what a real ZooKeeper cannot be made to do: send an
//! oversized frame length, a frame too short for its header, a reply to a request
//! that is not the oldest in flight, a body that does not decode, or nothing at all.
//!
//! Each story: the session connects, one operation is answered wrongly, that
//! operation gets a typed error, the event stream says Disconnected with the same
//! reason, and the session resumes (same id and password) on a second connection
//! where the fake answers like a server would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use zk_core::proto::frame::{DEFAULT_MAX_FRAME_LEN, FrameError};
use zk_core::{
    ConnectString, Disconnect, Error, Session, SessionConfig, SessionEvent, SessionEvents,
};

/// The session id and password the fake hands out.
const SESSION_ID: i64 = 0x5eed_0000_0000_0001;
const PASSWORD: [u8; 16] = *b"fake-password-16";
/// The session timeout the fake grants: the client's read timeout is 2/3 of it.
const NEGOTIATED_MS: i32 = 1500;
/// The czxid the well-behaved fake puts in every stat, so replies are recognisable.
const CZXID: i64 = 4242;
/// Every wait in these tests is bounded by this.
const DEADLINE: Duration = Duration::from_secs(10);

const OP_EXISTS: i32 = 3;
const OP_CLOSE: i32 = -11;
const XID_PING: i32 = -2;

/// How the fake answers the first real request on its first connection.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// A length prefix far above the client's frame limit, on a reply header that
    /// answers no request in flight: the stream cannot be trusted.
    OversizeLength,
    /// A whole reply to the first request over the client's frame limit, with the
    /// right xid; the connection then behaves.
    OversizeReply,
    /// A length prefix below zero.
    NegativeLength,
    /// A whole frame too short to hold a reply header.
    TruncatedHeader,
    /// A reply whose xid is not the oldest request in flight (the second one's).
    OutOfOrderXid,
    /// A reply with an xid the client never used.
    UnknownXid,
    /// Nothing: no reply, no ping answers, until the client gives up.
    Stall,
    /// A reply with the right xid whose body is a truncated stat.
    MalformedBody,
    /// Normal answers, but closeSession gets no reply: the server hangs up instead.
    HangUpOnClose,
    /// The ConnectRequest is read and never answered.
    StallHandshake,
}

/// What the fake saw, for the test to check.
#[derive(Debug, Default)]
struct Seen {
    /// The (session id, password) of every ConnectRequest, in order.
    connects: Vec<(i64, Vec<u8>)>,
}

struct FakeServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Listens on loopback; the first connection misbehaves as told, later ones
    /// behave.
    async fn start(misbehaviour: Misbehaviour) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            let mut n = 0usize;
            // Bounded: a test never needs more than a handful of connections.
            while n < 16 {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                n += 1;
                let script = (n == 1).then_some(misbehaviour);
                tokio::spawn(serve(stream, script, seen2.clone()));
            }
        });
        FakeServer { addr, seen, task }
    }

    fn session(&self) -> (Session, SessionEvents) {
        let cs: ConnectString = self.addr.to_string().parse().expect("connect string");
        let mut config = SessionConfig::new(cs, Duration::from_millis(NEGOTIATED_MS as u64));
        config = config.with_close_timeout(Duration::from_millis(500));
        Session::start_with_events(config)
    }

    fn connects(&self) -> Vec<(i64, Vec<u8>)> {
        self.seen.lock().expect("fake state").connects.clone()
    }
}

async fn read_frame(stream: &mut TcpStream) -> Option<Bytes> {
    let len = stream.read_i32().await.ok()?;
    let mut body = vec![0u8; usize::try_from(len).ok()?];
    stream.read_exact(&mut body).await.ok()?;
    Some(body.into())
}

async fn write_frame(stream: &mut TcpStream, body: &[u8]) {
    let mut buf = BytesMut::with_capacity(body.len() + 4);
    buf.put_i32(body.len() as i32);
    buf.put_slice(body);
    let _ = stream.write_all(&buf).await;
}

fn reply_header(xid: i32, zxid: i64, err: i32) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_i32(xid);
    b.put_i64(zxid);
    b.put_i32(err);
    b
}

fn stat_bytes() -> BytesMut {
    let mut b = BytesMut::new();
    b.put_i64(CZXID); // czxid
    b.put_i64(CZXID); // mzxid
    b.put_i64(0); // ctime
    b.put_i64(0); // mtime
    b.put_i32(0); // version
    b.put_i32(0); // cversion
    b.put_i32(0); // aversion
    b.put_i64(0); // ephemeralOwner
    b.put_i32(0); // dataLength
    b.put_i32(0); // numChildren
    b.put_i64(CZXID); // pzxid
    b
}

/// Reads the ConnectRequest and answers it with the fake's session.
async fn handshake(stream: &mut TcpStream, seen: &Mutex<Seen>) -> Option<()> {
    let body = read_frame(stream).await?;
    let mut b = &body[..];
    let _protocol = read_i32(&mut b)?;
    let _last_zxid = read_i64(&mut b)?;
    let _timeout = read_i32(&mut b)?;
    let session_id = read_i64(&mut b)?;
    let pw_len = usize::try_from(read_i32(&mut b)?).ok()?;
    let passwd = b.get(..pw_len)?.to_vec();
    seen.lock().ok()?.connects.push((session_id, passwd));
    let mut resp = BytesMut::new();
    resp.put_i32(0); // protocolVersion
    resp.put_i32(NEGOTIATED_MS);
    resp.put_i64(SESSION_ID);
    resp.put_i32(PASSWORD.len() as i32);
    resp.put_slice(&PASSWORD);
    resp.put_u8(0); // readOnly
    write_frame(stream, &resp).await;
    Some(())
}

fn read_i32(b: &mut &[u8]) -> Option<i32> {
    let (head, rest) = b.split_first_chunk::<4>()?;
    *b = rest;
    Some(i32::from_be_bytes(*head))
}

fn read_i64(b: &mut &[u8]) -> Option<i64> {
    let (head, rest) = b.split_first_chunk::<8>()?;
    *b = rest;
    Some(i64::from_be_bytes(*head))
}

/// One connection: handshake, then either the misbehaviour on the first request or
/// normal answers (pings, exists with a recognisable stat, closeSession).
async fn serve(mut stream: TcpStream, script: Option<Misbehaviour>, seen: Arc<Mutex<Seen>>) {
    if matches!(script, Some(Misbehaviour::StallHandshake)) {
        if read_frame(&mut stream).await.is_some()
            && let Ok(mut seen) = seen.lock()
        {
            seen.connects.push((0, Vec::new()));
        }
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        return;
    }
    if handshake(&mut stream, &seen).await.is_none() {
        return;
    }
    let mut script = script;
    let mut held: Option<i32> = None;
    while let Some(frame) = read_frame(&mut stream).await {
        let mut b = &frame[..];
        let (Some(xid), Some(op)) = (read_i32(&mut b), read_i32(&mut b)) else {
            return;
        };
        if matches!(script, Some(Misbehaviour::HangUpOnClose)) && op != OP_CLOSE {
            answer(&mut stream, xid, op).await;
            continue;
        }
        if let Some(m) = script {
            if xid == XID_PING && !matches!(m, Misbehaviour::Stall) {
                write_frame(&mut stream, &reply_header(xid, 0, 0)).await;
                continue;
            }
            match m {
                Misbehaviour::OversizeLength => {
                    let _ = stream.write_all(&0x7fff_fff0_i32.to_be_bytes()).await;
                    let _ = stream.write_all(&reply_header(xid + 1000, 10, 0)).await;
                }
                Misbehaviour::OversizeReply => {
                    let mut r = reply_header(xid, 10, 0);
                    r.resize(DEFAULT_MAX_FRAME_LEN + 1000, 7);
                    write_frame(&mut stream, &r).await;
                    script = None;
                    continue;
                }
                Misbehaviour::NegativeLength => {
                    let _ = stream.write_all(&(-5_i32).to_be_bytes()).await;
                }
                Misbehaviour::TruncatedHeader => write_frame(&mut stream, &[0, 0, 0]).await,
                Misbehaviour::OutOfOrderXid => {
                    // Hold the first request; answer the second before it.
                    if held.is_none() {
                        held = Some(xid);
                        continue;
                    }
                    let mut r = reply_header(xid, 10, 0);
                    r.extend_from_slice(&stat_bytes());
                    write_frame(&mut stream, &r).await;
                }
                Misbehaviour::UnknownXid => {
                    let mut r = reply_header(xid + 1000, 10, 0);
                    r.extend_from_slice(&stat_bytes());
                    write_frame(&mut stream, &r).await;
                }
                Misbehaviour::Stall => continue,
                Misbehaviour::HangUpOnClose | Misbehaviour::StallHandshake => return,
                Misbehaviour::MalformedBody => {
                    let mut r = reply_header(xid, 10, 0);
                    r.extend_from_slice(&stat_bytes()[..20]);
                    write_frame(&mut stream, &r).await;
                    // Only the one reply is malformed; the connection then behaves.
                    script = None;
                    continue;
                }
            }
            // Keep the socket open and unread until the client drops it.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            return;
        }
        if !answer(&mut stream, xid, op).await {
            return;
        }
    }
}

/// Answers a request as a server would; false once the session is closed.
async fn answer(stream: &mut TcpStream, xid: i32, op: i32) -> bool {
    match op {
        OP_CLOSE => {
            write_frame(stream, &reply_header(xid, 11, 0)).await;
            return false;
        }
        OP_EXISTS => {
            let mut r = reply_header(xid, 10, 0);
            r.extend_from_slice(&stat_bytes());
            write_frame(stream, &r).await;
        }
        _ => write_frame(stream, &reply_header(xid, 0, 0)).await,
    }
    true
}

/// The next session event, within the deadline.
async fn next_event(events: &mut SessionEvents) -> SessionEvent {
    timeout(DEADLINE, events.next())
        .await
        .expect("a session event within the deadline")
        .expect("the event stream is still open")
}

/// Runs one misbehaviour story up to the failed operation, then checks the
/// Disconnected event carries `check`'s reason and that the session comes back on
/// the same session and answers an exists from the second connection.
async fn story(misbehaviour: Misbehaviour, check: impl Fn(&Disconnect) -> bool) {
    let fake = FakeServer::start(misbehaviour).await;
    let (session, mut events) = fake.session();
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    assert_eq!(session.session_id(), SESSION_ID);

    let err = timeout(DEADLINE, session.exists("/victim"))
        .await
        .expect("the failing operation ends within the deadline")
        .expect_err("the misbehaving reply fails the operation");
    match &err {
        Error::ConnectionLoss(reason) => assert!(check(reason), "unexpected reason {reason:?}"),
        other => panic!("expected ConnectionLoss, got {other:?}"),
    }
    match next_event(&mut events).await {
        SessionEvent::Disconnected(reason) => {
            assert!(check(&reason), "unexpected reason {reason:?}")
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    reconnected_on_same_session(&fake, &session).await;
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
}

/// The second connection resumed the fake's session and serves requests.
async fn reconnected_on_same_session(fake: &FakeServer, session: &Session) {
    let stat = timeout(DEADLINE, session.exists("/after"))
        .await
        .expect("answered within the deadline")
        .expect("the behaving connection answers")
        .expect("the fake says the node exists");
    assert_eq!(stat.czxid, CZXID);
    let connects = fake.connects();
    assert!(connects.len() >= 2, "{connects:?}");
    assert_eq!(
        connects[0],
        (0, Vec::new()),
        "the first connect asks for a new session"
    );
    assert_eq!(
        connects[1],
        (SESSION_ID, PASSWORD.to_vec()),
        "the reconnect resumes the session with its password"
    );
}

#[tokio::test]
async fn an_oversize_frame_length_drops_the_connection_with_a_frame_error_and_the_session_reconnects()
 {
    story(Misbehaviour::OversizeLength, |r| {
        matches!(
            r,
            Disconnect::Frame(FrameError::TooLarge {
                len: 0x7fff_fff0,
                max: DEFAULT_MAX_FRAME_LEN
            })
        )
    })
    .await;
}

/// A reply over the limit that answers the oldest request fails that request alone:
/// it is read past, and the same connection answers the next request.
#[tokio::test]
async fn an_oversize_reply_fails_its_request_and_the_connection_stays() {
    let fake = FakeServer::start(Misbehaviour::OversizeReply).await;
    let (session, mut events) = fake.session();
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    let err = timeout(DEADLINE, session.exists("/victim"))
        .await
        .expect("the failing operation ends within the deadline")
        .expect_err("the oversize reply fails the operation");
    assert!(
        matches!(err, Error::ReplyTooLarge { len, limit }
            if len == DEFAULT_MAX_FRAME_LEN + 1000 && limit == DEFAULT_MAX_FRAME_LEN),
        "got {err:?}"
    );
    let stat = timeout(DEADLINE, session.exists("/after"))
        .await
        .expect("answered within the deadline")
        .expect("the same connection answers")
        .expect("the fake says the node exists");
    assert_eq!(stat.czxid, CZXID);
    assert_eq!(fake.connects().len(), 1, "no reconnection");
    assert!(
        futures::FutureExt::now_or_never(events.next()).is_none(),
        "no Disconnected event"
    );
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
}

#[tokio::test]
async fn a_negative_frame_length_drops_the_connection_with_a_frame_error_and_the_session_reconnects()
 {
    story(Misbehaviour::NegativeLength, |r| {
        matches!(r, Disconnect::Frame(FrameError::NegativeLength(-5)))
    })
    .await;
}

#[tokio::test]
async fn a_frame_too_short_for_its_reply_header_is_a_decode_error_and_the_session_reconnects() {
    story(Misbehaviour::TruncatedHeader, |r| {
        matches!(r, Disconnect::Decode(_))
    })
    .await;
}

#[tokio::test]
async fn a_reply_with_an_unknown_xid_is_unexpected_and_the_session_reconnects() {
    story(
        Misbehaviour::UnknownXid,
        |r| matches!(r, Disconnect::UnexpectedXid { expected: Some(x), got } if *got == x + 1000),
    )
    .await;
}

#[tokio::test]
async fn a_server_that_stalls_is_dropped_at_the_read_timeout_and_the_session_reconnects() {
    let read_timeout = Duration::from_millis(NEGOTIATED_MS as u64) * 2 / 3;
    let started = tokio::time::Instant::now();
    story(
        Misbehaviour::Stall,
        |r| matches!(r, Disconnect::ReadTimeout(t) if *t == read_timeout),
    )
    .await;
    assert!(
        started.elapsed() >= read_timeout,
        "the connection was dropped before the read timeout"
    );
}

#[tokio::test]
async fn a_reply_out_of_xid_order_fails_every_request_in_flight_and_the_session_reconnects() {
    let fake = FakeServer::start(Misbehaviour::OutOfOrderXid).await;
    let (session, mut events) = fake.session();
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));

    let (a, b) = timeout(
        DEADLINE,
        futures::future::join(session.exists("/first"), session.exists("/second")),
    )
    .await
    .expect("both operations end within the deadline");
    let reason = match next_event(&mut events).await {
        SessionEvent::Disconnected(reason) => reason,
        other => panic!("expected Disconnected, got {other:?}"),
    };
    let Disconnect::UnexpectedXid {
        expected: Some(expected),
        got,
    } = reason
    else {
        panic!("expected UnexpectedXid, got {reason:?}");
    };
    assert_eq!(got, expected + 1, "the second request's reply came first");
    for r in [a, b] {
        assert!(
            matches!(
                r,
                Err(Error::ConnectionLoss(Disconnect::UnexpectedXid { .. }))
            ),
            "{r:?}"
        );
    }
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    reconnected_on_same_session(&fake, &session).await;
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
}

#[tokio::test]
async fn a_reply_body_that_does_not_decode_fails_only_its_operation_and_the_connection_stays() {
    let fake = FakeServer::start(Misbehaviour::MalformedBody).await;
    let (session, mut events) = fake.session();
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    let err = timeout(DEADLINE, session.exists("/bad"))
        .await
        .expect("answered within the deadline")
        .expect_err("a truncated stat is refused");
    assert!(matches!(err, Error::MalformedReply(_)), "{err:?}");
    // The framing was intact, so the same connection goes on serving.
    let stat = timeout(DEADLINE, session.exists("/good"))
        .await
        .expect("answered within the deadline")
        .expect("the connection still works")
        .expect("the node exists");
    assert_eq!(stat.czxid, CZXID);
    assert_eq!(fake.connects().len(), 1, "no reconnect was needed");
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::Closed
    ));
}

#[tokio::test]
async fn close_is_bounded_when_the_server_never_acknowledges_closesession() {
    let fake = FakeServer::start(Misbehaviour::Stall).await;
    let (session, mut events) = fake.session();
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    let started = tokio::time::Instant::now();
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
    // The configured close timeout is 500 ms; allow for scheduling.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::Closed
    ));
    assert!(matches!(session.exists("/x").await, Err(Error::Closed)));
}

#[tokio::test]
async fn a_connection_lost_while_closing_ends_the_close_without_reconnecting() {
    let fake = FakeServer::start(Misbehaviour::HangUpOnClose).await;
    let cs: ConnectString = fake.addr.to_string().parse().expect("connect string");
    let mut config = SessionConfig::new(cs, Duration::from_millis(NEGOTIATED_MS as u64));
    // Long enough that waiting it out would be plain to see.
    config = config.with_close_timeout(Duration::from_secs(5));
    let (session, mut events) = Session::start_with_events(config);
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    assert!(session.exists("/x").await.unwrap().is_some());

    let started = tokio::time::Instant::now();
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "close waited {:?} after the server hung up",
        started.elapsed()
    );
    assert_eq!(session.state(), zk_core::SessionState::Closed);
    let mut rest = Vec::new();
    while let Some(ev) = timeout(DEADLINE, events.next()).await.expect("stream ends") {
        rest.push(ev);
    }
    assert!(
        matches!(rest.last(), Some(SessionEvent::Closed)),
        "{rest:?}"
    );
    assert!(
        !rest
            .iter()
            .any(|e| matches!(e, SessionEvent::SyncConnected)),
        "no reconnect after the close: {rest:?}"
    );
    assert_eq!(fake.connects().len(), 1, "no second connection");
}

#[tokio::test]
async fn a_handshake_that_stalls_is_abandoned_at_the_connect_timeout_and_the_next_attempt_connects()
{
    let fake = FakeServer::start(Misbehaviour::StallHandshake).await;
    let started = tokio::time::Instant::now();
    let (session, mut events) = fake.session();
    // Issued before any connection is up: it waits for the attempt, which fails.
    let early = timeout(DEADLINE, session.exists("/early"))
        .await
        .expect("the early operation ends");
    assert!(
        matches!(
            early,
            Err(Error::ConnectionLoss(Disconnect::ConnectFailed(_)))
        ),
        "{early:?}"
    );
    // The first event is the connection made by the second attempt.
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    // One host: the connect timeout is the session timeout, capped at the read
    // timeout (two thirds of it).
    let connect_timeout = Duration::from_millis(NEGOTIATED_MS as u64 * 2 / 3);
    assert!(
        started.elapsed() >= connect_timeout,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(session.session_id(), SESSION_ID);
    assert_eq!(
        fake.connects(),
        vec![(0, Vec::new()), (0, Vec::new())],
        "both attempts asked for a new session"
    );
    let stat = timeout(DEADLINE, session.exists("/after"))
        .await
        .expect("answered")
        .expect("connected")
        .expect("exists");
    assert_eq!(stat.czxid, CZXID);
    timeout(DEADLINE, session.close())
        .await
        .expect("close is bounded");
}
