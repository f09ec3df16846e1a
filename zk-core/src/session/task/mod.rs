//! The task that owns a session's socket, and its life from first connect to the
//! session's end.
//!
//! It connects (trying hosts in turn), performs the handshake, re-sends credentials
//! and re-registers watches, then pipelines requests: each frame is written as it
//! arrives, many per flush, and replies are matched to requests in xid order. It
//! pings when idle, drops the connection when nothing arrives within the read
//! timeout, and ends every request and watch when the session ends. Handles talk to
//! it only through the command channel; when the last handle is gone it closes the
//! session and exits.
//!
//! This file holds the task's state and the loop around connections: when to try
//! again, what a lost connection fails, and how the session ends. Each part of one
//! connection's life has a file of its own:
//!
//! - `connect`: one attempt (host, TCP, TLS, handshake) and what a new connection
//!   sends first (credentials, SetWatches); when TLS failures end the session.
//! - `sasl`: the SASL login on a new connection, between the handshake and the rest.
//! - `transport`: the stream a connection runs on, plain TCP or TLS.
//! - `pump`: serving an established connection: the batched writes, the reads, and
//!   the one timer for pings, the read timeout and the close timeout.
//! - `dispatch`: the requests in flight: commands put on the wire with their xids,
//!   and every reply frame matched to its request, auth waiter or watch.

mod connect;
mod dispatch;
mod pump;
#[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
mod sasl;
mod transport;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep_until;
use tracing::{debug, warn};

use crate::error::{Disconnect, Error};
use crate::proto::KeeperState;
use crate::session::config::SessionConfig;
use crate::session::event::{SessionEvent, SessionState};
use crate::session::hosts::HostRotation;
use crate::session::packet::Command;
use crate::session::shared::Shared;
use crate::watch::registry::WatchRegistry;
use dispatch::InFlight;

/// How a session ends.
#[derive(Debug, Clone, Copy)]
enum Terminal {
    /// The server expired the session, or the client gave it up (abandon).
    Expired,
    /// The server refused the session's credentials.
    AuthFailed,
    /// TLS failed with every host in a row (the failure is in `Shared`).
    TlsFailed,
    /// The session was closed, or every handle is gone.
    Closed,
}

/// Why serving one connection stopped.
enum ConnectionEnd {
    /// The connection dropped; the session lives on and the task reconnects.
    Lost(Disconnect),
    /// The session ended.
    Terminal(Terminal),
}

/// The session task's state.
pub(crate) struct SessionTask {
    /// What the session was opened with.
    config: Arc<SessionConfig>,
    /// The state, ids and events published to handles.
    shared: Arc<Shared>,
    /// Commands from the handles; closed when the last handle is dropped.
    rx: mpsc::UnboundedReceiver<Command>,
    /// Which host to try next.
    hosts: HostRotation,
    /// The session's live watches.
    registry: WatchRegistry,
    /// Every credential added, re-sent on each new connection.
    auth: Vec<(String, Bytes)>,
    /// Watches whose receiver was gone when their reply added them, to remove from
    /// the server (see `dispatch.rs` `unwatch`).
    dropped_on_reply: Vec<String>,
    /// Commands received while no connection was up, sent once one is.
    queued: VecDeque<Command>,
    /// What was written on the connection and awaits an answer.
    in_flight: InFlight,
    /// The session's id (0 until the first handshake), sent to resume it.
    session_id: i64,
    /// The session's password, sent with its id.
    password: Bytes,
    /// Whether a read-write server has accepted this session. Until one has, the
    /// session exists only on the read-only server that made it (a local session),
    /// and no other server can resume it.
    seen_rw_server: bool,
    /// The session timeout the server granted, once a handshake has been done.
    negotiated: Option<Duration>,
    /// Whether the last failed attempt completed a round of every host: the next
    /// attempt then waits a full pause, not just the jitter.
    cycle_failed: bool,
    /// Attempts in a row that failed in TLS; the session ends when it reaches the
    /// number of hosts.
    tls_failures_in_a_row: usize,
    /// Set once a close was asked for: who to tell when it is done.
    closing: Option<Vec<oneshot::Sender<()>>>,
    /// How the session ends once closing is done: Closed, or Expired when abandoned.
    close_as: Terminal,
}

impl SessionTask {
    /// A task for a new session (or one to resume, if `config` says so), fed by
    /// `rx` and publishing through `shared`. Nothing runs until [`Self::run`].
    pub(crate) fn new(
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
            dropped_on_reply: Vec::new(),
            in_flight: InFlight::new(),
            seen_rw_server,
            session_id,
            password,
            negotiated: None,
            closing: None,
            close_as: Terminal::Closed,
            cycle_failed: false,
            tls_failures_in_a_row: 0,
        }
    }

    /// Runs the session until it expires, fails authentication or is closed.
    pub(crate) async fn run(mut self) {
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

    /// The session timeout the timers are based on: the negotiated one, or the
    /// requested one before the first handshake.
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
            // Handled at once: no server to tell, and the answer is local.
            Some(Command::Unwatch { path }) => {
                self.unwatch(&path, None);
                None
            }
            Some(Command::WatchCounts { reply }) => {
                let _ = reply.send(self.registry.counts());
                None
            }
            Some(cmd) => {
                self.queued.push_back(cmd);
                None
            }
        }
    }

    /// The connection dropped: fail what was in flight and tell listeners.
    fn lost(&mut self, reason: Disconnect) {
        warn!(%reason, "connection lost");
        self.in_flight
            .fail_all(&Error::ConnectionLoss(reason.clone()));
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
            // Watches end as if authentication had failed: the client could not
            // authenticate any server (or be authenticated by one).
            Terminal::TlsFailed => (
                SessionState::TlsFailed,
                match self.shared.terminal_error(SessionState::TlsFailed) {
                    Some(Error::Tls(failure)) => SessionEvent::TlsFailed(failure),
                    _ => SessionEvent::Failed,
                },
                KeeperState::AuthFailed,
            ),
            Terminal::Closed => (
                SessionState::Closed,
                SessionEvent::Closed,
                KeeperState::Closed,
            ),
        };
        let err = self.shared.terminal_error(state).unwrap_or(Error::Closed);
        // Publish the state first, so a handle that sees its request refused reads it.
        self.shared.set_state(state);
        self.rx.close();
        self.in_flight.fail_all(&err);
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

/// A socket error as the reason a connection was lost.
fn io(e: std::io::Error) -> Disconnect {
    Disconnect::Io(Arc::new(e))
}
