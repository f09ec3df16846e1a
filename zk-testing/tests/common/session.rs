//! A minimal ZooKeeper session over the raw protocol, for the kit's own tests (zk-testing must
//! not depend on a client crate): connect, create, exists, a raw SASL token, and nothing else. No pings, so keep
//! the work shorter than the session timeout.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a session asks for; the kit's servers grant up to 60 s.
const SESSION_TIMEOUT_MS: i32 = 60_000;
/// Deadline for one request and its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
const OP_CREATE: i32 = 1;
const OP_EXISTS: i32 = 3;
const OP_SASL: i32 = 102;
/// ZooKeeper's error code for a missing node.
const NO_NODE: i32 = -101;
/// Permission bits: read, write, create, delete, admin.
const PERMS_ALL: i32 = 31;
const MAX_FRAME: usize = 1 << 20;

/// An open session on one server.
pub(crate) struct RawSession {
    stream: TcpStream,
    next_xid: i32,
}

impl RawSession {
    /// Opens a new session on `addr`. `last_zxid_seen` is what a reconnecting client would
    /// send: a server that has applied less refuses the connection (it closes it).
    pub(crate) async fn connect(addr: SocketAddr, last_zxid_seen: i64) -> io::Result<RawSession> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut req = Vec::new();
        req.extend_from_slice(&0i32.to_be_bytes()); // protocolVersion
        req.extend_from_slice(&last_zxid_seen.to_be_bytes());
        req.extend_from_slice(&SESSION_TIMEOUT_MS.to_be_bytes());
        req.extend_from_slice(&0i64.to_be_bytes()); // sessionId: a new session
        put_buffer(&mut req, &[0; 16]); // passwd
        req.push(0); // readOnly
        write_frame(&mut stream, &req).await?;
        let resp = within(read_frame(&mut stream)).await?;
        // protocolVersion (4), timeOut (4), sessionId (8), passwd
        if be_i32(&resp, 4)? <= 0 {
            return Err(io::Error::other("the server refused the session"));
        }
        Ok(RawSession {
            stream,
            next_xid: 1,
        })
    }

    /// Creates a persistent node open to everyone; returns the zxid of the transaction.
    pub(crate) async fn create(&mut self, path: &str, data: &[u8]) -> io::Result<i64> {
        let mut body = Vec::new();
        put_string(&mut body, path);
        put_buffer(&mut body, data);
        body.extend_from_slice(&1i32.to_be_bytes()); // one ACL
        body.extend_from_slice(&PERMS_ALL.to_be_bytes());
        put_string(&mut body, "world");
        put_string(&mut body, "anyone");
        body.extend_from_slice(&0i32.to_be_bytes()); // flags: persistent
        let (zxid, err) = self.call(OP_CREATE, &body).await?;
        match err {
            0 => Ok(zxid),
            err => Err(io::Error::other(format!("create {path}: error {err}"))),
        }
    }

    /// Whether the node exists on the server this session is connected to (a local read).
    pub(crate) async fn exists(&mut self, path: &str) -> io::Result<bool> {
        let mut body = Vec::new();
        put_string(&mut body, path);
        body.push(0); // no watch
        match self.call(OP_EXISTS, &body).await?.1 {
            0 => Ok(true),
            NO_NODE => Ok(false),
            err => Err(io::Error::other(format!("exists {path}: error {err}"))),
        }
    }

    /// Sends one SASL token (op `sasl`, a `GetSASLRequest`); returns the reply's error code
    /// and the server's token (`SetSASLResponse`, empty when the server sent none).
    pub(crate) async fn sasl(&mut self, token: &[u8]) -> io::Result<(i32, Vec<u8>)> {
        let mut body = Vec::new();
        put_buffer(&mut body, token);
        let (_, err, reply) = self.call_for_body(OP_SASL, &body).await?;
        // The body: a buffer (length -1 for none), absent after an error.
        let token = match reply
            .get(16..20)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        {
            Some(len) if len > 0 => reply
                .get(20..20 + len as usize)
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "short token"))?
                .to_vec(),
            _ => Vec::new(),
        };
        Ok((err, token))
    }

    /// Sends one request and returns its reply header's zxid and error code.
    async fn call(&mut self, op: i32, body: &[u8]) -> io::Result<(i64, i32)> {
        let (zxid, err, _) = self.call_for_body(op, body).await?;
        Ok((zxid, err))
    }

    /// Sends one request and returns its reply header's zxid and error code, and the whole
    /// reply frame.
    async fn call_for_body(&mut self, op: i32, body: &[u8]) -> io::Result<(i64, i32, Vec<u8>)> {
        let xid = self.next_xid;
        self.next_xid += 1;
        let mut req = Vec::with_capacity(8 + body.len());
        req.extend_from_slice(&xid.to_be_bytes());
        req.extend_from_slice(&op.to_be_bytes());
        req.extend_from_slice(body);
        write_frame(&mut self.stream, &req).await?;
        loop {
            let reply = within(read_frame(&mut self.stream)).await?;
            // ReplyHeader: xid (4), zxid (8), err (4); skip anything that is not our reply.
            if be_i32(&reply, 0)? == xid {
                let zxid = reply
                    .get(4..12)
                    .and_then(|b| b.try_into().ok())
                    .map(i64::from_be_bytes)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "short reply"))?;
                let err = be_i32(&reply, 12)?;
                return Ok((zxid, err, reply));
            }
        }
    }
}

async fn within<T>(io: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(REPLY_TIMEOUT, io)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply in time"))?
}

fn put_string(buf: &mut Vec<u8>, s: &str) {
    put_buffer(buf, s.as_bytes());
}

fn put_buffer(buf: &mut Vec<u8>, bytes: &[u8]) {
    let len = i32::try_from(bytes.len()).expect("test payloads are small");
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
}

async fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(4 + body.len());
    put_buffer(&mut frame, body);
    stream.write_all(&frame).await
}

async fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let len = stream.read_i32().await?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("frame of {len}")))?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await?;
    Ok(body)
}

fn be_i32(buf: &[u8], at: usize) -> io::Result<i32> {
    buf.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_be_bytes)
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "short reply"))
}
