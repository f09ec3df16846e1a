//! The framework `Client`: one handle over a succession of sessions.
//!
//! It owns the current [`Session`] and replaces it after expiry; it turns session
//! events into Curator's connection states; and it runs every operation inside the
//! retry policy, after waiting (up to the connection timeout) for a connection.
//! Clones share everything. Background tasks (the connection manager, guaranteed
//! deletes) are owned by the client and stop on `close()` or when the last clone is
//! dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, info, warn};

use crate::error::{Error, Result};
use crate::framework::builder::{ClientBuilder, ClientConfig};
use crate::framework::namespace::Namespace;
use crate::framework::state::{ConnectionState, ConnectionStateErrorPolicy};
use crate::lock::lock;
use crate::session::{Session, SessionEvent, SessionEvents};

/// A Curator-style ZooKeeper client: connection states, retries, and a new session
/// after expiry. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) namespace: Namespace,
    sessions: watch::Sender<Session>,
    state: watch::Sender<Option<ConnectionState>>,
    listeners: Mutex<Vec<mpsc::UnboundedSender<ConnectionState>>>,
    closed: AtomicBool,
    /// The connection manager and background operations; dropping the set aborts them.
    tasks: Mutex<JoinSet<()>>,
    /// The runtime the client was built on, so that background work can be started
    /// from anywhere, a `Drop` on another thread included.
    runtime: tokio::runtime::Handle,
}

impl Client {
    /// A builder with Curator's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn start(config: ClientConfig) -> Client {
        let (session, events) = Session::start_with_events(config.session_config());
        let namespace = Namespace::new(config.namespace.clone());
        let inner = Arc::new(Inner {
            config,
            namespace,
            sessions: watch::Sender::new(session),
            state: watch::Sender::new(None),
            listeners: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            tasks: Mutex::new(JoinSet::new()),
            runtime: tokio::runtime::Handle::current(),
        });
        let manager = manage_connection(Arc::downgrade(&inner), events)
            .instrument(tracing::info_span!("zk_client"));
        lock(&inner.tasks).spawn(manager);
        Client { inner }
    }

    /// The current session. It changes after expiry; don't keep it.
    pub fn session(&self) -> Session {
        self.inner.sessions.borrow().clone()
    }

    /// The current session id (0 before the first connection).
    pub fn session_id(&self) -> i64 {
        self.session().session_id()
    }

    /// The current connection state (`None` before the first connection). Never
    /// older than a state a [`connection_states`](Self::connection_states) stream
    /// has delivered: a listener that hears a state and then asks gets that state or
    /// a later one.
    pub fn state(&self) -> Option<ConnectionState> {
        *self.inner.state.borrow()
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.state().is_some_and(ConnectionState::is_connected)
            && self.session().state().is_connected()
    }

    /// The error policy recipes follow.
    pub fn error_policy(&self) -> ConnectionStateErrorPolicy {
        self.inner.config.error_policy
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A stream of connection states from now on.
    pub fn connection_states(&self) -> ConnectionStates {
        let (tx, rx) = mpsc::unbounded_channel();
        if !self.inner.closed.load(Ordering::Acquire) {
            let mut listeners = lock(&self.inner.listeners);
            // Streams dropped since the last state change go now, so that opening
            // and dropping streams (a recipe per lock acquired) does not grow the list.
            listeners.retain(|tx| !tx.is_closed());
            listeners.push(tx);
        }
        ConnectionStates { rx }
    }

    /// A receiver of the latest connection state, for code that only needs "now".
    pub fn state_watch(&self) -> watch::Receiver<Option<ConnectionState>> {
        self.inner.state.subscribe()
    }

    /// Waits until the client is connected, up to `timeout`.
    /// Once it returns `Ok`, [`Client::state`] is a connected state and the
    /// matching state has already gone out to every `connection_states()` stream.
    pub async fn block_until_connected(&self, timeout: Duration) -> Result<()> {
        let deadline = crate::time::deadline_in(timeout);
        self.connected_session_within(timeout).await?;
        // The session is up; the manager publishes the state right after. Wait for
        // that too, so the state and the streams agree with what this returned.
        let mut state = self.inner.state.subscribe();
        tokio::select! {
            _ = state.wait_for(|s| s.is_some_and(ConnectionState::is_connected)) => {
                // The watch is set before the streams are sent to; let that finish.
                self.inner.wait_for_streams();
                Ok(())
            }
            _ = sleep_until(deadline) => Err(Error::ConnectionTimeout(timeout)),
        }
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// Closes the client: stops the connection manager and every background task,
    /// closes the session (its ephemeral nodes go now), and fails pending operations
    /// with [`Error::Closed`].
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        lock(&self.inner.tasks).abort_all();
        lock(&self.inner.listeners).clear();
        self.session().close().await;
        info!("client closed");
    }

    /// The session to run an operation on, once connected; waits up to the
    /// connection timeout, as Curator does before each attempt.
    pub(crate) async fn connected_session(&self) -> Result<Session> {
        self.connected_session_within(self.inner.config.connection_timeout)
            .await
    }

    async fn connected_session_within(&self, timeout: Duration) -> Result<Session> {
        let deadline = crate::time::deadline_in(timeout);
        let mut sessions = self.inner.sessions.subscribe();
        loop {
            if self.is_closed() {
                return Err(Error::Closed);
            }
            let session = sessions.borrow_and_update().clone();
            let mut st = session.state_watch();
            tokio::select! {
                r = async { st.wait_for(|s| s.is_connected() || s.is_terminal()).await.map(|s| *s) } => {
                    let s = r.unwrap_or(crate::session::SessionState::Closed);
                    if s.is_connected() {
                        return Ok(session);
                    }
                    if s == crate::session::SessionState::AuthFailed {
                        return Err(Error::AuthFailed);
                    }
                    // TLS failed with every server: no session will do better.
                    if s == crate::session::SessionState::TlsFailed {
                        return Err(session.ended_error());
                    }
                    // close() ends the session and no other replaces it: don't wait
                    // out the connection timeout for one.
                    if self.is_closed() {
                        return Err(Error::Closed);
                    }
                    // Expired or closed: the manager is replacing it; wait for that.
                    tokio::select! {
                        r = sessions.changed() => if r.is_err() { return Err(Error::Closed) },
                        _ = sleep_until(deadline) => return Err(Error::ConnectionTimeout(timeout)),
                    }
                }
                r = sessions.changed() => if r.is_err() { return Err(Error::Closed) },
                _ = sleep_until(deadline) => return Err(Error::ConnectionTimeout(timeout)),
            }
        }
    }

    /// Runs `op` inside the retry policy, each attempt on a connected session, with
    /// the namespace created first if it is not yet.
    pub(crate) async fn with_retry<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn(Session) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        zk_retry::retry(&self.inner.config.retry_policy, || async {
            let session = self.connected_session().await?;
            self.inner
                .namespace
                .ensure(&session, self.inner.config.acl_provider.as_ref())
                .await?;
            op(session).await
        })
        .await
        .map_err(|e| self.inner.namespace.strip_error(e))
    }

    /// Runs `op` inside the retry policy on `path` with the namespace applied: the
    /// way of every operation on one node. `op` gets each attempt's session and the
    /// full path.
    ///
    /// The writes whose attempt borrows more of its builder (set_data, set_acl,
    /// delete, watch) apply the namespace and call [`with_retry`](Self::with_retry)
    /// themselves: an async closure that captures references cannot yet be proven
    /// `Send` for every lifetime (a limit of today's compiler), and the builders'
    /// futures must be `Send`.
    pub(crate) async fn with_retry_at<T>(
        &self,
        path: &str,
        op: impl AsyncFn(Session, &str) -> Result<T>,
    ) -> Result<T> {
        let full = self.inner.namespace.apply(path, false)?;
        self.with_retry(|s| op(s, &full)).await
    }

    /// Spawns a background task owned by the client: it stops on close or when the
    /// last clone is dropped.
    pub(crate) fn spawn_background(&self, fut: impl Future<Output = ()> + Send + 'static) {
        if self.is_closed() {
            return;
        }
        let mut tasks = lock(&self.inner.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(fut, &self.inner.runtime);
    }

    /// A weak handle, for background tasks that must not keep the client alive.
    pub(crate) fn downgrade(&self) -> WeakClient {
        WeakClient {
            inner: Arc::downgrade(&self.inner),
        }
    }
}

/// A handle that does not keep the client alive.
#[derive(Debug, Clone)]
pub(crate) struct WeakClient {
    inner: Weak<Inner>,
}

impl WeakClient {
    /// The client, if it is still alive and open.
    pub(crate) fn upgrade(&self) -> Option<Client> {
        let inner = self.inner.upgrade()?;
        (!inner.closed.load(Ordering::Acquire)).then_some(Client { inner })
    }
}

impl Inner {
    /// Publishes a state: to the latest-state watch, then to the streams, both under
    /// the listeners' lock. The watch goes first so that whoever hears a state on a
    /// stream and then asks [`Client::state`] gets that state (or a later one),
    /// never the one before it: a recipe that rechecks "am I connected?" on
    /// RECONNECTED must not see SUSPENDED and skip its recovery. The lock makes a
    /// stream opened by someone who has seen the new state on the watch miss it,
    /// rather than receive it a second time, late.
    fn set_state(&self, s: ConnectionState) {
        info!(state = ?s, "connection state");
        let mut listeners = lock(&self.listeners);
        self.state.send_replace(Some(s));
        listeners.retain(|tx| tx.send(s).is_ok());
    }

    /// Returns once any [`set_state`](Self::set_state) under way has reached every
    /// stream: it holds the listeners' lock while it sends.
    fn wait_for_streams(&self) {
        drop(lock(&self.listeners));
    }

    fn current_state(&self) -> Option<ConnectionState> {
        *self.state.borrow()
    }

    /// Starts a new session and makes it current; returns its events.
    fn replace_session(&self) -> SessionEvents {
        let (session, events) = Session::start_with_events(self.config.session_config());
        self.sessions.send_replace(session);
        self.namespace.reset();
        events
    }
}

/// Turns session events into connection states and keeps a session alive:
/// - the first connection is CONNECTED, every later one RECONNECTED;
/// - a disconnect while connected is SUSPENDED;
/// - expiry, or the negotiated session timeout passing while SUSPENDED, is LOST,
///   and a new session is started at once;
/// - a failed authentication, or TLS failing with every server, is LOST and the end:
///   no new session is started, operations fail with that error.
async fn manage_connection(weak: Weak<Inner>, mut events: SessionEvents) {
    let mut suspended_at: Option<Instant> = None;
    loop {
        let deadline = match (suspended_at, weak.upgrade()) {
            (_, None) => return,
            (Some(at), Some(inner)) => Some(crate::time::deadline_after(
                at,
                inner.sessions.borrow().negotiated_timeout(),
            )),
            (None, Some(_)) => None,
        };
        let event = tokio::select! {
            ev = events.next() => ev,
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                let Some(inner) = weak.upgrade() else { return };
                warn!("session timeout passed while suspended: the session is treated as lost");
                suspended_at = None;
                inner.set_state(ConnectionState::Lost);
                let old = inner.sessions.borrow().clone();
                events = inner.replace_session();
                drop(inner);
                old.abandon().await;
                continue;
            }
        };
        let Some(inner) = weak.upgrade() else { return };
        if inner.closed.load(Ordering::Acquire) {
            return;
        }
        match event {
            Some(SessionEvent::SyncConnected) => {
                suspended_at = None;
                let next = match inner.current_state() {
                    None => ConnectionState::Connected,
                    Some(_) => ConnectionState::Reconnected,
                };
                inner.set_state(next);
            }
            Some(SessionEvent::ConnectedReadOnly) => {
                suspended_at = None;
                inner.set_state(ConnectionState::ReadOnly);
            }
            Some(SessionEvent::Disconnected(reason)) => {
                if inner
                    .current_state()
                    .is_some_and(ConnectionState::is_connected)
                {
                    info!(%reason, "disconnected");
                    suspended_at = Some(Instant::now());
                    inner.set_state(ConnectionState::Suspended);
                }
            }
            Some(SessionEvent::Expired) => {
                suspended_at = None;
                inner.set_state(ConnectionState::Lost);
                events = inner.replace_session();
            }
            Some(SessionEvent::AuthFailed) => {
                warn!("authentication failed: the client cannot continue");
                inner.set_state(ConnectionState::Lost);
                return;
            }
            // A new session would meet the same certificates: like a failed
            // authentication, the end of the client (operations get Error::Tls).
            Some(SessionEvent::TlsFailed(failure)) => {
                warn!(%failure, "TLS failed with every server: the client cannot continue");
                inner.set_state(ConnectionState::Lost);
                return;
            }
            // Closed by someone other than the client, or the task is gone: keep a
            // session alive all the same.
            Some(SessionEvent::Closed) | Some(SessionEvent::Failed) | None => {
                suspended_at = None;
                if inner
                    .current_state()
                    .is_some_and(|s| s != ConnectionState::Lost)
                {
                    inner.set_state(ConnectionState::Lost);
                }
                events = inner.replace_session();
            }
        }
    }
}

/// The stream returned by [`Client::connection_states`]; it ends when the client closes.
#[derive(Debug)]
pub struct ConnectionStates {
    rx: mpsc::UnboundedReceiver<ConnectionState>,
}

impl Stream for ConnectionStates {
    type Item = ConnectionState;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConnectionState>> {
        self.rx.poll_recv(cx)
    }
}
