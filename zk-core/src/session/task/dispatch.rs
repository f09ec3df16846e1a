//! The requests in flight: commands put on the wire in xid order, and every reply
//! frame matched to what waits for it (the oldest pending request, an auth waiter,
//! or the watches a notification triggers).

use bytes::{Bytes, BytesMut};
use tokio::sync::oneshot;
use tracing::warn;

use super::{ConnectionEnd, SessionTask, Terminal};
use crate::error::{Disconnect, Error};
use crate::proto::opcode::xid;
use crate::proto::path;
use crate::proto::{
    AuthPacket, Code, Decode, OpCode, Reader, ReplyHeader, WatcherEvent, write_frame,
};
use crate::session::call::{Completer, Reply, encode_request};
use crate::session::packet::{Command, Packet};
use crate::watch::on_reply::OnReply;

/// A request written to the socket and waiting for its reply.
pub(super) struct Pending {
    xid: i32,
    op: OpCode,
    on_reply: OnReply,
    pub(super) call: Completer,
}

impl SessionTask {
    /// Puts one command on the wire.
    pub(super) fn take_command(
        &mut self,
        cmd: Command,
        wbuf: &mut BytesMut,
    ) -> Option<ConnectionEnd> {
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
                write_frame(wbuf, xid::AUTH, OpCode::Auth, &packet);
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
        packet.call.write_with_xid(wbuf, xid);
        self.pending.push_back(Pending {
            xid,
            op: packet.op,
            on_reply: packet.on_reply,
            call: packet.call,
        });
    }

    /// Sends closeSession; the session ends when its reply arrives or the close
    /// timeout passes.
    pub(super) fn start_close(&mut self, reply: Option<oneshot::Sender<()>>, wbuf: &mut BytesMut) {
        let first = self.closing.is_none();
        let waiters = self.closing.get_or_insert_with(Vec::new);
        waiters.extend(reply);
        if first {
            let (call, _reply) = encode_request(OpCode::CloseSession, &());
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

    pub(super) fn handle_frame(&mut self, body: Bytes) -> Result<(), ConnectionEnd> {
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
                p.on_reply.apply(code, &mut self.registry);
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
}

/// The client's view of a server path: the chroot removed, or `None` when the path
/// lies outside the chroot.
fn client_path(chroot: Option<&str>, server_path: &str) -> Option<String> {
    match chroot {
        None => Some(server_path.to_string()),
        Some(c) => path::strip_chroot(c, server_path).map(str::to_string),
    }
}
