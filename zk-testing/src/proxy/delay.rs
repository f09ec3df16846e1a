//! The queue between the two halves of one direction of a proxied connection, and the writing
//! half that empties it. Bytes read are queued with the time they were read; the writer lets
//! each chunk go when the mode in force allows: at once when forwarding, `d` after its read in
//! [`ProxyMode::Delay`], never while in a blackhole (it waits for the mode to change).
//!
//! A queue, not a sleep in the reader: a delayed link still reads at full speed, so a chunk read
//! at `t` leaves at `t + d` however many chunks are queued before it, and a heal releases them
//! all at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::mode::{Direction, ProxyMode};

/// How many chunks (of up to one read each) a direction holds before its reader waits.
pub(crate) const QUEUED_CHUNKS: usize = 256;

/// Bytes read from one side, waiting to be written to the other.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// When the proxy read them.
    pub(crate) read_at: Instant,
    pub(crate) bytes: Vec<u8>,
}

/// Writes every chunk of `queue` to `to`, in order, each when the mode lets it go, delivering
/// or dropping it as that mode says. When the queue ends (the reader saw the other side close)
/// `to` is shut down for writing; when the proxy is dropped this returns at once.
pub(crate) async fn deliver<W>(
    mut queue: mpsc::Receiver<Chunk>,
    mut to: W,
    direction: Direction,
    mut mode: watch::Receiver<ProxyMode>,
    dropped: Arc<AtomicU64>,
) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    while let Some(chunk) = queue.recv().await {
        let Some(current) = release(chunk.read_at, &mut mode).await else {
            return Ok(());
        };
        if current.delivers(direction) {
            to.write_all(&chunk.bytes).await?;
        } else {
            tracing::trace!(
                bytes = chunk.bytes.len(),
                ?direction,
                "proxy: dropped bytes"
            );
            dropped.fetch_add(chunk.bytes.len() as u64, Ordering::Relaxed);
        }
    }
    let _ = to.shutdown().await;
    Ok(())
}

/// Waits until a chunk read at `read_at` may go, and returns the mode that let it go; `None`
/// once the proxy is gone. The mode is looked at again whenever it changes, so a heal releases
/// a delayed chunk early and a blackhole holds it past its due time.
async fn release(read_at: Instant, mode: &mut watch::Receiver<ProxyMode>) -> Option<ProxyMode> {
    loop {
        let current = *mode.borrow_and_update();
        if current.reads() {
            let due = read_at + current.delay();
            if Instant::now() >= due {
                return Some(current);
            }
            tokio::select! {
                () = tokio::time::sleep_until(due) => return Some(current),
                changed = mode.changed() => changed.ok()?,
            }
        } else {
            mode.changed().await.ok()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_heal_releases_a_delayed_chunk_before_its_due_time() {
        let (mode, mut rx) = watch::channel(ProxyMode::Delay(Duration::from_secs(3600)));
        let read_at = Instant::now();
        let waiting = tokio::spawn(async move { release(read_at, &mut rx).await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "an hour's delay holds the chunk");
        mode.send_replace(ProxyMode::Forward);
        let released = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("released at once")
            .expect("the task ran");
        assert_eq!(released, Some(ProxyMode::Forward));
    }

    #[tokio::test]
    async fn a_blackhole_holds_a_chunk_past_its_due_time() {
        let (mode, mut rx) = watch::channel(ProxyMode::Blackhole);
        let read_at = Instant::now() - Duration::from_secs(60);
        let waiting = tokio::spawn(async move { release(read_at, &mut rx).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "held in the blackhole");
        mode.send_replace(ProxyMode::DropReplies);
        let released = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("released on the change")
            .expect("the task ran");
        assert_eq!(released, Some(ProxyMode::DropReplies));
    }
}
