//! What handles send to the session task: the commands on its channel, and what a
//! request carries besides its frame. Plain data: the frame and its reply slot are
//! the [`call`](super::call)'s, the bytes are written by [`crate::proto`].

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::proto::OpCode;
use crate::session::call::Completer;
use crate::watch::on_reply::OnReply;

/// One encoded request on its way to the socket.
#[derive(Debug)]
pub(crate) struct Packet {
    /// The whole frame (length prefix included, with a placeholder xid that the
    /// task fills in as it writes the frame, see [`Completer::write_with_xid`]) and
    /// where the reply goes.
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
    pub fn fail(self, err: Error) {
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
