//! What handles send to the session task: the commands on its channel, and what a
//! request carries besides its frame. Plain data: the frame and its reply slot are
//! the [`call`](super::call)'s, the bytes are written by [`crate::proto`].

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::proto::OpCode;
use crate::session::call::Completer;
use crate::watch::on_reply::OnReply;
use crate::watch::registry::WatchCounts;

/// One encoded request on its way to the socket.
#[derive(Debug)]
pub(crate) struct Packet {
    /// The whole frame (length prefix included, with a placeholder xid that the
    /// task fills in as it writes the frame, see [`Completer::write_with_xid`]) and
    /// where the reply goes.
    pub(crate) call: Completer,
    /// The request's operation code, as in its frame.
    pub(crate) op: OpCode,
    /// What the reply does to the watch table.
    pub(crate) on_reply: OnReply,
}

/// Commands from handles to the task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a request and hand its reply to its call.
    Request(Packet),
    /// Add credentials: sent now and on every reconnect.
    Auth {
        /// The auth scheme, such as `digest`.
        scheme: String,
        /// The scheme's credentials, such as `user:password`.
        auth: Bytes,
        /// Hears the server's answer.
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Close the session and stop.
    Close {
        /// Told when the session is closed.
        reply: oneshot::Sender<()>,
    },
    /// End the session locally as expired (closing it on the server if connected).
    Abandon {
        /// Told when the session has ended.
        reply: oneshot::Sender<()>,
    },
    /// A watch's receiver on `path` (client path) was dropped: forget it, and remove
    /// the server's watch if no local watch needs it any more.
    Unwatch {
        /// The watched path.
        path: String,
    },
    /// Report how many paths the watch table holds.
    WatchCounts {
        /// Hears the counts.
        reply: oneshot::Sender<WatchCounts>,
    },
    /// Tests only: make the task panic, as a bug in it would.
    #[cfg(test)]
    Crash,
}

impl Command {
    /// Fails the command with `err` without sending it.
    pub(crate) fn fail(self, err: Error) {
        match self {
            Command::Request(p) => p.call.complete(Err(err)),
            Command::Auth { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Command::Close { reply } | Command::Abandon { reply } => {
                let _ = reply.send(());
            }
            Command::Unwatch { .. } | Command::WatchCounts { .. } => {}
            #[cfg(test)]
            Command::Crash => {}
        }
    }
}
