//! One connection attempt: the next host, the TCP connect, the TLS handshake (when
//! configured), ZooKeeper's handshake and the SASL login (when configured, `sasl.rs`), and
//! what every new connection sends before anything else (credentials, then the watches to
//! re-register). A refused SASL login ends the session as `AuthFailed`.
//!
//! A TLS failure (a certificate that does not verify, or a server that refuses ours)
//! moves on to the next host like any failed attempt, and is logged at `warn`. When
//! every host of the connect string has failed TLS in a row, trying again cannot help
//! (certificates do not fix themselves): the session ends as `TlsFailed` and
//! operations get `Error::Tls`. Any other outcome in between (a host that is down, a
//! handshake that times out, a connection) starts the count again.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, warn};

use super::transport::Transport;
use super::{ConnectionEnd, SessionTask, Terminal, io};
use crate::error::Disconnect;
use crate::proto::{ConnectRequest, ConnectResponse, Decode, Reader, frame};
use crate::session::connect_string::HostAddr;
use crate::session::event::{SessionEvent, SessionState};
use crate::session::hosts;
use crate::watch::set_watches::write_set_watches;

impl SessionTask {
    /// One connection attempt: the next host, the TCP connect and the handshake, all
    /// within the connect timeout, while commands keep queuing.
    pub(super) async fn connect(&mut self) -> Result<Result<Transport, ConnectionEnd>, Terminal> {
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
        #[cfg(feature = "tls")]
        let tls = self.config.tls.clone();
        #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
        let (sasl, first_xid) = (self.config.sasl.clone(), self.in_flight.peek_xid());
        debug!(%host, ?connect_timeout, "connecting");
        let attempt = async move {
            let addr = hosts::resolve(&host)
                .await
                .map_err(|e| Disconnect::ConnectFailed(format!("{host}: {e}")))?;
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| Disconnect::ConnectFailed(format!("{addr}: {e}")))?;
            let _ = tcp.set_nodelay(true);
            #[cfg(feature = "tls")]
            let mut stream = match &tls {
                Some(tls) => {
                    Transport::Tls(Box::new(crate::tls::handshake(tls, &host, tcp).await?))
                }
                None => Transport::Plain(tcp),
            };
            #[cfg(not(feature = "tls"))]
            let mut stream = Transport::Plain(tcp);
            let mut buf = BytesMut::new();
            frame::write(&mut buf, &request);
            let sent = async {
                stream.write_all(&buf).await?;
                // TLS holds written bytes until flushed; plain TCP does nothing here.
                stream.flush().await
            };
            sent.await.map_err(|e| handshake_io(&host, e))?;
            let body = read_one_frame(&mut stream, max_frame, &host).await?;
            let resp = ConnectResponse::decode(&mut Reader::new(body))?;
            // Logged in before anything else is sent; an expired session has nothing to
            // log in to.
            #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
            let login = match &sasl {
                Some(sasl) if resp.timeout_ms > 0 => {
                    Some(super::sasl::login(sasl, &mut stream, &host, max_frame, first_xid).await?)
                }
                _ => None,
            };
            #[cfg(not(any(feature = "sasl-digest-md5", feature = "sasl-gssapi")))]
            let login = None::<std::convert::Infallible>;
            Ok::<_, Disconnect>((stream, resp, login))
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
        let (stream, resp, login) = match result {
            Err(_) => {
                self.cycle_failed = self.hosts.failed();
                self.tls_failures_in_a_row = 0;
                return Ok(Err(ConnectionEnd::Lost(Disconnect::ConnectFailed(
                    format!("no handshake within {connect_timeout:?}"),
                ))));
            }
            Ok(Err(reason)) => {
                self.cycle_failed = self.hosts.failed();
                return Ok(Err(self.attempt_failed(reason)));
            }
            Ok(Ok(ok)) => ok,
        };
        self.tls_failures_in_a_row = 0;
        if resp.timeout_ms <= 0 {
            return Ok(Err(ConnectionEnd::Terminal(Terminal::Expired)));
        }
        #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
        match login {
            Some(super::sasl::SaslOutcome::Refused(reason)) => {
                warn!(%reason, "SASL login failed: the session ends");
                return Ok(Err(ConnectionEnd::Terminal(Terminal::AuthFailed)));
            }
            Some(super::sasl::SaslOutcome::LoggedIn { next_xid }) => {
                debug!("SASL login done");
                self.in_flight.resume_xids_at(next_xid);
            }
            None => {}
        }
        #[cfg(not(any(feature = "sasl-digest-md5", feature = "sasl-gssapi")))]
        let _ = login;
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

    /// What a failed attempt means: a lost connection to try again, or, once TLS has
    /// failed with every host in a row, the end of the session.
    fn attempt_failed(&mut self, reason: Disconnect) -> ConnectionEnd {
        let Disconnect::Tls(failure) = &reason else {
            self.tls_failures_in_a_row = 0;
            return ConnectionEnd::Lost(reason);
        };
        warn!(host = %failure.host, kind = ?failure.kind, reason = %failure.reason, "TLS handshake failed");
        self.tls_failures_in_a_row += 1;
        if self.tls_failures_in_a_row < self.hosts.len() {
            return ConnectionEnd::Lost(reason);
        }
        warn!(
            hosts = self.hosts.len(),
            "TLS failed with every server in a row: the session ends"
        );
        self.shared.set_tls_failure(failure.clone());
        ConnectionEnd::Terminal(Terminal::TlsFailed)
    }

    /// Writes what every new connection sends before anything else: credentials,
    /// then the watches to re-register.
    pub(super) fn prime(&mut self, wbuf: &mut BytesMut) {
        for (scheme, auth) in &self.auth {
            self.in_flight.send_auth(wbuf, scheme, auth, None);
        }
        write_set_watches(
            wbuf,
            &self.registry.live_paths(),
            self.shared.last_zxid(),
            self.config.connect_string.chroot.as_deref(),
        );
    }
}

/// Reads exactly one frame's body during the handshake.
pub(super) async fn read_one_frame(
    stream: &mut Transport,
    max: usize,
    host: &HostAddr,
) -> Result<Bytes, Disconnect> {
    let mut buf = BytesMut::with_capacity(64);
    loop {
        if let Some(len) = frame::check(&buf, max)? {
            buf.advance(frame::LENGTH_PREFIX);
            return Ok(buf.split_to(len).freeze());
        }
        let read = stream
            .read_buf(&mut buf)
            .await
            .map_err(|e| handshake_io(host, e))?;
        if read == 0 {
            return Err(Disconnect::Eof);
        }
    }
}

/// An I/O error before the session's handshake is done: a TLS failure that shows only
/// now (with TLS 1.3 a server refuses the client's certificate after the TLS
/// handshake, on the first read) counts as the TLS failure it is.
pub(super) fn handshake_io(host: &HostAddr, e: std::io::Error) -> Disconnect {
    #[cfg(feature = "tls")]
    if let Some(failure) = crate::tls::tls_error(host, &e) {
        return Disconnect::Tls(failure);
    }
    #[cfg(not(feature = "tls"))]
    let _ = host;
    io(e)
}
