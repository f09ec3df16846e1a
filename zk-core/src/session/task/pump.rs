//! Serving one established connection: the pump that moves commands to the socket
//! and frames from it, and the one timer behind pings, the read timeout and the
//! close timeout.
//!
//! Writes are batched: every command already waiting is encoded into the write
//! buffer before the next write, so many requests cost one system call. Over TLS a
//! write may leave encrypted bytes inside the TLS layer, so once the buffer is empty
//! the pump flushes before it counts the batch as sent (plain TCP has nothing to
//! flush, and skips that).

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep_until};
use tracing::debug;

use super::transport::Transport;
use super::{ConnectionEnd, SessionTask, io};
use crate::error::Disconnect;
use crate::proto::frame::{Split, Splitter};
use crate::proto::opcode::xid;
use crate::proto::ops::PingRequest;
use crate::proto::{ReplyHeader, write_request};
use crate::session::packet::Command;

/// A ping is sent at least this often, whatever the timeout.
const MAX_PING_INTERVAL: Duration = Duration::from_secs(10);
/// Most commands taken from the channel before the buffer is written.
const MAX_COMMANDS_PER_WRITE: usize = 1024;

impl SessionTask {
    /// Serves one established connection until it drops or the session ends.
    pub(super) async fn serve(&mut self, stream: Transport) -> ConnectionEnd {
        match stream {
            Transport::Plain(tcp) => {
                let (rd, wr) = tcp.into_split();
                self.serve_halves(rd, wr, false).await
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => {
                let (rd, wr) = tokio::io::split(*tls);
                self.serve_halves(rd, wr, true).await
            }
        }
    }

    /// Serves a connection through its two halves; `buffered` says that written bytes
    /// may wait in the writer until flushed (TLS).
    async fn serve_halves<R, W>(&mut self, mut rd: R, mut wr: W, buffered: bool) -> ConnectionEnd
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        // Bytes written to a buffering writer and not flushed yet.
        let mut unflushed = false;
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut frames = Splitter::new(self.config.max_frame_len, ReplyHeader::ENCODED_LEN);
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        let read_timeout = self.requested_timeout() * 2 / 3;
        let ping_interval = (read_timeout / 2).min(MAX_PING_INTERVAL);
        self.prime(&mut wbuf);
        let queued: Vec<Command> = self.queued.drain(..).collect();
        for cmd in queued {
            if let Some(end) = self.take_command(cmd, &mut wbuf) {
                return end;
            }
        }
        let mut last_recv = Instant::now();
        let mut last_send = Instant::now();
        let mut close_deadline: Option<Instant> = None;
        // One timer for pings, the read timeout and the close timeout. It is not
        // moved on every send and receive (that would touch the timer wheel twice per
        // request): when it fires it checks what is really due and re-arms for the
        // next deadline. Sends and receives only push deadlines later, so it may fire
        // early but never late.
        let mut timer = std::pin::pin!(sleep_until(last_send + ping_interval.min(read_timeout)));
        loop {
            if self.closing.is_some() && close_deadline.is_none() {
                let d = crate::time::deadline_in(self.config.close_timeout);
                close_deadline = Some(d);
                if d < timer.deadline() {
                    timer.as_mut().reset(d);
                }
            }
            tokio::select! {
                biased;
                r = rd.read_buf(&mut rbuf) => match r {
                    Ok(0) => return ConnectionEnd::Lost(Disconnect::Eof),
                    Ok(_) => {
                        last_recv = Instant::now();
                        if let Some(end) = self.read_frames(&mut frames, &mut rbuf) {
                            return end;
                        }
                        for path in std::mem::take(&mut self.dropped_on_reply) {
                            self.unwatch(&path, Some(&mut wbuf));
                        }
                    }
                    Err(e) => return ConnectionEnd::Lost(io(e)),
                },
                r = write_some(&mut wr, &mut wbuf, &mut unflushed, buffered), if !wbuf.is_empty() || unflushed => match r {
                    Ok(()) => last_send = Instant::now(),
                    Err(e) => return ConnectionEnd::Lost(io(e)),
                },
                cmd = self.rx.recv(), if self.closing.is_none() => {
                    let Some(cmd) = cmd else {
                        // Every handle is gone: close the session on the way out.
                        self.start_close(None, &mut wbuf);
                        continue;
                    };
                    if let Some(end) = self.take_command(cmd, &mut wbuf) {
                        return end;
                    }
                    // Batch whatever else is already waiting into the same write.
                    for _ in 0..MAX_COMMANDS_PER_WRITE {
                        match self.rx.try_recv() {
                            Ok(cmd) => if let Some(end) = self.take_command(cmd, &mut wbuf) {
                                return end;
                            },
                            Err(_) => break,
                        }
                        if self.closing.is_some() {
                            break;
                        }
                    }
                },
                () = &mut timer => {
                    let now = Instant::now();
                    if close_deadline.is_some_and(|d| now >= d) {
                        debug!("closeSession not acknowledged in time");
                        return ConnectionEnd::Terminal(self.close_as);
                    }
                    if now >= last_recv + read_timeout {
                        return ConnectionEnd::Lost(Disconnect::ReadTimeout(read_timeout));
                    }
                    let mut next_ping = last_send + ping_interval;
                    if now >= next_ping {
                        if wbuf.is_empty() {
                            write_request(&mut wbuf, xid::PING, &PingRequest);
                            self.in_flight.ping_sent();
                        }
                        // Bytes are waiting to go out; once written, they move
                        // `last_send` and the next check sees the real due time.
                        next_ping = now + ping_interval;
                    }
                    let mut next = next_ping.min(last_recv + read_timeout);
                    if let Some(d) = close_deadline {
                        next = next.min(d);
                    }
                    timer.as_mut().reset(next);
                },
            }
        }
    }

    /// Handles every whole frame in `rbuf`. A frame over the limit fails the one
    /// request it answers and is discarded as its bytes arrive; the connection stays.
    fn read_frames(&mut self, frames: &mut Splitter, rbuf: &mut BytesMut) -> Option<ConnectionEnd> {
        loop {
            let handled = match frames.next(rbuf) {
                Ok(Some(Split::Frame(body))) => self.handle_frame(body),
                Ok(Some(Split::TooLarge { len, head })) => self.handle_oversized(len, head),
                Ok(None) => return None,
                Err(e) => return Some(ConnectionEnd::Lost(Disconnect::Frame(e))),
            };
            if let Err(end) = handled {
                return Some(end);
            }
        }
    }
}

/// Writes as much of `wbuf` as the socket takes now; with the buffer empty, flushes
/// what a buffering writer still holds.
async fn write_some<W: AsyncWrite + Unpin>(
    wr: &mut W,
    wbuf: &mut BytesMut,
    unflushed: &mut bool,
    buffered: bool,
) -> std::io::Result<()> {
    if wbuf.is_empty() {
        wr.flush().await?;
        *unflushed = false;
        return Ok(());
    }
    let n = wr.write_buf(wbuf).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    *unflushed = buffered;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;

    /// A writer that, like TLS, holds what it is given until it is flushed.
    #[derive(Default)]
    struct Holding {
        held: Vec<u8>,
        sent: Vec<u8>,
    }

    impl AsyncWrite for Holding {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.held.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            let held = std::mem::take(&mut self.held);
            self.sent.extend_from_slice(&held);
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_buffering_writer_is_flushed_once_the_batch_is_written() {
        let mut wr = Holding::default();
        let mut wbuf = BytesMut::from(&b"request"[..]);
        let mut unflushed = false;
        write_some(&mut wr, &mut wbuf, &mut unflushed, true)
            .await
            .expect("write");
        assert!(wbuf.is_empty());
        assert!(unflushed, "the batch is in the writer, not yet on the wire");
        assert!(wr.sent.is_empty());
        // The pump's next turn (the buffer empty, `unflushed` set) flushes.
        write_some(&mut wr, &mut wbuf, &mut unflushed, true)
            .await
            .expect("flush");
        assert!(!unflushed);
        assert_eq!(wr.sent, b"request");
    }

    #[tokio::test]
    async fn a_plain_writer_is_never_marked_unflushed() {
        let mut wr = Holding::default();
        let mut wbuf = BytesMut::from(&b"request"[..]);
        let mut unflushed = false;
        write_some(&mut wr, &mut wbuf, &mut unflushed, false)
            .await
            .expect("write");
        assert!(!unflushed, "plain TCP has nothing to flush: no extra turn");
    }
}
