//! The floor: the least CPU any client can spend on this workload on this machine.
//!
//! It is not a client library. It speaks to the server over one blocking socket on
//! the calling thread, with every request frame encoded before the phase starts, and
//! reads replies only as far as the length, xid and error code. What it spends per
//! operation is the system calls (one `write` and one `read` per round trip, no
//! `epoll_wait`) and the kernel's loopback TCP path, which every client pays as
//! well. A goal below the floor cannot be met by any client, in any language.
//!
//! At depth N it keeps N requests in flight: it writes N frames, and after each
//! read it writes as many new frames as replies arrived, in one `write`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use zk_core::proto::ops::{Create2Request, DeleteRequest, GetDataRequest, SetDataRequest};
use zk_core::proto::{
    Acl, Code, ConnectRequest, ConnectResponse, Decode, Reader, Request, frame, write_request,
};

use crate::client::{ClientPlan, HOUSEKEEPING_DEPTH, phases};
use crate::cpu::process_cpu_ns;
use crate::stats::percentile;
use crate::workload::{Layout, Measurement, Op, payload};

/// The name in result lines.
pub(crate) const NAME: &str = "floor";
/// Session timeout asked for; phases send without pause, so the session stays alive.
const SESSION_TIMEOUT_MS: i32 = 30_000;
/// A reply header: xid, zxid, err.
const REPLY_HEADER: usize = 16;

/// Runs the plan on a raw socket, printing result lines to standard output.
pub(crate) fn run(plan: &ClientPlan) -> Result<(), String> {
    let mut conn = RawConnection::connect(&plan.addr)?;
    let layout = Layout::new(&plan.root);
    let data = payload();
    let acl = [Acl::open_unsafe()];
    let parents = [
        layout.root.clone(),
        layout.nodes_parent.clone(),
        layout.create_parent.clone(),
    ];
    let exists_ok = [Code::Ok, Code::NodeExists];
    let gone_ok = [Code::Ok, Code::NoNode];
    conn.run(
        &conn.encode(&parents, |p| create(p, &data, &acl)),
        1,
        &exists_ok,
        None,
    )?;
    conn.run(
        &conn.encode(&layout.nodes, |p| create(p, &data, &acl)),
        HOUSEKEEPING_DEPTH,
        &exists_ok,
        None,
    )?;

    for (timed, op, depth, count) in phases(plan) {
        let tag = format!("{}{depth}", if timed { "t" } else { "w" });
        let paths = layout.phase_paths(op, &tag, count);
        let frames = match op {
            Op::Get => conn.encode(&paths, |p| GetDataRequest {
                path: p,
                watch: false,
            }),
            Op::Set => conn.encode(&paths, |p| SetDataRequest {
                path: p,
                data: &data,
                version: -1,
            }),
            Op::Create => conn.encode(&paths, |p| create(p, &data, &acl)),
        };
        let mut latencies = Vec::with_capacity(if depth == 1 { count } else { 0 });
        let cpu0 = process_cpu_ns();
        let t0 = Instant::now();
        conn.run(
            &frames,
            depth,
            &[Code::Ok],
            (depth == 1).then_some(&mut latencies),
        )?;
        let wall_ns = t0.elapsed().as_nanos() as u64;
        let cpu_ns = process_cpu_ns() - cpu0;
        if timed {
            let m = Measurement {
                client: NAME.to_string(),
                op,
                depth,
                ops: count as u64,
                wall_ns,
                cpu_ns,
                p50_ns: percentile(&mut latencies, 50.0),
                p99_ns: percentile(&mut latencies, 99.0),
            };
            println!("{m}");
        }
        if op == Op::Create {
            conn.run(
                &conn.encode(&paths, delete),
                HOUSEKEEPING_DEPTH,
                &gone_ok,
                None,
            )?;
        }
    }

    conn.run(
        &conn.encode(&layout.nodes, delete),
        HOUSEKEEPING_DEPTH,
        &gone_ok,
        None,
    )?;
    let reversed: Vec<String> = parents.iter().rev().cloned().collect();
    conn.run(&conn.encode(&reversed, delete), 1, &gone_ok, None)?;
    Ok(())
}

/// A persistent node with `data` (create2).
fn create<'a>(path: &'a str, data: &'a [u8], acl: &'a [Acl]) -> Create2Request<'a> {
    Create2Request {
        path,
        data,
        acl,
        flags: 0,
    }
}

/// A delete of any version.
fn delete(path: &str) -> DeleteRequest<'_> {
    DeleteRequest { path, version: -1 }
}

/// Request frames laid end to end, with the xid of the first and where each starts.
struct Frames {
    bytes: Bytes,
    /// Start of every frame, then the end of the last.
    bounds: Vec<usize>,
    first_xid: i32,
}

impl Frames {
    fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The bytes of frames `from..to`.
    fn span(&self, from: usize, to: usize) -> &[u8] {
        &self.bytes[self.bounds[from]..self.bounds[to]]
    }
}

/// One session on a blocking socket.
struct RawConnection {
    sock: TcpStream,
    next_xid: i32,
    rbuf: Vec<u8>,
}

impl RawConnection {
    fn connect(addr: &str) -> Result<RawConnection, String> {
        let sock = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
        sock.set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| format!("read timeout: {e}"))?;
        let mut conn = RawConnection {
            sock,
            next_xid: 1,
            rbuf: vec![0; 256 * 1024],
        };
        let mut buf = BytesMut::new();
        frame::write(
            &mut buf,
            &ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                timeout_ms: SESSION_TIMEOUT_MS,
                session_id: 0,
                passwd: Bytes::from_static(&[0; 16]),
                read_only: false,
            },
        );
        conn.write(&buf)?;
        let mut len = [0u8; 4];
        conn.read_exact(&mut len)?;
        let mut body = vec![0u8; i32::from_be_bytes(len).max(0) as usize];
        conn.read_exact(&mut body)?;
        let resp = ConnectResponse::decode(&mut Reader::new(Bytes::from(body)))
            .map_err(|e| format!("handshake: {e}"))?;
        if resp.timeout_ms <= 0 {
            return Err("handshake refused".into());
        }
        Ok(conn)
    }

    /// Encodes one request per path, with consecutive xids.
    fn encode<'p, R: Request>(&self, paths: &'p [String], build: impl Fn(&'p str) -> R) -> Frames {
        let mut bytes = BytesMut::with_capacity(paths.len() * 160);
        let mut bounds = Vec::with_capacity(paths.len() + 1);
        let first_xid = self.next_xid;
        for (i, p) in paths.iter().enumerate() {
            bounds.push(bytes.len());
            write_request(&mut bytes, first_xid + i as i32, &build(p));
        }
        bounds.push(bytes.len());
        Frames {
            bytes: bytes.freeze(),
            bounds,
            first_xid,
        }
    }

    /// Sends every frame with `depth` in flight; each reply must carry one of `ok`.
    /// With `latencies`, records each round trip (meant for depth 1).
    fn run(
        &mut self,
        frames: &Frames,
        depth: usize,
        ok: &[Code],
        mut latencies: Option<&mut Vec<u64>>,
    ) -> Result<(), String> {
        if frames.first_xid != self.next_xid {
            return Err("frames encoded out of turn".into());
        }
        let n = frames.len();
        let mut sent = depth.max(1).min(n);
        let mut done = 0;
        let (mut start, mut end) = (0usize, 0usize);
        let mut t = Instant::now();
        self.write(frames.span(0, sent))?;
        while done < n {
            if end == self.rbuf.len() {
                if start == 0 {
                    return Err("a reply larger than the read buffer".into());
                }
                self.rbuf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            let got = self
                .sock
                .read(&mut self.rbuf[end..])
                .map_err(|e| format!("read: {e}"))?;
            if got == 0 {
                return Err("server closed the connection".into());
            }
            end += got;
            let before = done;
            while let Some(len) = frame::check(&self.rbuf[start..end], frame::DEFAULT_MAX_FRAME_LEN)
                .map_err(|e| format!("reply: {e}"))?
            {
                let at = start + frame::LENGTH_PREFIX;
                let body = &self.rbuf[at..at + len];
                if body.len() < REPLY_HEADER {
                    return Err("reply shorter than its header".into());
                }
                let xid = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let err =
                    Code::from_i32(i32::from_be_bytes([body[12], body[13], body[14], body[15]]));
                let expected = frames.first_xid + done as i32;
                if xid != expected {
                    return Err(format!("reply xid {xid}, expected {expected}"));
                }
                if !ok.contains(&err) {
                    return Err(format!("request {done}: {err:?}"));
                }
                done += 1;
                start = at + len;
                if let Some(l) = latencies.as_deref_mut() {
                    l.push(t.elapsed().as_nanos() as u64);
                    t = Instant::now();
                }
            }
            if start == end {
                start = 0;
                end = 0;
            }
            let more = (sent + (done - before)).min(n);
            if more > sent {
                self.write(frames.span(sent, more))?;
                sent = more;
            }
        }
        self.next_xid += n as i32;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.sock
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.sock.read_exact(buf).map_err(|e| format!("read: {e}"))
    }
}
