//! One proxied connection: connect to the first server that answers, then pump bytes both ways
//! as the current [`ProxyMode`] says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::mode::{Direction, ProxyMode};

/// Deadline for connecting to one upstream server.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes moved per read.
const BUFFER_BYTES: usize = 16 * 1024;

/// Serves one client connection until either side closes it or the proxy aborts the task.
pub(crate) async fn serve(
    client: TcpStream,
    upstreams: Arc<[SocketAddr]>,
    first: usize,
    mut mode: watch::Receiver<ProxyMode>,
    dropped: Arc<AtomicU64>,
) {
    // In a blackhole the client is held without contacting any server until the mode changes.
    if mode.wait_for(|m| m.connects_upstream()).await.is_err() {
        return;
    }
    let Some(upstream) = connect_upstream(&upstreams, first).await else {
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
    );
    let replies = pump(upstream_read, client_write, Direction::Reply, mode, dropped);
    tokio::pin!(requests, replies);
    // A clean end of one direction (half-close) lets the other finish; an error ends both.
    tokio::select! {
        done = &mut requests => if done.is_ok() { let _ = replies.await; },
        done = &mut replies => if done.is_ok() { let _ = requests.await; },
    }
}

async fn connect_upstream(upstreams: &[SocketAddr], first: usize) -> Option<TcpStream> {
    for offset in 0..upstreams.len() {
        let addr = upstreams[(first + offset) % upstreams.len()];
        match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Some(stream),
            Ok(Err(e)) => tracing::debug!(%addr, error = %e, "proxy: upstream refused"),
            Err(_) => tracing::debug!(%addr, "proxy: upstream connect timed out"),
        }
    }
    None
}

/// Moves bytes from `from` to `to` while the mode allows, until `from` ends (then `to` is shut
/// down for writing) or an I/O error occurs.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    direction: Direction,
    mut mode: watch::Receiver<ProxyMode>,
    dropped: Arc<AtomicU64>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUFFER_BYTES];
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
            let _ = to.shutdown().await;
            return Ok(());
        }
        // The mode may have changed while the bytes were read: hold them through a blackhole,
        // then deliver or drop them as the mode in force says.
        let current = match mode.wait_for(|m| m.reads()).await {
            Ok(current) => *current,
            Err(_) => return Ok(()),
        };
        if current.delivers(direction) {
            to.write_all(&buf[..read]).await?;
        } else {
            tracing::trace!(bytes = read, ?direction, "proxy: dropped bytes");
            dropped.fetch_add(read as u64, Ordering::Relaxed);
        }
    }
}
