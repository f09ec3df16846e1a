//! The writer: protected creates, persistent-sequential and ephemeral-sequential in turn, each
//! acknowledged one recorded, under a parent per epoch so that each check reads a closed,
//! small set of nodes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use zk_core::{Client, CreateMode};

use super::lock::lock;

/// Where the writer's nodes go: one child per epoch.
pub const WRITES: &str = "/soak/writes";
/// The pause between two creates.
const WRITE_EVERY: Duration = Duration::from_millis(100);
/// Marks "no create in flight".
const IDLE: u64 = u64::MAX;

/// One acknowledged create.
#[derive(Debug, Clone)]
pub struct Acked {
    /// The node's full path as the server named it.
    pub path: String,
    /// The session that owns it, for an ephemeral node (0 for a persistent one).
    pub owner: i64,
}

#[derive(Debug, Default)]
struct Shared {
    epoch: AtomicU64,
    in_flight: AtomicU64,
    acked_total: AtomicU64,
    acked: Mutex<Vec<(u64, Acked)>>,
}

/// The running writer. Dropping it stops it.
#[derive(Debug)]
pub struct Writer {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// The parent of the nodes written in `epoch`.
pub fn epoch_parent(epoch: u64) -> String {
    format!("{WRITES}/e{epoch}")
}

impl Writer {
    /// Starts writing with `client`.
    pub fn start(client: Client) -> Writer {
        let shared = Arc::new(Shared {
            in_flight: AtomicU64::new(IDLE),
            ..Shared::default()
        });
        let task = tokio::spawn(write_forever(client, Arc::clone(&shared)));
        Writer { shared, task }
    }

    /// How many creates have been acknowledged in all.
    pub fn acked_total(&self) -> u64 {
        self.shared.acked_total.load(Ordering::Acquire)
    }

    /// Starts a new epoch and returns the one that ended.
    pub fn next_epoch(&self) -> u64 {
        self.shared.epoch.fetch_add(1, Ordering::AcqRel)
    }

    /// Whether a create of `epoch` is still waiting for its answer.
    pub fn in_flight(&self, epoch: u64) -> bool {
        self.shared.in_flight.load(Ordering::Acquire) == epoch
    }

    /// Takes the acknowledged creates of `epoch` out of the record.
    pub fn take_acked(&self, epoch: u64) -> Vec<Acked> {
        let mut acked = lock(&self.shared.acked);
        let (of_epoch, rest) = std::mem::take(&mut *acked)
            .into_iter()
            .partition(|(e, _)| *e == epoch);
        *acked = rest;
        of_epoch.into_iter().map(|(_, a)| a).collect()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[expect(
    clippy::infinite_loop,
    reason = "runs until the writer aborts its task"
)]
async fn write_forever(client: Client, shared: Arc<Shared>) {
    let mut n: u64 = 0;
    loop {
        n += 1;
        let epoch = shared.epoch.load(Ordering::Acquire);
        shared.in_flight.store(epoch, Ordering::Release);
        let (mode, kind) = if n.is_multiple_of(2) {
            (CreateMode::EphemeralSequential, "e")
        } else {
            (CreateMode::PersistentSequential, "p")
        };
        let path = format!("{}/{kind}-", epoch_parent(epoch));
        let data = format!("write {n}");
        let created = client
            .create(&path, data.as_bytes())
            .mode(mode)
            .protected()
            .create_parents()
            .with_stat()
            .await;
        match created {
            Ok((path, stat)) => {
                let acked = Acked {
                    path,
                    owner: stat.ephemeral_owner,
                };
                lock(&shared.acked).push((epoch, acked));
                shared.acked_total.fetch_add(1, Ordering::AcqRel);
            }
            Err(e) => tracing::debug!(error = %e, "soak writer: create failed (outcome unknown)"),
        }
        shared.in_flight.store(IDLE, Ordering::Release);
        tokio::time::sleep(WRITE_EVERY).await;
    }
}
