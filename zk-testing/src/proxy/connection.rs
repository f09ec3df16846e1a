//! One proxied connection: connect to the first server that answers, then pump bytes both ways
//! as the current [`ProxyMode`] says. Each direction reads into a queue that
//! [`delay`](super::delay) empties.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::PeerOptions;
use super::delay::{Chunk, QUEUED_CHUNKS, deliver};
use super::mode::{Direction, ProxyMode};
use super::opening::{Opening, OpeningRewrite};

/// Deadline for connecting to one upstream server.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between rounds of connection attempts while waiting for an upstream to listen.
const UPSTREAM_RETRY: Duration = Duration::from_millis(20);
/// Bytes moved per read.
const BUFFER_BYTES: usize = 16 * 1024;

/// Serves one client connection until either side closes it or the proxy aborts the task.
pub(crate) async fn serve(
    client: TcpStream,
    upstreams: Arc<[SocketAddr]>,
    first: usize,
    mut mode: watch::Receiver<ProxyMode>,
    dropped: Arc<AtomicU64>,
    peer: Arc<PeerOptions>,
) {
    // In a blackhole the client is held without contacting any server until the mode changes.
    if mode.wait_for(|m| m.connects_upstream()).await.is_err() {
        return;
    }
    let Some(upstream) = connect_upstream(&upstreams, first, peer.wait_for_upstream).await else {
        tracing::debug!("proxy: no upstream server accepted the connection");
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let requests = pump(
        client_read,
        upstream_write,
        Direction::Request,
        mode.clone(),
        Arc::clone(&dropped),
        peer.opening.clone(),
    );
    let replies = pump(
        upstream_read,
        client_write,
        Direction::Reply,
        mode,
        dropped,
        None,
    );
    tokio::pin!(requests, replies);
    // A clean end of one direction (half-close) lets the other finish; an error ends both.
    tokio::select! {
        done = &mut requests => if done.is_ok() { let _ = replies.await; },
        done = &mut replies => if done.is_ok() { let _ = requests.await; },
    }
}

/// Connects to the first upstream that accepts, trying each once, and trying them all again
/// every [`UPSTREAM_RETRY`] for up to `wait` if none did.
async fn connect_upstream(
    upstreams: &[SocketAddr],
    first: usize,
    wait: Option<Duration>,
) -> Option<TcpStream> {
    let give_up = Instant::now() + wait.unwrap_or(Duration::ZERO);
    loop {
        for offset in 0..upstreams.len() {
            let addr = upstreams[(first + offset) % upstreams.len()];
            match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Some(stream),
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "proxy: upstream refused"),
                Err(_) => tracing::debug!(%addr, "proxy: upstream connect timed out"),
            }
        }
        if Instant::now() + UPSTREAM_RETRY > give_up {
            return None;
        }
        tokio::time::sleep(UPSTREAM_RETRY).await;
    }
}

/// One direction of the connection: a reader that queues what `from` sends and a writer that
/// hands it to `to` (see [`delay`](super::delay)), the opening message rewritten by `opening`
/// if there is one. Ends when `from` has closed and everything queued was written (then `to`
/// is shut down for writing), or on the first I/O error.
async fn pump<R, W>(
    from: R,
    to: W,
    direction: Direction,
    mode: watch::Receiver<ProxyMode>,
    dropped: Arc<AtomicU64>,
    opening: Option<OpeningRewrite>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (queue, queued) = mpsc::channel(QUEUED_CHUNKS);
    tokio::try_join!(
        read_into(from, queue, mode.clone(), opening),
        deliver(queued, to, direction, mode, dropped),
    )?;
    Ok(())
}

/// Reads `from` while the mode allows and queues every chunk with the time it was read, until
/// `from` ends (dropping the queue tells the writer) or an I/O error occurs. With an `opening`
/// rewrite, the first bytes are held until it has seen the whole opening message, and queued
/// as it rewrote them.
async fn read_into<R>(
    mut from: R,
    queue: mpsc::Sender<Chunk>,
    mut mode: watch::Receiver<ProxyMode>,
    mut opening: Option<OpeningRewrite>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
{
    let mut buf = vec![0u8; BUFFER_BYTES];
    let mut held = Vec::new();
    loop {
        if mode.wait_for(|m| m.reads()).await.is_err() {
            return Ok(());
        }
        // Reading a TcpStream is cancel-safe: if the mode stops reads first, nothing is lost.
        let read = tokio::select! {
            read = from.read(&mut buf) => read?,
            stop = mode.wait_for(|m| !m.reads()) => {
                if stop.is_err() {
                    return Ok(());
                }
                continue;
            }
        };
        if read == 0 {
            if !held.is_empty() {
                // The client closed before its opening was complete: pass on what it sent.
                let bytes = std::mem::take(&mut held);
                let _ = queue
                    .send(Chunk {
                        read_at: Instant::now(),
                        bytes,
                    })
                    .await;
            }
            return Ok(());
        }
        let bytes = match &opening {
            None => buf[..read].to_vec(),
            Some(rewrite) => {
                held.extend_from_slice(&buf[..read]);
                match rewrite.apply(&held) {
                    Opening::Incomplete => continue,
                    Opening::Replace(bytes) => {
                        opening = None;
                        held = Vec::new();
                        bytes
                    }
                }
            }
        };
        let chunk = Chunk {
            read_at: Instant::now(),
            bytes,
        };
        // A writer that is gone has failed, and says so itself.
        if queue.send(chunk).await.is_err() {
            return Ok(());
        }
    }
}
