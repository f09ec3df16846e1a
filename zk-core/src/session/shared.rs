//! State shared by a session's task and its handles.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::error::{Error, TlsError};
use crate::lock::lock;
use crate::session::event::{SessionEvent, SessionState};

/// What the task publishes for handles to read.
pub(crate) struct Shared {
    state: watch::Sender<SessionState>,
    session_id: AtomicI64,
    negotiated_timeout_ms: AtomicU64,
    last_zxid: AtomicI64,
    password: Mutex<Bytes>,
    listeners: Mutex<Vec<mpsc::UnboundedSender<SessionEvent>>>,
    /// Why TLS ended the session, once it has.
    tls_failure: Mutex<Option<TlsError>>,
}

impl Shared {
    pub(super) fn new(requested_timeout: Duration) -> Self {
        Shared {
            state: watch::Sender::new(SessionState::Connecting),
            session_id: AtomicI64::new(0),
            negotiated_timeout_ms: AtomicU64::new(requested_timeout.as_millis() as u64),
            last_zxid: AtomicI64::new(0),
            password: Mutex::new(Bytes::new()),
            listeners: Mutex::new(Vec::new()),
            tls_failure: Mutex::new(None),
        }
    }

    pub(super) fn state(&self) -> SessionState {
        *self.state.borrow()
    }

    pub(super) fn watch_state(&self) -> watch::Receiver<SessionState> {
        self.state.subscribe()
    }

    pub(super) fn set_state(&self, s: SessionState) {
        self.state.send_replace(s);
    }

    /// Keeps the TLS failure that ends the session; set before the `TlsFailed` state.
    pub(super) fn set_tls_failure(&self, failure: TlsError) {
        *lock(&self.tls_failure) = Some(failure);
    }

    /// The error an operation gets on a session in terminal state `state`.
    pub(super) fn terminal_error(&self, state: SessionState) -> Option<Error> {
        if state == SessionState::TlsFailed {
            return Some(match lock(&self.tls_failure).clone() {
                Some(failure) => Error::Tls(failure),
                // Not reached: the failure is kept before the state is published.
                None => Error::SessionFailed,
            });
        }
        state.terminal_error()
    }

    pub(super) fn session_id(&self) -> i64 {
        self.session_id.load(Ordering::Acquire)
    }

    pub(super) fn password(&self) -> Bytes {
        lock(&self.password).clone()
    }

    pub(super) fn set_session(&self, id: i64, password: Bytes, timeout: Duration) {
        *lock(&self.password) = password;
        self.negotiated_timeout_ms
            .store(timeout.as_millis() as u64, Ordering::Release);
        self.session_id.store(id, Ordering::Release);
    }

    pub(super) fn negotiated_timeout(&self) -> Duration {
        Duration::from_millis(self.negotiated_timeout_ms.load(Ordering::Acquire))
    }

    pub(super) fn last_zxid(&self) -> i64 {
        self.last_zxid.load(Ordering::Acquire)
    }

    pub(super) fn set_last_zxid(&self, zxid: i64) {
        self.last_zxid.store(zxid, Ordering::Release);
    }

    /// A new listener; it sees every event from now on.
    pub(super) fn subscribe(&self) -> mpsc::UnboundedReceiver<SessionEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.listeners).push(tx);
        rx
    }

    /// Ends every listener's stream; called after the terminal event.
    pub(super) fn close_listeners(&self) {
        lock(&self.listeners).clear();
    }

    /// Sends `event` to every listener still listening.
    pub(super) fn emit(&self, event: SessionEvent) {
        tracing::info!(
            session_id = format_args!("{:#x}", self.session_id()),
            ?event,
            "session event"
        );
        lock(&self.listeners).retain(|tx| tx.send(event.clone()).is_ok());
    }
}

// Debug output leaves out the session password.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.state())
            .field("session_id", &format_args!("{:#x}", self.session_id()))
            .field("negotiated_timeout", &self.negotiated_timeout())
            .field("last_zxid", &self.last_zxid())
            .finish_non_exhaustive()
    }
}
