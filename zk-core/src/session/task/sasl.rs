//! The SASL login on a new connection (cargo features `sasl-digest-md5`, `sasl-gssapi`): right
//! after ZooKeeper's handshake, before credentials, SetWatches or any request, one `sasl`
//! request per token (the first one empty for DIGEST-MD5), each answered before the next is
//! sent. Nothing else is on the connection yet, so every reply must answer the token just sent.
//!
//! How it ends:
//! - logged in: the connection is served as any other;
//! - refused (the server's answer carries an error code, `AUTHFAILED`, or
//!   `SESSIONCLOSEDREQUIRESASLAUTH` on a server that requires SASL) or impossible (the
//!   server's token is malformed, or it cannot prove it knows the password): the session
//!   ends as `AuthFailed`, as the Java client's does: trying again would meet the same
//!   password. The reason is logged at `warn`, without any token;
//! - the connection failed or timed out on the way: a lost connection, tried again.
//!
//! Tokens are never logged, at any level: a DIGEST-MD5 response is a digest of the password
//! that an eavesdropper could attack offline.

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tracing::debug;

use super::connect::{handshake_io, read_one_frame};
use super::dispatch::xid_after;
use super::transport::Transport;
use crate::error::Disconnect;
use crate::proto::ops::{GetSaslRequest, SetSaslResponse};
use crate::proto::{Code, Decode, Reader, ReplyHeader, write_request};
use crate::sasl::SaslConfig;
use crate::session::connect_string::HostAddr;

/// More round trips than any mechanism here needs (DIGEST-MD5 takes two): a server that
/// keeps answering past this is not running the mechanism.
const MAX_ROUND_TRIPS: usize = 8;

/// How a login ended, when the connection held.
#[derive(Debug)]
pub(super) enum SaslOutcome {
    /// Logged in; requests go on from this xid.
    LoggedIn {
        /// The xid of the first request after the login.
        next_xid: i32,
    },
    /// The server refused the login, or the mechanism could not go on: the reason, for
    /// the log (it holds no token and no secret).
    Refused(String),
}

/// Logs in on `stream` with `config`, numbering the requests from `first_xid`.
pub(super) async fn login(
    config: &SaslConfig,
    stream: &mut Transport,
    host: &HostAddr,
    max_frame: usize,
    first_xid: i32,
) -> Result<SaslOutcome, Disconnect> {
    // Off the runtime's threads: GSSAPI's first step asks the KDC for a service ticket,
    // synchronously.
    let (config_for_start, target) = (config.clone(), host.host.clone());
    let started = tokio::task::spawn_blocking(move || {
        config_for_start
            .start(&target)
            .and_then(|mut login| Ok((login.initial()?, login)))
    })
    .await;
    let (mut token, mut login) = match started {
        Ok(Ok(started)) => started,
        Ok(Err(e)) => return Ok(SaslOutcome::Refused(e.to_string())),
        Err(e) => {
            return Ok(SaslOutcome::Refused(format!(
                "the SASL mechanism failed to start: {e}"
            )));
        }
    };
    let mut xid = first_xid;
    for round in 1..=MAX_ROUND_TRIPS {
        let mut buf = BytesMut::new();
        write_request(&mut buf, xid, &GetSaslRequest { token: &token });
        let sent = async {
            stream.write_all(&buf).await?;
            stream.flush().await
        };
        sent.await.map_err(|e| handshake_io(host, e))?;
        debug!(
            mechanism = config.mechanism(),
            round,
            token_len = token.len(),
            "SASL token sent"
        );
        let body = read_one_frame(stream, max_frame, host).await?;
        let mut r = Reader::new(body);
        let header = ReplyHeader::decode(&mut r)?;
        if header.xid != xid {
            return Err(Disconnect::UnexpectedXid {
                expected: Some(xid),
                got: header.xid,
            });
        }
        xid = xid_after(xid);
        if header.err != 0 {
            return Ok(SaslOutcome::Refused(format!(
                "the server refused the SASL login ({:?})",
                Code::from_i32(header.err)
            )));
        }
        let reply = SetSaslResponse::decode(&mut r)?;
        let server_token = reply.token.unwrap_or_default();
        debug!(round, token_len = server_token.len(), "SASL token received");
        match login.step(&server_token) {
            Ok(Some(next)) => token = next,
            Ok(None) if login.is_complete() => {
                return Ok(SaslOutcome::LoggedIn { next_xid: xid });
            }
            Ok(None) => {
                return Ok(SaslOutcome::Refused(
                    "the SASL mechanism stopped before completing".into(),
                ));
            }
            Err(e) => return Ok(SaslOutcome::Refused(e.to_string())),
        }
    }
    Ok(SaslOutcome::Refused(format!(
        "the SASL login did not complete within {MAX_ROUND_TRIPS} round trips"
    )))
}
