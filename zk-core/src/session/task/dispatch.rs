//! The requests in flight: commands put on the wire in xid order, and every reply
//! frame matched to what waits for it (the oldest pending request, an auth waiter,
//! or the watches a notification triggers).
//!
//! The server answers requests in the order it received them, so the requests in
//! flight wait in a FIFO queue and a reply must answer the oldest one; anything
//! else means the stream is broken and the connection is dropped. Pings keep that
//! order too (a follower queues a session's ping behind its pending writes), so a
//! ping answered while a request written before it still waits means that
//! request's reply was lost on the way: the connection is dropped as well, rather
//! than kept alive by pings with the request waiting for ever.

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::{ConnectionEnd, SessionTask, Terminal};
use crate::error::{Disconnect, Error};
use crate::proto::opcode::xid;
use crate::proto::ops::RemoveWatchesRequest;
use crate::proto::path;
use crate::proto::{
    AuthPacket, Code, Decode, OpCode, Reader, ReplyHeader, WatcherEvent, write_frame,
};
use crate::session::call::{Completer, Reply, encode_request};
use crate::session::packet::{Command, Packet};
use crate::watch::on_reply::OnReply;
use crate::watch::registry::ServerTables;

/// A request written to the socket and waiting for its reply.
struct Pending {
    /// The xid it was sent under, which its reply carries back.
    xid: i32,
    /// Its place in the connection's byte stream: requests are numbered as they are
    /// written (unlike xids, the count never wraps).
    written: u64,
    /// Its operation: the reply to closeSession ends the session.
    op: OpCode,
    /// What its reply does to the watch table.
    on_reply: OnReply,
    /// Where its reply goes.
    call: Completer,
}

/// Who hears the server's answer to an auth packet.
type AuthWaiter = oneshot::Sender<Result<(), Error>>;

/// The requests and auth packets written and not yet answered, and the xid the
/// next request is sent under.
pub(super) struct InFlight {
    /// Requests waiting for their replies, oldest first.
    requests: VecDeque<Pending>,
    /// Callers of `add_auth` waiting for the server's answer, in order; `None` for
    /// credentials re-sent on a new connection, whose answer nobody awaits.
    auth_waiters: VecDeque<Option<AuthWaiter>>,
    /// The next request's xid: from 1 up to `i32::MAX`, then 1 again (the
    /// negative xids are reserved for pings, auth, SetWatches and notifications).
    next_xid: i32,
    /// How many requests have been written on this session.
    written: u64,
    /// One entry per ping written and not yet answered, oldest first: the number of
    /// the last request written before it (`None` if there was none in flight). A
    /// ping's reply must come after the replies of every request written before it.
    pings: VecDeque<Option<u64>>,
    /// Per client path, how many requests in flight set a watch there, by server
    /// table (data, child): a removeWatches sent behind one of them would remove the
    /// watch it sets.
    registering: HashMap<String, [u32; 2]>,
}

impl InFlight {
    /// Nothing in flight; the first request gets xid 1.
    pub(super) fn new() -> Self {
        InFlight {
            requests: VecDeque::new(),
            auth_waiters: VecDeque::new(),
            next_xid: 1,
            written: 0,
            pings: VecDeque::new(),
            registering: HashMap::new(),
        }
    }

    /// Counts (`up`) or uncounts a request in flight that sets a watch.
    fn note_registering(&mut self, on_reply: &OnReply, up: bool) {
        let OnReply::Register(reg) = on_reply else {
            return;
        };
        let tables = reg.kind.server_tables();
        let counts = self.registering.entry(reg.path.clone()).or_default();
        for (n, hit) in counts.iter_mut().zip([tables.data, tables.child]) {
            if hit {
                *n = if up { *n + 1 } else { n.saturating_sub(1) };
            }
        }
        if *counts == [0, 0] {
            self.registering.remove(&reg.path);
        }
    }

    /// The server tables a request in flight sets a watch in for `path`.
    pub(super) fn registering(&self, path: &str) -> ServerTables {
        match self.registering.get(path) {
            Some([data, child]) => ServerTables {
                data: *data > 0,
                child: *child > 0,
            },
            None => ServerTables::NONE,
        }
    }

    /// Writes `packet`'s frame under the next xid and keeps it to await its reply.
    fn send(&mut self, packet: Packet, wbuf: &mut BytesMut) {
        let xid = self.next_xid;
        self.next_xid = xid_after(xid);
        packet.call.write_with_xid(wbuf, xid);
        self.note_registering(&packet.on_reply, true);
        self.written += 1;
        self.requests.push_back(Pending {
            xid,
            written: self.written,
            op: packet.op,
            on_reply: packet.on_reply,
            call: packet.call,
        });
    }

    /// The xid the next request gets.
    #[cfg_attr(
        not(any(feature = "sasl-digest-md5", feature = "sasl-gssapi")),
        allow(dead_code)
    )]
    pub(super) fn peek_xid(&self) -> i32 {
        self.next_xid
    }

    /// Goes on numbering from `next`, after requests numbered outside (the SASL exchange,
    /// which runs before the connection is served).
    #[cfg_attr(
        not(any(feature = "sasl-digest-md5", feature = "sasl-gssapi")),
        allow(dead_code)
    )]
    pub(super) fn resume_xids_at(&mut self, next: i32) {
        self.next_xid = next;
    }

    /// Writes an auth packet for `scheme`/`auth`; `waiter`, if any, hears the
    /// server's answer.
    pub(super) fn send_auth(
        &mut self,
        wbuf: &mut BytesMut,
        scheme: &str,
        auth: &Bytes,
        waiter: Option<AuthWaiter>,
    ) {
        let packet = AuthPacket {
            auth_type: 0,
            scheme: scheme.to_string(),
            auth: auth.clone(),
        };
        write_frame(wbuf, xid::AUTH, OpCode::Auth, &packet);
        self.auth_waiters.push_back(waiter);
    }

    /// Notes a ping written now, behind every request in flight.
    pub(super) fn ping_sent(&mut self) {
        self.pings
            .push_back(self.requests.back().map(|p| p.written));
    }

    /// Checks a ping's reply against the requests written before that ping: any of
    /// them still waiting means its reply was lost.
    fn ping_answered(&mut self) -> Result<(), Disconnect> {
        // A reply to a ping nobody sent tells nothing.
        let Some(before) = self.pings.pop_front() else {
            return Ok(());
        };
        match (before, self.requests.front()) {
            (Some(last), Some(oldest)) if oldest.written <= last => {
                Err(Disconnect::ReplyLost { xid: oldest.xid })
            }
            _ => Ok(()),
        }
    }

    /// The request a reply with xid `got` answers: the oldest one, or the stream
    /// is out of order.
    fn answered_by(&mut self, got: i32) -> Result<Pending, Disconnect> {
        let expected = self.requests.front().map(|p| p.xid);
        if expected == Some(got)
            && let Some(p) = self.requests.pop_front()
        {
            self.note_registering(&p.on_reply, false);
            return Ok(p);
        }
        Err(Disconnect::UnexpectedXid { expected, got })
    }

    /// Ends every request and auth waiter in flight with `err`: requests first,
    /// then auth waiters, each in the order they were sent.
    pub(super) fn fail_all(&mut self, err: &Error) {
        for p in self.requests.drain(..) {
            p.call.complete(Err(err.clone()));
        }
        self.registering.clear();
        self.pings.clear();
        for w in self.auth_waiters.drain(..).flatten() {
            let _ = w.send(Err(err.clone()));
        }
    }
}

impl SessionTask {
    /// Puts one command on the wire (for close and abandon: starts closing).
    /// Returns `Some` if the command ends the connection; none does at present, as
    /// a close ends it only when its reply or its timeout comes.
    pub(super) fn take_command(
        &mut self,
        cmd: Command,
        wbuf: &mut BytesMut,
    ) -> Option<ConnectionEnd> {
        match cmd {
            Command::Request(mut packet) => {
                for reg in packet.on_reply.take_on_send() {
                    self.registry.register(reg, true);
                }
                self.in_flight.send(packet, wbuf)
            }
            Command::Auth {
                scheme,
                auth,
                reply,
            } => {
                self.in_flight.send_auth(wbuf, &scheme, &auth, Some(reply));
                // Kept to be sent again on every new connection.
                self.auth.push((scheme, auth));
            }
            Command::Close { reply } => self.start_close(Some(reply), wbuf),
            Command::Unwatch { path } => self.unwatch(&path, Some(wbuf)),
            Command::WatchCounts { reply } => {
                let _ = reply.send(self.registry.counts());
            }
            Command::Abandon { reply } => {
                self.close_as = Terminal::Expired;
                self.start_close(Some(reply), wbuf);
            }
            #[cfg(test)]
            Command::Crash => panic!("a test asked the session task to panic"),
        }
        None
    }

    /// A watch on `path` was dropped: forgets every dropped watch there and, when
    /// connected (`wbuf`), sends removeWatches for the server tables no local watch
    /// needs any more. A table a request in flight sets a watch in is left alone:
    /// the removal would reach the server after that request and remove the watch
    /// it sets. While disconnected nothing is sent: the next SetWatches leaves the
    /// forgotten watches out.
    pub(super) fn unwatch(&mut self, path: &str, wbuf: Option<&mut BytesMut>) {
        let freed = self.registry.forget_dropped(path);
        let gone = freed.without(self.in_flight.registering(path));
        let (Some(wbuf), Some(watcher_type)) = (wbuf, gone.removal_type()) else {
            return;
        };
        let server_path = match self.config.connect_string.chroot.as_deref() {
            None => path.to_string(),
            Some(c) => path::prepend_chroot(c, path),
        };
        debug!(
            path,
            ?watcher_type,
            "removing a watch no local watcher needs"
        );
        // The answer (Ok, or NoWatcher if the watch fired meanwhile) is not awaited.
        let req = RemoveWatchesRequest {
            path: &server_path,
            watcher_type,
        };
        let (call, _reply) = encode_request(OpCode::RemoveWatches, &req);
        self.in_flight.send(
            Packet {
                call,
                op: OpCode::RemoveWatches,
                on_reply: OnReply::Nothing,
            },
            wbuf,
        );
    }

    /// Sends closeSession; the session ends when its reply arrives or the close
    /// timeout passes.
    pub(super) fn start_close(&mut self, reply: Option<oneshot::Sender<()>>, wbuf: &mut BytesMut) {
        let first = self.closing.is_none();
        let waiters = self.closing.get_or_insert_with(Vec::new);
        waiters.extend(reply);
        if first {
            let (call, _reply) = encode_request(OpCode::CloseSession, &());
            self.in_flight.send(
                Packet {
                    call,
                    op: OpCode::CloseSession,
                    on_reply: OnReply::Nothing,
                },
                wbuf,
            );
        }
    }

    /// Handles one reply frame's body: a ping or SetWatches answer (nothing to do),
    /// an auth answer, a watch notification, or the reply to the oldest request.
    /// Returns how the connection ends when the frame ends it.
    pub(super) fn handle_frame(&mut self, body: Bytes) -> Result<(), ConnectionEnd> {
        let mut r = Reader::new(body);
        let header = ReplyHeader::decode(&mut r).map_err(|e| ConnectionEnd::Lost(e.into()))?;
        match header.xid {
            xid::PING => self.in_flight.ping_answered().map_err(ConnectionEnd::Lost),
            xid::SET_WATCHES => Ok(()),
            xid::AUTH => {
                let code = Code::from_i32(header.err);
                let waiter = self.in_flight.auth_waiters.pop_front().flatten();
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
                let p = self
                    .in_flight
                    .answered_by(got)
                    .map_err(ConnectionEnd::Lost)?;
                if header.zxid > 0 {
                    self.shared.set_last_zxid(header.zxid);
                }
                let code = Code::from_i32(header.err);
                let dropped = p.on_reply.apply(code, &mut self.registry);
                p.call.complete(Ok(Reply {
                    code,
                    body: r.into_rest(),
                }));
                if let Some(path) = dropped {
                    // Removed once the pump has a write buffer at hand.
                    self.dropped_on_reply.push(path);
                }
                if p.op == OpCode::CloseSession {
                    return Err(ConnectionEnd::Terminal(self.close_as));
                }
                Ok(())
            }
        }
    }
}

impl SessionTask {
    /// Handles a reply frame over the frame limit, of which only the header was
    /// kept: the request it answers fails with [`Error::ReplyTooLarge`] (the watch
    /// rule still applies, as the server did what the header says), and the rest of
    /// the frame is discarded. A notification that large is dropped; anything else
    /// (a reply out of order) drops the connection, as any broken stream does.
    pub(super) fn handle_oversized(
        &mut self,
        len: usize,
        head: Bytes,
    ) -> Result<(), ConnectionEnd> {
        let limit = self.config.max_frame_len;
        let header = ReplyHeader::decode(&mut Reader::new(head))
            .map_err(|e| ConnectionEnd::Lost(e.into()))?;
        if header.xid == xid::NOTIFICATION {
            warn!(
                len,
                limit, "a notification over the frame limit was dropped"
            );
            return Ok(());
        }
        let expected = self.in_flight.requests.front().map(|p| p.xid);
        if expected != Some(header.xid) {
            return Err(ConnectionEnd::Lost(Disconnect::Frame(
                crate::proto::frame::FrameError::TooLarge { len, max: limit },
            )));
        }
        let p = self
            .in_flight
            .answered_by(header.xid)
            .map_err(ConnectionEnd::Lost)?;
        if header.zxid > 0 {
            self.shared.set_last_zxid(header.zxid);
        }
        warn!(op = ?p.op, len, limit, "a reply over the frame limit failed its request");
        let dropped = p
            .on_reply
            .apply(Code::from_i32(header.err), &mut self.registry);
        p.call.complete(Err(Error::ReplyTooLarge { len, limit }));
        if let Some(path) = dropped {
            self.dropped_on_reply.push(path);
        }
        if p.op == OpCode::CloseSession {
            return Err(ConnectionEnd::Terminal(self.close_as));
        }
        Ok(())
    }
}

/// The xid after `xid`: from 1 up to `i32::MAX`, then 1 again.
pub(super) fn xid_after(xid: i32) -> i32 {
    if xid == i32::MAX { 1 } else { xid + 1 }
}

/// The client's view of a server path: the chroot removed, or `None` when the path
/// lies outside the chroot.
fn client_path(chroot: Option<&str>, server_path: &str) -> Option<String> {
    match chroot {
        None => Some(server_path.to_string()),
        Some(c) => path::strip_chroot(c, server_path).map(str::to_string),
    }
}
