//! One ZooKeeper session, like the Java client's `ZooKeeper` handle: a task owns
//! the socket and cheap, cloneable [`Session`] handles send it requests. Expiry is
//! the end of a session; the framework `Client` builds a new one.
//!
//! - [`connect_string`]: parsing `host:port,.../chroot`.
//! - [`config`]: what a session is opened with.
//! - [`event`]: session events and states.
//! - `task`: the socket-owning task: its loop around connections (`task/mod.rs`),
//!   one attempt and the handshake (`task/connect.rs`), the I/O pump and its timer
//!   (`task/pump.rs`), and the requests in flight with reply dispatch
//!   (`task/dispatch.rs`). The rules it applies to watches (which replies set
//!   them, SetWatches on a new connection) live in [`crate::watch`].
//! - `ops`: the operations, as methods on [`Session`].
//! - `packet` and `call`: what a request carries to the task, and the one
//!   allocation that holds its frame and its reply (`packet` uses `call`, never
//!   the reverse; frames are written by [`crate::proto`] alone).

mod bulk_ops;
mod call;
pub mod config;
pub mod connect_string;
pub mod event;
mod hosts;
mod ops;
pub(crate) mod packet;
mod shared;
mod task;
#[cfg(test)]
mod task_failure_tests;

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::proto::path;
pub use config::SessionConfig;
pub use connect_string::{ConnectString, HostAddr};
pub use event::{SessionEvent, SessionState};
use packet::Command;
use shared::Shared;

/// A handle to one ZooKeeper session. Clones share the session; the session is
/// closed when [`Session::close`] is called or the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<Handle>,
}

#[derive(Debug)]
struct Handle {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    chroot: Option<String>,
    max_frame_len: usize,
}

impl Session {
    /// Starts a session with `config`. It connects in the background; use
    /// [`Session::wait_connected`] or the event stream to know when it is up.
    /// Must be called inside a tokio runtime.
    pub fn start(config: SessionConfig) -> Session {
        Session::start_with_events(config).0
    }

    /// Like [`Session::start`], and returns a stream that sees every event of the
    /// session from its very start (the first `SyncConnected` included).
    pub fn start_with_events(config: SessionConfig) -> (Session, SessionEvents) {
        let shared = Arc::new(Shared::new(config.requested_timeout()));
        let events = SessionEvents {
            rx: shared.subscribe(),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let chroot = config.connect_string.chroot.clone();
        let max_frame_len = config.max_frame_len;
        let span = tracing::info_span!("zk_session", hosts = config.connect_string.hosts.len());
        let task = task::SessionTask::new(Arc::new(config), shared.clone(), rx);
        // The task is owned by the command channel: it runs until the session ends
        // or every handle (every sender) is gone, then exits by itself. If it ever
        // ends any other way (a panic), the guard ends the session for the handles.
        let guard = EndGuard(shared.clone());
        tokio::spawn(
            async move {
                let _guard = guard;
                task.run().await;
            }
            .instrument(span),
        );
        (
            Session {
                inner: Arc::new(Handle {
                    tx,
                    shared,
                    chroot,
                    max_frame_len,
                }),
            },
            events,
        )
    }

    /// Parses `connect_string` and starts a session with default settings.
    pub fn connect(connect_string: &str, session_timeout: Duration) -> Result<Session> {
        let cs: ConnectString = connect_string.parse()?;
        config::check_session_timeout(session_timeout)?;
        Ok(Session::start(SessionConfig::new(cs, session_timeout)))
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.inner.shared.state()
    }

    /// A receiver that sees every state change (the latest state only).
    pub fn state_watch(&self) -> tokio::sync::watch::Receiver<SessionState> {
        self.inner.shared.watch_state()
    }

    /// The session id (0 until the first handshake).
    pub fn session_id(&self) -> i64 {
        self.inner.shared.session_id()
    }

    /// The session password, needed to resume the session from another connection.
    pub fn session_password(&self) -> Bytes {
        self.inner.shared.password()
    }

    /// The session timeout the server granted (the requested one until then).
    pub fn negotiated_timeout(&self) -> Duration {
        self.inner.shared.negotiated_timeout()
    }

    /// The last zxid this client has seen in a reply.
    pub fn last_zxid(&self) -> i64 {
        self.inner.shared.last_zxid()
    }

    /// The chroot, if the connect string had one.
    pub fn chroot(&self) -> Option<&str> {
        self.inner.chroot.as_deref()
    }

    /// A stream of session events from now on.
    pub fn events(&self) -> SessionEvents {
        SessionEvents {
            rx: self.inner.shared.subscribe(),
        }
    }

    /// Waits until the session is connected, up to `timeout`. Fails at once if the
    /// session has ended.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<()> {
        let mut rx = self.state_watch();
        let wait = rx.wait_for(|s| s.is_connected() || s.is_terminal());
        match tokio::time::timeout(timeout, wait).await {
            Err(_) => Err(Error::ConnectionTimeout(timeout)),
            Ok(Err(_)) => Err(Error::Closed),
            Ok(Ok(s)) => match self.inner.shared.terminal_error(*s) {
                Some(e) => Err(e),
                None => Ok(()),
            },
        }
    }

    /// Adds credentials (for example `("digest", b"user:password")`). They are sent
    /// now and again on every reconnect, before any other request. Resolves when the
    /// server has accepted them.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Auth {
            scheme: scheme.to_string(),
            auth: Bytes::copy_from_slice(auth),
            reply,
        };
        self.send(cmd)?;
        rx.await.unwrap_or_else(|_| Err(self.ended_error()))
    }

    /// Closes the session: sends closeSession and waits for the reply, bounded by the
    /// configured close timeout. Every pending watch then ends with a Closed event.
    pub async fn close(&self) {
        let (reply, rx) = oneshot::channel();
        if self.send(Command::Close { reply }).is_ok() {
            let _ = rx.await;
        }
        // Wait for the task to publish its final state, so callers see it settled.
        let mut st = self.state_watch();
        let _ = st.wait_for(|s| s.is_terminal()).await;
    }

    /// Gives the session up as if it had expired: every pending request and watch
    /// ends with SessionExpired. If a connection is up, closeSession is sent first so
    /// the server drops the session's ephemeral nodes now rather than at its timeout.
    /// This is what the framework does when the session timeout passes while it is
    /// disconnected (Curator's injected expiry).
    pub async fn abandon(&self) {
        let (reply, rx) = oneshot::channel();
        if self.send(Command::Abandon { reply }).is_ok() {
            let _ = rx.await;
        }
        let mut st = self.state_watch();
        let _ = st.wait_for(|s| s.is_terminal()).await;
    }

    /// Tests only: makes the session's task panic on its next command.
    #[cfg(test)]
    pub(crate) fn crash_task(&self) {
        let _ = self.send(Command::Crash);
    }

    fn send(&self, cmd: Command) -> Result<()> {
        self.inner.tx.send(cmd).map_err(|_| self.ended_error())
    }

    /// The error for a request the task can no longer take or answer. The task
    /// publishes its terminal state before it lets go of any request, so a state
    /// that is not terminal here means the task died without ending the session.
    pub(crate) fn ended_error(&self) -> Error {
        self.inner
            .shared
            .terminal_error(self.state())
            .unwrap_or(Error::SessionFailed)
    }

    /// Checks a client path and turns it into the server's path (chroot added).
    /// Without a chroot the client's path is the server's, borrowed: no allocation
    /// per request.
    fn server_path<'p>(&self, client_path: &'p str, sequential: bool) -> Result<Cow<'p, str>> {
        path::validate_path(client_path, sequential)?;
        Ok(match &self.inner.chroot {
            None => Cow::Borrowed(client_path),
            Some(c) => Cow::Owned(path::prepend_chroot(c, client_path)),
        })
    }

    /// Turns a server path from a reply back into a client path.
    fn client_path(&self, server_path: String) -> String {
        match &self.inner.chroot {
            None => server_path,
            Some(c) => path::strip_chroot(c, &server_path)
                .map(str::to_string)
                .unwrap_or(server_path),
        }
    }
}

/// Ends the session for its handles if the task stops without having ended it:
/// dropped with the task's future, during a panic's unwinding too, it publishes the
/// terminal `Failed` state and event, so `close()`, waiters and the framework's
/// connection manager are not left waiting on a task that is gone.
struct EndGuard(Arc<Shared>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        if self.0.state().is_terminal() {
            return;
        }
        tracing::error!("the session task ended unexpectedly; the session is failed");
        self.0.set_state(SessionState::Failed);
        self.0.emit(SessionEvent::Failed);
        self.0.close_listeners();
    }
}

/// The stream returned by [`Session::events`]. It ends after a terminal event.
#[derive(Debug)]
pub struct SessionEvents {
    rx: mpsc::UnboundedReceiver<SessionEvent>,
}

impl Stream for SessionEvents {
    type Item = SessionEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SessionEvent>> {
        self.rx.poll_recv(cx)
    }
}
