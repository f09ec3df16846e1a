//! Expiring a client's session on purpose, the way ZooKeeper's own tests do it: open a
//! second connection that resumes the session with its id and password, and close
//! the session from there. The server ends the session at once (its ephemeral nodes
//! go, its watches fire), drops the original connection, and the original client
//! learns on its next connect that the session has expired.
//!
//! The handful of protocol bytes this needs are written here by hand, so the kit does
//! not depend on any client crate.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::error::{Error, Result};

/// How long [`expire_session`] may take on one server, connect to close.
const EXPIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// The session timeout asked for on the second connection; it only has to be valid,
/// the session ends immediately.
const REQUESTED_TIMEOUT_MS: i32 = 10_000;
/// The opcode of closeSession.
const OP_CLOSE_SESSION: i32 = -11;
/// The xid the closeSession request is sent with.
const CLOSE_XID: i32 = 1;
/// Replies bigger than this are not expected on this connection.
const MAX_FRAME: usize = 1 << 20;

/// Expires the session `session_id` (with its `password`) on the server(s) of
/// `connect_string` (`host:port[,host:port...][/chroot]`; the chroot is ignored).
///
/// Resolves once the server has acknowledged closeSession: the session no longer
/// exists on the ensemble. The client that owned it sees it expire when it
/// reconnects. Hosts are tried in order until one answers; the error of the last one
/// is returned if none does. A session the server does not know (already expired,
/// or a wrong password) is an error.
///
/// ```no_run
/// # async fn demo(id: i64, password: &[u8]) -> Result<(), zk_testing::Error> {
/// let server = zk_testing::TestingServer::start().await?;
/// zk_testing::expire_session(&server.connect_string(), id, password).await?;
/// # Ok(()) }
/// ```
pub async fn expire_session(connect_string: &str, session_id: i64, password: &[u8]) -> Result<()> {
    let hosts = hosts_of(connect_string);
    if hosts.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "connect string {connect_string:?} names no server"
        )));
    }
    let mut last = None;
    for host in &hosts {
        let what = format!("expiring session {session_id:#x} through {host}");
        match timeout(
            EXPIRE_TIMEOUT,
            close_on_with_retries(host, session_id, password),
        )
        .await
        {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = Some(Error::io(what, e)),
            Err(_) => {
                last = Some(Error::Timeout {
                    what,
                    waited: EXPIRE_TIMEOUT,
                    log_hint: String::new(),
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::InvalidConfig("no server tried".into())))
}

/// How many times one server is asked when the connection drops before the
/// closeSession reply.
const ATTEMPTS_PER_HOST: u32 = 5;

/// [`close_on`], again when the connection is dropped before the reply. The owner of
/// the session, kicked off by our resume, reconnects and resumes it in turn, and the
/// server then drops *our* connection: that race is lost, not a failure. Once an
/// attempt was cut short, a later "no such session" means an earlier closeSession did
/// its work.
async fn close_on_with_retries(host: &str, session_id: i64, password: &[u8]) -> io::Result<()> {
    let mut cut_short = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match close_on(host, session_id, password).await {
            Ok(()) => return Ok(()),
            Err(e) if cut_short && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if attempt < ATTEMPTS_PER_HOST && is_dropped(&e) => {
                cut_short = true;
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether the server hung up on us mid-exchange.
fn is_dropped(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

/// The `host:port` entries of a connect string, without its chroot; a missing port
/// is ZooKeeper's default, 2181.
fn hosts_of(connect_string: &str) -> Vec<String> {
    let hosts = match connect_string.find('/') {
        Some(i) => &connect_string[..i],
        None => connect_string,
    };
    hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let after_bracket = h.rfind(']').map_or(h, |i| &h[i..]);
            if after_bracket.contains(':') && (h.starts_with('[') || h.matches(':').count() == 1) {
                h.to_string()
            } else {
                format!("{h}:2181")
            }
        })
        .collect()
}

/// Resumes the session on `host` and closes it there.
async fn close_on(host: &str, session_id: i64, password: &[u8]) -> io::Result<()> {
    let mut stream = TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;

    let mut connect = Vec::with_capacity(64);
    connect.extend_from_slice(&0i32.to_be_bytes()); // protocolVersion
    connect.extend_from_slice(&0i64.to_be_bytes()); // lastZxidSeen
    connect.extend_from_slice(&REQUESTED_TIMEOUT_MS.to_be_bytes()); // timeOut
    connect.extend_from_slice(&session_id.to_be_bytes()); // sessionId
    let pw_len = i32::try_from(password.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "password too long"))?;
    connect.extend_from_slice(&pw_len.to_be_bytes()); // passwd
    connect.extend_from_slice(password);
    connect.push(0); // readOnly: false
    let mut close = Vec::with_capacity(8);
    close.extend_from_slice(&CLOSE_XID.to_be_bytes());
    close.extend_from_slice(&OP_CLOSE_SESSION.to_be_bytes());
    // Both requests in one write: the server reads closeSession right after the
    // handshake, leaving the session's owner little time to take it back.
    let mut both = framed(&connect)?;
    both.extend_from_slice(&framed(&close)?);
    stream.write_all(&both).await?;

    let resp = read_frame(&mut stream).await?;
    // protocolVersion (4), timeOut (4), sessionId (8), ...
    let timeout_ms = be_i32(&resp, 4)?;
    if timeout_ms <= 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the server refused to resume the session: it has already expired, or the \
             password is wrong",
        ));
    }

    // Skip anything else (a notification, say) until the closeSession reply.
    loop {
        let reply = read_frame(&mut stream).await?;
        // ReplyHeader: xid (4), zxid (8), err (4).
        if be_i32(&reply, 0)? != CLOSE_XID {
            continue;
        }
        let err = be_i32(&reply, 12)?;
        if err != 0 {
            return Err(io::Error::other(format!(
                "the server answered closeSession with error code {err}"
            )));
        }
        return Ok(());
    }
}

fn framed(body: &[u8]) -> io::Result<Vec<u8>> {
    let len = i32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(body);
    Ok(frame)
}

async fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let len = stream.read_i32().await?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_FRAME)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad frame length {len}"),
            )
        })?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await?;
    Ok(body)
}

fn be_i32(buf: &[u8], at: usize) -> io::Result<i32> {
    buf.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_be_bytes)
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "reply too short"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings_give_their_hosts_with_default_ports_and_no_chroot() {
        assert_eq!(
            hosts_of("127.0.0.1:2182,localhost/app/x"),
            vec!["127.0.0.1:2182", "localhost:2181"]
        );
        assert_eq!(
            hosts_of("[::1]:3000, [::1]"),
            vec!["[::1]:3000", "[::1]:2181"]
        );
        assert!(hosts_of("/only-chroot").is_empty());
    }
}
