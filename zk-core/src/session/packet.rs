//! What handles send to the session task, and what it sends back.

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::proto::frame::LENGTH_PREFIX;
use crate::proto::{Code, Encode, OpCode, write_frame};
use crate::session::call::{Completer, ReplyFuture, new_call};
use crate::watch::registry::WatchRegistration;

/// A reply to one request: its result code and the undecoded body, which shares
/// the read buffer's memory. (The header's zxid is recorded by the task.)
#[derive(Debug)]
pub(crate) struct Reply {
    pub code: Code,
    pub body: Bytes,
}

/// What the task must do to the watch table when a request's reply arrives.
#[derive(Debug)]
pub(crate) enum OnReply {
    Nothing,
    /// Add this watch if the reply says the server set it.
    Register(WatchRegistration),
    /// Drop local watches of these kinds on `path` if the server removed them.
    RemoveLocal {
        path: String,
        data: bool,
        child: bool,
        persistent: bool,
    },
}

/// One encoded request on its way to the socket.
#[derive(Debug)]
pub(crate) struct Packet {
    /// The whole frame (length prefix included, with a placeholder xid that the
    /// task fills in as it writes the frame) and where the reply goes.
    pub call: Completer,
    pub op: OpCode,
    pub on_reply: OnReply,
}

/// Commands from handles to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Request(Packet),
    /// Add credentials: sent now and on every reconnect.
    Auth {
        scheme: String,
        auth: Bytes,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Close the session and stop.
    Close {
        reply: oneshot::Sender<()>,
    },
    /// End the session locally as expired (closing it on the server if connected).
    Abandon {
        reply: oneshot::Sender<()>,
    },
    /// Tests only: make the task panic, as a bug in it would.
    #[cfg(test)]
    Crash,
}

impl Command {
    /// Fails the command with `err` without sending it.
    pub(super) fn fail(self, err: Error) {
        match self {
            Command::Request(p) => p.call.complete(Err(err)),
            Command::Auth { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Command::Close { reply } | Command::Abandon { reply } => {
                let _ = reply.send(());
            }
            #[cfg(test)]
            Command::Crash => {}
        }
    }
}

/// Encodes a request frame with a zero xid, to be patched by [`set_xid`] as the
/// task writes it.
pub(crate) fn encode_request(op: OpCode, body: &impl Encode) -> (Completer, ReplyFuture) {
    new_call(|buf| {
        write_frame(buf, 0, op, body);
    })
}

/// Writes `xid` into a frame built by [`encode_request`].
pub(crate) fn set_xid(frame: &mut [u8], xid: i32) {
    frame[LENGTH_PREFIX..LENGTH_PREFIX + 4].copy_from_slice(&xid.to_be_bytes());
}

/// The length of a frame's body, without its prefix.
pub(crate) fn body_len(frame: &[u8]) -> usize {
    frame.len().saturating_sub(LENGTH_PREFIX)
}
