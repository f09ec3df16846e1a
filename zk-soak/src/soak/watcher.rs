//! The watcher: a persistent recursive watch on the writer's tree, added again whenever a
//! session ends it, counting the creates it hears of.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::task::JoinHandle;
use zk_core::{AddWatchMode, Client, EventType};

use super::writer::WRITES;

/// The pause before adding the watch again after a failed attempt.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// The running watcher. Dropping it stops it.
#[derive(Debug)]
pub struct Watcher {
    created: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Watcher {
    /// Starts watching with `client`.
    pub fn start(client: Client) -> Watcher {
        let created = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&created);
        let task = tokio::spawn(async move {
            loop {
                match client
                    .watch(WRITES, AddWatchMode::PersistentRecursive)
                    .await
                {
                    Ok(mut events) => {
                        while let Some(event) = events.next().await {
                            match event {
                                Ok(event) if event.event_type == EventType::NodeCreated => {
                                    count.fetch_add(1, Ordering::AcqRel);
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    tracing::debug!(error = %e, "soak watcher: watch ended");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "soak watcher: addWatch failed"),
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
        });
        Watcher { created, task }
    }

    /// How many node creations it has heard of.
    pub fn created(&self) -> u64 {
        self.created.load(Ordering::Acquire)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
