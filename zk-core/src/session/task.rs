//! The task that owns a session's socket.
//!
//! It connects (trying hosts in turn), performs the handshake, re-sends credentials
//! and re-registers watches, then pipelines requests: each frame is written as it
//! arrives, many per flush, and replies are matched to requests in xid order. It
//! pings when idle, drops the connection when nothing arrives within the read
//! timeout, and ends every request and watch when the session ends. Handles talk to
//! it only through the command channel; when the last handle is gone it closes the
//! session and exits.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until, timeout};
use tracing::{debug, warn};

use crate::error::{Disconnect, Error};
use crate::proto::opcode::xid;
use crate::proto::path;
use crate::proto::{
    AuthPacket, Code, ConnectRequest, ConnectResponse, Decode, Encode, KeeperState, OpCode, Reader,
    ReplyHeader, RequestHeader, SetWatches, SetWatches2, WatcherEvent, frame,
};
use crate::session::call::Completer;
use crate::session::config::SessionConfig;
use crate::session::event::{SessionEvent, SessionState};
use crate::session::hosts::{self, HostRotation};
use crate::session::packet::{Command, OnReply, Packet, Reply, set_xid};
use crate::session::shared::Shared;
use crate::watch::registry::{WatchPaths, WatchRegistry};

/// SetWatches requests are split so that no batch's paths exceed this many bytes.
const SET_WATCHES_BATCH_BYTES: usize = 128 * 1024;
/// A ping is sent at least this often, whatever the timeout.
const MAX_PING_INTERVAL: Duration = Duration::from_secs(10);
/// Most commands taken from the channel before the buffer is written.
const MAX_COMMANDS_PER_WRITE: usize = 1024;

/// A request written to the socket and waiting for its reply.
struct Pending {
    xid: i32,
    op: OpCode,
    on_reply: OnReply,
    call: Completer,
}

/// How a session ends.
#[derive(Debug, Clone, Copy)]
enum Terminal {
    Expired,
    AuthFailed,
    Closed,
}

/// Why serving one connection stopped.
enum ConnectionEnd {
    Lost(Disconnect),
    Terminal(Terminal),
}

/// The session task's state.
pub(crate) struct SessionTask {
    config: Arc<SessionConfig>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    hosts: HostRotation,
    registry: WatchRegistry,
    auth: Vec<(String, Bytes)>,
    /// Commands received while no connection was up, sent once one is.
    queued: VecDeque<Command>,
    pending: VecDeque<Pending>,
    /// Callers of `add_auth` waiting for the server's answer, in order.
    auth_waiters: VecDeque<Option<oneshot::Sender<Result<(), Error>>>>,
    next_xid: i32,
    session_id: i64,
    password: Bytes,
    /// Whether a read-write server has accepted this session. Until one has, the
    /// session exists only on the read-only server that made it (a local session),
    /// and no other server can resume it.
    seen_rw_server: bool,
    negotiated: Option<Duration>,
    /// Whether the last failed attempt completed a round of every host: the next
    /// attempt then waits a full pause, not just the jitter.
    cycle_failed: bool,
    /// Set once a close was asked for: who to tell when it is done.
    closing: Option<Vec<oneshot::Sender<()>>>,
    /// How the session ends once closing is done: Closed, or Expired when abandoned.
    close_as: Terminal,
}

impl SessionTask {
    pub(super) fn new(
        config: Arc<SessionConfig>,
        shared: Arc<Shared>,
        rx: mpsc::UnboundedReceiver<Command>,
    ) -> Self {
        let (session_id, password) = config.resume.clone().unwrap_or((0, Bytes::new()));
        // A session to resume was made by a read-write server.
        let seen_rw_server = config.resume.is_some();
        SessionTask {
            hosts: HostRotation::new(config.connect_string.hosts.clone()),
            auth: config.auth.clone(),
            config,
            shared,
            rx,
            registry: WatchRegistry::default(),
            queued: VecDeque::new(),
            pending: VecDeque::new(),
            auth_waiters: VecDeque::new(),
            next_xid: 1,
            seen_rw_server,
            session_id,
            password,
            negotiated: None,
            closing: None,
            close_as: Terminal::Closed,
            cycle_failed: false,
        }
    }

    /// Runs the session until it expires, fails authentication or is closed.
    pub(super) async fn run(mut self) {
        let mut first = true;
        let terminal = loop {
            if !first {
                let pause = self.reconnect_pause();
                if let Some(t) = self.wait_taking_commands(pause).await {
                    break t;
                }
            }
            first = false;
            match self.connect().await {
                Ok(Ok(stream)) => {
                    self.hosts.connected();
                    match self.serve(stream).await {
                        ConnectionEnd::Lost(reason) => {
                            self.lost(reason);
                            // The closeSession in flight died with the connection, and
                            // nothing re-sends it: the close is over, as the Java client's.
                            if self.closing.is_some() {
                                break self.close_as;
                            }
                        }
                        ConnectionEnd::Terminal(t) => break t,
                    }
                }
                Ok(Err(ConnectionEnd::Terminal(t))) => break t,
                Ok(Err(ConnectionEnd::Lost(reason))) => {
                    debug!(%reason, "connection attempt failed");
                    // Requests queued while trying fail as the Java client fails them.
                    for cmd in self.queued.drain(..) {
                        cmd.fail(Error::ConnectionLoss(reason.clone()));
                    }
                    if self.closing.is_some() {
                        break self.close_as;
                    }
                }
                Err(t) => break t,
            }
        };
        self.finish(terminal);
    }

    /// How long to wait before the next attempt: a little jitter after a lost
    /// connection, so clients don't all come back at once, and a pause after every
    /// host has failed.
    fn reconnect_pause(&mut self) -> Duration {
        let cap = self
            .requested_timeout()
            .div_f64(6.0)
            .min(Duration::from_secs(1));
        let ms = cap.as_millis() as u64;
        let jitter = Duration::from_millis(if ms == 0 {
            0
        } else {
            rand::rng().random_range(0..ms)
        });
        if std::mem::take(&mut self.cycle_failed) {
            cap + jitter
        } else {
            jitter
        }
    }

    fn requested_timeout(&self) -> Duration {
        self.negotiated
            .unwrap_or_else(|| self.config.requested_timeout())
    }

    /// Waits `d` while queuing commands; returns a terminal state if closed meanwhile.
    async fn wait_taking_commands(&mut self, d: Duration) -> Option<Terminal> {
        let deadline = crate::time::deadline_in(d);
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => return None,
                cmd = self.rx.recv() => if let Some(t) = self.take_while_disconnected(cmd) {
                    return Some(t);
                },
            }
        }
    }

    /// Handles a command that arrives while there is no connection.
    fn take_while_disconnected(&mut self, cmd: Option<Command>) -> Option<Terminal> {
        match cmd {
            // Every handle is gone, or close() was called: there is no connection to
            // send closeSession on, so the session is left to the server to expire.
            None => Some(Terminal::Closed),
            Some(Command::Close { reply }) => {
                self.closing.get_or_insert_with(Vec::new).push(reply);
                Some(Terminal::Closed)
            }
            Some(Command::Abandon { reply }) => {
                self.closing.get_or_insert_with(Vec::new).push(reply);
                Some(Terminal::Expired)
            }
            Some(cmd) => {
                self.queued.push_back(cmd);
                None
            }
        }
    }

    /// One connection attempt: the next host, the TCP connect and the handshake, all
    /// within the connect timeout, while commands keep queuing.
    async fn connect(&mut self) -> Result<Result<TcpStream, ConnectionEnd>, Terminal> {
        let host = self.hosts.next_host();
        // The Java client's connect timeout (session timeout / hosts), capped at the read
        // timeout: a server that accepts a connection but never answers the handshake
        // (ZooKeeper opens its port before it has loaded its data) must not cost a lone
        // host's whole session.
        let connect_timeout = (self.requested_timeout() / self.hosts.len().max(1) as u32)
            .min(self.requested_timeout() * 2 / 3);
        // A session only a read-only server ever knew cannot be resumed elsewhere:
        // ask for a new one, as the Java client does.
        let (session_id, passwd) = if self.seen_rw_server {
            (self.session_id, self.password.clone())
        } else {
            (0, Bytes::new())
        };
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.shared.last_zxid(),
            // Within i32 milliseconds by construction.
            timeout_ms: i32::try_from(self.config.requested_timeout().as_millis())
                .unwrap_or(i32::MAX),
            session_id,
            passwd,
            read_only: self.config.can_be_read_only,
        };
        let max_frame = self.config.max_frame_len;
        debug!(%host, ?connect_timeout, "connecting");
        let attempt = async move {
            let addr = hosts::resolve(&host)
                .await
                .map_err(|e| Disconnect::ConnectFailed(format!("{host}: {e}")))?;
            let mut stream = TcpStream::connect(addr)
                .await
                .map_err(|e| Disconnect::ConnectFailed(format!("{addr}: {e}")))?;
            let _ = stream.set_nodelay(true);
            let mut buf = BytesMut::new();
            let at = frame::start(&mut buf);
            request.encode(&mut buf);
            frame::finish(&mut buf, at);
            stream.write_all(&buf).await.map_err(io)?;
            let body = read_one_frame(&mut stream, max_frame).await?;
            let resp = ConnectResponse::decode(&mut Reader::new(body))?;
            Ok::<_, Disconnect>((stream, resp))
        };
        let attempt = timeout(connect_timeout, attempt);
        tokio::pin!(attempt);
        let result = loop {
            tokio::select! {
                r = &mut attempt => break r,
                cmd = self.rx.recv() => if let Some(t) = self.take_while_disconnected(cmd) {
                    return Err(t);
                },
            }
        };
        let (stream, resp) = match result {
            Err(_) => {
                self.cycle_failed = self.hosts.failed();
                return Ok(Err(ConnectionEnd::Lost(Disconnect::ConnectFailed(
                    format!("no handshake within {connect_timeout:?}"),
                ))));
            }
            Ok(Err(reason)) => {
                self.cycle_failed = self.hosts.failed();
                return Ok(Err(ConnectionEnd::Lost(reason)));
            }
            Ok(Ok(ok)) => ok,
        };
        if resp.timeout_ms <= 0 {
            return Ok(Err(ConnectionEnd::Terminal(Terminal::Expired)));
        }
        let negotiated = Duration::from_millis(resp.timeout_ms as u64);
        self.session_id = resp.session_id;
        self.password = resp.passwd.clone();
        self.seen_rw_server |= !resp.read_only;
        self.negotiated = Some(negotiated);
        self.shared
            .set_session(resp.session_id, resp.passwd, negotiated);
        let state = if resp.read_only {
            SessionState::ConnectedReadOnly
        } else {
            SessionState::Connected
        };
        debug!(
            session_id = format_args!("{:#x}", resp.session_id),
            ?negotiated,
            ?state,
            "handshake done"
        );
        self.shared.set_state(state);
        self.shared.emit(if resp.read_only {
            SessionEvent::ConnectedReadOnly
        } else {
            SessionEvent::SyncConnected
        });
        Ok(Ok(stream))
    }

    /// Serves one established connection until it drops or the session ends.
    async fn serve(&mut self, stream: TcpStream) -> ConnectionEnd {
        let (mut rd, mut wr) = stream.into_split();
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        let read_timeout = self.requested_timeout() * 2 / 3;
        let ping_interval = (read_timeout / 2).min(MAX_PING_INTERVAL);
        self.prime(&mut wbuf);
        let queued: Vec<Command> = self.queued.drain(..).collect();
        for cmd in queued {
            if let Some(end) = self.take_command(cmd, &mut wbuf) {
                return end;
            }
        }
        let mut last_recv = Instant::now();
        let mut last_send = Instant::now();
        let mut close_deadline: Option<Instant> = None;
        // One timer for pings, the read timeout and the close timeout. It is not
        // moved on every send and receive (that would touch the timer wheel twice per
        // request): when it fires it checks what is really due and re-arms for the
        // next deadline. Sends and receives only push deadlines later, so it may fire
        // early but never late.
        let mut timer = std::pin::pin!(sleep_until(last_send + ping_interval.min(read_timeout)));
        loop {
            if self.closing.is_some() && close_deadline.is_none() {
                let d = crate::time::deadline_in(self.config.close_timeout);
                close_deadline = Some(d);
                if d < timer.deadline() {
                    timer.as_mut().reset(d);
                }
            }
            tokio::select! {
                biased;
                r = rd.read_buf(&mut rbuf) => match r {
                    Ok(0) => return ConnectionEnd::Lost(Disconnect::Eof),
                    Ok(_) => {
                        last_recv = Instant::now();
                        if let Some(end) = self.read_frames(&mut rbuf) {
                            return end;
                        }
                    }
                    Err(e) => return ConnectionEnd::Lost(io(e)),
                },
                r = write_some(&mut wr, &mut wbuf), if !wbuf.is_empty() => match r {
                    Ok(()) => last_send = Instant::now(),
                    Err(e) => return ConnectionEnd::Lost(io(e)),
                },
                cmd = self.rx.recv(), if self.closing.is_none() => {
                    let Some(cmd) = cmd else {
                        // Every handle is gone: close the session on the way out.
                        self.start_close(None, &mut wbuf);
                        continue;
                    };
                    if let Some(end) = self.take_command(cmd, &mut wbuf) {
                        return end;
                    }
                    // Batch whatever else is already waiting into the same write.
                    for _ in 0..MAX_COMMANDS_PER_WRITE {
                        match self.rx.try_recv() {
                            Ok(cmd) => if let Some(end) = self.take_command(cmd, &mut wbuf) {
                                return end;
                            },
                            Err(_) => break,
                        }
                        if self.closing.is_some() {
                            break;
                        }
                    }
                },
                () = &mut timer => {
                    let now = Instant::now();
                    if close_deadline.is_some_and(|d| now >= d) {
                        debug!("closeSession not acknowledged in time");
                        return ConnectionEnd::Terminal(self.close_as);
                    }
                    if now >= last_recv + read_timeout {
                        return ConnectionEnd::Lost(Disconnect::ReadTimeout(read_timeout));
                    }
                    let mut next_ping = last_send + ping_interval;
                    if now >= next_ping {
                        if wbuf.is_empty() {
                            RequestHeader { xid: xid::PING, op: OpCode::Ping }.encode_framed(&mut wbuf);
                        }
                        // Bytes are waiting to go out; once written, they move
                        // `last_send` and the next check sees the real due time.
                        next_ping = now + ping_interval;
                    }
                    let mut next = next_ping.min(last_recv + read_timeout);
                    if let Some(d) = close_deadline {
                        next = next.min(d);
                    }
                    timer.as_mut().reset(next);
                },
            }
        }
    }

    /// Writes what every new connection sends before anything else: credentials,
    /// then the watches to re-register.
    fn prime(&mut self, wbuf: &mut BytesMut) {
        for (scheme, auth) in &self.auth {
            let packet = AuthPacket {
                auth_type: 0,
                scheme: scheme.clone(),
                auth: auth.clone(),
            };
            write_framed(wbuf, xid::AUTH, OpCode::Auth, &packet);
            self.auth_waiters.push_back(None);
        }
        let live = self.registry.live_paths();
        if live.is_empty() {
            return;
        }
        let relative_zxid = self.shared.last_zxid();
        let chroot = self.config.connect_string.chroot.as_deref();
        for batch in set_watches_batches(&live, chroot) {
            if batch.persistent.is_empty() && batch.recursive.is_empty() {
                let sw = SetWatches {
                    relative_zxid,
                    data_watches: batch.data,
                    exist_watches: batch.exist,
                    child_watches: batch.child,
                };
                write_framed(wbuf, xid::SET_WATCHES, OpCode::SetWatches, &sw);
            } else {
                let sw = SetWatches2 {
                    relative_zxid,
                    data_watches: batch.data,
                    exist_watches: batch.exist,
                    child_watches: batch.child,
                    persistent_watches: batch.persistent,
                    persistent_recursive_watches: batch.recursive,
                };
                write_framed(wbuf, xid::SET_WATCHES, OpCode::SetWatches2, &sw);
            }
        }
    }

    /// Puts one command on the wire.
    fn take_command(&mut self, cmd: Command, wbuf: &mut BytesMut) -> Option<ConnectionEnd> {
        match cmd {
            Command::Request(packet) => self.send_packet(packet, wbuf),
            Command::Auth {
                scheme,
                auth,
                reply,
            } => {
                let packet = AuthPacket {
                    auth_type: 0,
                    scheme: scheme.clone(),
                    auth: auth.clone(),
                };
                write_framed(wbuf, xid::AUTH, OpCode::Auth, &packet);
                self.auth.push((scheme, auth));
                self.auth_waiters.push_back(Some(reply));
            }
            Command::Close { reply } => self.start_close(Some(reply), wbuf),
            Command::Abandon { reply } => {
                self.close_as = Terminal::Expired;
                self.start_close(Some(reply), wbuf);
            }
            #[cfg(test)]
            Command::Crash => panic!("a test asked the session task to panic"),
        }
        None
    }

    fn send_packet(&mut self, packet: Packet, wbuf: &mut BytesMut) {
        let xid = self.next_xid;
        self.next_xid = if self.next_xid == i32::MAX {
            1
        } else {
            self.next_xid + 1
        };
        let at = wbuf.len();
        wbuf.extend_from_slice(packet.call.frame());
        set_xid(&mut wbuf[at..], xid);
        self.pending.push_back(Pending {
            xid,
            op: packet.op,
            on_reply: packet.on_reply,
            call: packet.call,
        });
    }

    /// Sends closeSession; the session ends when its reply arrives or the close
    /// timeout passes.
    fn start_close(&mut self, reply: Option<oneshot::Sender<()>>, wbuf: &mut BytesMut) {
        let first = self.closing.is_none();
        let waiters = self.closing.get_or_insert_with(Vec::new);
        waiters.extend(reply);
        if first {
            let (call, _reply) = crate::session::packet::encode_request(OpCode::CloseSession, &());
            self.send_packet(
                Packet {
                    call,
                    op: OpCode::CloseSession,
                    on_reply: OnReply::Nothing,
                },
                wbuf,
            );
        }
    }

    /// Handles every whole frame in `rbuf`.
    fn read_frames(&mut self, rbuf: &mut BytesMut) -> Option<ConnectionEnd> {
        loop {
            let len = match frame::check(rbuf, self.config.max_frame_len) {
                Ok(Some(len)) => len,
                Ok(None) => return None,
                Err(e) => return Some(ConnectionEnd::Lost(Disconnect::Frame(e))),
            };
            rbuf.advance(frame::LENGTH_PREFIX);
            let body = rbuf.split_to(len).freeze();
            if let Err(end) = self.handle_frame(body) {
                return Some(end);
            }
        }
    }

    fn handle_frame(&mut self, body: Bytes) -> Result<(), ConnectionEnd> {
        let mut r = Reader::new(body);
        let header = ReplyHeader::decode(&mut r).map_err(|e| ConnectionEnd::Lost(e.into()))?;
        match header.xid {
            xid::PING | xid::SET_WATCHES => Ok(()),
            xid::AUTH => {
                let code = Code::from_i32(header.err);
                let waiter = self.auth_waiters.pop_front().flatten();
                if code == Code::AuthFailed {
                    if let Some(w) = waiter {
                        let _ = w.send(Err(Error::AuthFailed));
                    }
                    return Err(ConnectionEnd::Terminal(Terminal::AuthFailed));
                }
                if let Some(w) = waiter {
                    let _ = w.send(if code == Code::Ok {
                        Ok(())
                    } else {
                        Err(Error::server(code, None))
                    });
                }
                Ok(())
            }
            xid::NOTIFICATION => {
                let ev = WatcherEvent::decode(&mut r).map_err(|e| ConnectionEnd::Lost(e.into()))?;
                let chroot = self.config.connect_string.chroot.as_deref();
                match client_path(chroot, &ev.path) {
                    Some(p) => self.registry.dispatch(ev.event_type, ev.state, &p),
                    None => warn!(path = %ev.path, "notification outside the chroot ignored"),
                }
                Ok(())
            }
            got => {
                let expected = self.pending.front().map(|p| p.xid);
                if expected != Some(got) {
                    return Err(ConnectionEnd::Lost(Disconnect::UnexpectedXid {
                        expected,
                        got,
                    }));
                }
                let Some(p) = self.pending.pop_front() else {
                    return Err(ConnectionEnd::Lost(Disconnect::UnexpectedXid {
                        expected,
                        got,
                    }));
                };
                if header.zxid > 0 {
                    self.shared.set_last_zxid(header.zxid);
                }
                let code = Code::from_i32(header.err);
                match p.on_reply {
                    OnReply::Nothing => {}
                    OnReply::Register(reg) => {
                        if code == Code::Ok {
                            self.registry.register(reg, true);
                        } else if code == Code::NoNode
                            && reg.kind == crate::watch::registry::WatchKind::Exists
                        {
                            self.registry.register(reg, false);
                        }
                    }
                    OnReply::RemoveLocal {
                        path,
                        data,
                        child,
                        persistent,
                    } => {
                        if code == Code::Ok {
                            self.registry.remove(&path, data, child, persistent);
                        }
                    }
                }
                p.call.complete(Ok(Reply {
                    code,
                    body: r.into_rest(),
                }));
                if p.op == OpCode::CloseSession {
                    return Err(ConnectionEnd::Terminal(self.close_as));
                }
                Ok(())
            }
        }
    }

    /// The connection dropped: fail what was in flight and tell listeners.
    fn lost(&mut self, reason: Disconnect) {
        warn!(%reason, "connection lost");
        for p in self.pending.drain(..) {
            p.call.complete(Err(Error::ConnectionLoss(reason.clone())));
        }
        for w in self.auth_waiters.drain(..).flatten() {
            let _ = w.send(Err(Error::ConnectionLoss(reason.clone())));
        }
        self.shared.set_state(SessionState::Connecting);
        self.shared.emit(SessionEvent::Disconnected(reason));
    }

    /// The session is over: end every request, watch and waiter, then stop.
    fn finish(mut self, terminal: Terminal) {
        let (state, event, keeper) = match terminal {
            Terminal::Expired => (
                SessionState::Expired,
                SessionEvent::Expired,
                KeeperState::Expired,
            ),
            Terminal::AuthFailed => (
                SessionState::AuthFailed,
                SessionEvent::AuthFailed,
                KeeperState::AuthFailed,
            ),
            Terminal::Closed => (
                SessionState::Closed,
                SessionEvent::Closed,
                KeeperState::Closed,
            ),
        };
        let err = state.terminal_error().unwrap_or(Error::Closed);
        // Publish the state first, so a handle that sees its request refused reads it.
        self.shared.set_state(state);
        self.rx.close();
        for p in self.pending.drain(..) {
            p.call.complete(Err(err.clone()));
        }
        for w in self.auth_waiters.drain(..).flatten() {
            let _ = w.send(Err(err.clone()));
        }
        for cmd in self.queued.drain(..) {
            cmd.fail(err.clone());
        }
        while let Ok(cmd) = self.rx.try_recv() {
            cmd.fail(err.clone());
        }
        self.registry.end_all(keeper);
        self.shared.emit(event);
        self.shared.close_listeners();
        for w in self.closing.take().into_iter().flatten() {
            let _ = w.send(());
        }
    }
}

fn io(e: std::io::Error) -> Disconnect {
    Disconnect::Io(Arc::new(e))
}

/// Writes as much of `wbuf` as the socket takes now.
async fn write_some(wr: &mut OwnedWriteHalf, wbuf: &mut BytesMut) -> std::io::Result<()> {
    let n = wr.write_buf(wbuf).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    Ok(())
}

/// Reads exactly one frame's body during the handshake.
async fn read_one_frame(stream: &mut TcpStream, max: usize) -> Result<Bytes, Disconnect> {
    let mut buf = BytesMut::with_capacity(64);
    loop {
        if let Some(len) = frame::check(&buf, max)? {
            buf.advance(frame::LENGTH_PREFIX);
            return Ok(buf.split_to(len).freeze());
        }
        if stream.read_buf(&mut buf).await.map_err(io)? == 0 {
            return Err(Disconnect::Eof);
        }
    }
}

/// Writes one request frame with a reserved xid.
fn write_framed(wbuf: &mut BytesMut, xid: i32, op: OpCode, body: &impl Encode) {
    let at = frame::start(wbuf);
    RequestHeader { xid, op }.encode(wbuf);
    body.encode(wbuf);
    frame::finish(wbuf, at);
}

impl RequestHeader {
    /// Writes a header-only frame (a ping).
    fn encode_framed(&self, wbuf: &mut BytesMut) {
        write_framed(wbuf, self.xid, self.op, &());
    }
}

/// The client's view of a server path: the chroot removed, or `None` when the path
/// lies outside the chroot.
pub(crate) fn client_path(chroot: Option<&str>, server_path: &str) -> Option<String> {
    match chroot {
        None => Some(server_path.to_string()),
        Some(c) => path::strip_chroot(c, server_path).map(str::to_string),
    }
}

/// Splits the live watches into SetWatches batches of at most
/// [`SET_WATCHES_BATCH_BYTES`] of paths, with the chroot added back.
fn set_watches_batches(live: &WatchPaths, chroot: Option<&str>) -> Vec<WatchPaths> {
    let mut batches = vec![WatchPaths::default()];
    let mut size = 0usize;
    type Slot = fn(&mut WatchPaths) -> &mut Vec<String>;
    let lists: [(&Vec<String>, Slot); 5] = [
        (&live.data, |b| &mut b.data),
        (&live.exist, |b| &mut b.exist),
        (&live.child, |b| &mut b.child),
        (&live.persistent, |b| &mut b.persistent),
        (&live.recursive, |b| &mut b.recursive),
    ];
    for (paths, slot) in lists {
        for p in paths {
            let server = match chroot {
                None => p.clone(),
                Some(c) => path::prepend_chroot(c, p),
            };
            let cost = server.len() + 4;
            if size + cost > SET_WATCHES_BATCH_BYTES && size > 0 {
                batches.push(WatchPaths::default());
                size = 0;
            }
            size += cost;
            if let Some(last) = batches.last_mut() {
                slot(last).push(server);
            }
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_watches_batches_stay_under_the_limit_and_keep_every_path() {
        let live = WatchPaths {
            data: (0..5000).map(|i| format!("/data/{i:040}")).collect(),
            child: (0..2000).map(|i| format!("/child/{i:040}")).collect(),
            recursive: vec!["/r".into()],
            ..Default::default()
        };
        let batches = set_watches_batches(&live, Some("/app"));
        assert!(batches.len() > 1);
        let mut total = 0;
        for b in &batches {
            let bytes: usize = [&b.data, &b.exist, &b.child, &b.persistent, &b.recursive]
                .iter()
                .flat_map(|v| v.iter())
                .map(|p| p.len() + 4)
                .sum();
            assert!(bytes <= SET_WATCHES_BATCH_BYTES);
            total += b.data.len() + b.child.len() + b.recursive.len();
        }
        assert_eq!(total, 7001);
        assert!(batches[0].data[0].starts_with("/app/data/"));
        assert_eq!(
            batches.last().unwrap().recursive,
            vec!["/app/r".to_string()]
        );
    }
}
