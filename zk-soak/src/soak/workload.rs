//! The workload every fault lands on: three registered services, an observer (a
//! PathChildrenCache and a ServiceProvider), three LeaderLatch participants, two LeaderSelectors,
//! two lock contenders, the writer and the watcher, each on a client of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use zk_core::Client;
use zk_recipes::{
    FencingToken, InterProcessMutex, LeaderLatch, LeaderSelector, LeadershipContext, LockGuard,
    PathChildrenCache, ServiceDiscovery, ServiceInstance, ServiceProvider,
};
use zk_testing::TestingCluster;

use super::holders::{HolderGroup, HolderProbe, spawn_sampler};
use super::lock::lock;
use super::participants::Participant;
use super::violations::Violations;
use super::watcher::Watcher;
use super::writer::Writer;
use crate::error::{SoakError, SoakResult};

/// Where service discovery keeps its instances.
pub const SERVICES_BASE: &str = "/soak/services";
/// The one service name every instance registers under.
pub const SERVICE_NAME: &str = "api";
/// How many instances are registered.
pub const SERVICES: usize = 3;
const LATCHES: usize = 3;
const SELECTORS: usize = 2;
const LOCKERS: usize = 2;
const LATCH_PATH: &str = "/soak/latch";
const SELECTOR_PATH: &str = "/soak/selector";
const LOCK_PATH: &str = "/soak/lock";
/// How long a selector leads in one round, and a contender holds the lock.
const HOLD_FOR: Duration = Duration::from_millis(200);
/// How long a contender waits for the lock before it asks again.
const ACQUIRE_WAIT: Duration = Duration::from_secs(10);
/// How long one participant may take to connect.
const CONNECT_WITHIN: Duration = Duration::from_secs(30);

/// The instance id of service `i`.
pub fn service_id(i: usize) -> String {
    format!("svc-{i}")
}

type GuardSlot = Arc<Mutex<Option<LockGuard>>>;

/// Everything the soak runs. Participant `i` of [`participants`](Self::participants) is client
/// `i` for [`Chaos`](zk_testing::Chaos).
#[derive(Debug)]
pub struct Workload {
    /// Every participant, in the order the fields below use them.
    pub participants: Vec<Participant>,
    /// The registered services (participants `0..3`).
    pub services: Vec<ServiceDiscovery<serde_json::Value>>,
    /// The observer's discovery (participant 3), its cache of the service's nodes and its
    /// provider.
    pub observer: (
        ServiceDiscovery<serde_json::Value>,
        PathChildrenCache,
        ServiceProvider<serde_json::Value>,
    ),
    /// The latch participants (participants `4..7`).
    pub latches: Vec<Arc<LeaderLatch>>,
    /// The selectors (participants `7..9`).
    pub selectors: Vec<Arc<LeaderSelector>>,
    /// Leaderships the selectors have taken.
    pub selector_rounds: Arc<AtomicU64>,
    /// Locks the contenders (participants `9..11`) have acquired.
    pub lock_acquisitions: Arc<AtomicU64>,
    /// The writer (participant 11).
    pub writer: Writer,
    /// The watcher (participant 12).
    pub watcher: Watcher,
    /// The holders the sampler watches.
    pub groups: Vec<HolderGroup>,
    lock_tasks: Vec<JoinHandle<()>>,
    sampler: JoinHandle<()>,
}

/// Which participant writes.
pub const WRITER: usize = 11;

impl Workload {
    /// Connects every participant to `cluster` and starts its recipe; returns once all are
    /// started (not yet converged: the soak waits for that).
    pub async fn start(
        cluster: &TestingCluster,
        session_timeout: Duration,
        violations: &Violations,
    ) -> SoakResult<Workload> {
        let mut names: Vec<String> = Vec::new();
        names.extend((0..SERVICES).map(|i| format!("service {i}")));
        names.push("observer".into());
        names.extend((0..LATCHES).map(|i| format!("latch {i}")));
        names.extend((0..SELECTORS).map(|i| format!("selector {i}")));
        names.extend((0..LOCKERS).map(|i| format!("locker {i}")));
        names.push("writer".into());
        names.push("watcher".into());
        let mut participants = Vec::with_capacity(names.len());
        for name in names {
            participants.push(
                Participant::connect(name, cluster, session_timeout, violations, CONNECT_WITHIN)
                    .await?,
            );
        }
        let client = |i: usize| participants[i].client.clone();

        let mut services = Vec::with_capacity(SERVICES);
        for i in 0..SERVICES {
            services.push(start_service(client(i), i).await?);
        }
        let observer = start_observer(client(SERVICES)).await?;

        let mut latches = Vec::with_capacity(LATCHES);
        let mut latch_members = Vec::new();
        for i in 0..LATCHES {
            let latch = Arc::new(LeaderLatch::new(
                client(SERVICES + 1 + i),
                LATCH_PATH,
                format!("latch-{i}"),
            ));
            latch
                .start()
                .await
                .map_err(|e| SoakError::setup("starting a latch", e))?;
            let probe_latch = Arc::clone(&latch);
            let probe: HolderProbe = Arc::new(move || {
                probe_latch
                    .has_leadership()
                    .then(|| probe_latch.fencing_token())
                    .flatten()
            });
            latch_members.push((format!("latch {i}"), probe));
            latches.push(latch);
        }

        let selector_rounds = Arc::new(AtomicU64::new(0));
        let mut selectors = Vec::with_capacity(SELECTORS);
        let mut selector_members = Vec::new();
        for i in 0..SELECTORS {
            let (selector, probe) =
                start_selector(client(SERVICES + 1 + LATCHES + i), i, &selector_rounds).await?;
            selector_members.push((format!("selector {i}"), probe));
            selectors.push(selector);
        }

        let lock_acquisitions = Arc::new(AtomicU64::new(0));
        let mut lock_tasks = Vec::with_capacity(LOCKERS);
        let mut lock_members = Vec::new();
        for i in 0..LOCKERS {
            let slot: GuardSlot = Arc::default();
            let mutex =
                InterProcessMutex::new(client(SERVICES + 1 + LATCHES + SELECTORS + i), LOCK_PATH);
            lock_tasks.push(tokio::spawn(contend(
                mutex,
                Arc::clone(&slot),
                Arc::clone(&lock_acquisitions),
            )));
            let probe: HolderProbe = Arc::new(move || {
                lock(&slot)
                    .as_ref()
                    .filter(|guard| guard.is_held())
                    .map(LockGuard::fencing_token)
            });
            lock_members.push((format!("locker {i}"), probe));
        }

        let writer = Writer::start(client(WRITER));
        let watcher = Watcher::start(client(WRITER + 1));
        let groups = vec![
            HolderGroup {
                name: "latch",
                members: latch_members,
            },
            HolderGroup {
                name: "selector",
                members: selector_members,
            },
            HolderGroup {
                name: "lock",
                members: lock_members,
            },
        ];
        let sampler = spawn_sampler(groups.clone(), violations.clone());
        Ok(Workload {
            participants,
            services,
            observer,
            latches,
            selectors,
            selector_rounds,
            lock_acquisitions,
            writer,
            watcher,
            groups,
            lock_tasks,
            sampler,
        })
    }

    /// The session every service instance's node must be owned by: its client's current one.
    pub fn service_sessions(&self) -> Vec<i64> {
        (0..SERVICES)
            .map(|i| self.participants[i].client.session_id())
            .collect()
    }

    /// Stops every recipe and closes every client.
    pub async fn close(self) {
        self.sampler.abort();
        for task in &self.lock_tasks {
            task.abort();
        }
        for latch in &self.latches {
            let _ = latch.close().await;
        }
        for selector in &self.selectors {
            let _ = selector.close().await;
        }
        self.observer.2.close().await;
        self.observer.1.close().await;
        let _ = self.observer.0.close().await;
        for service in &self.services {
            let _ = service.close().await;
        }
        drop(self.writer);
        drop(self.watcher);
        for participant in &self.participants {
            participant.client.close().await;
        }
    }
}

async fn start_service(
    client: Client,
    i: usize,
) -> SoakResult<ServiceDiscovery<serde_json::Value>> {
    let instance = ServiceInstance::builder()
        .name(SERVICE_NAME)
        .id(service_id(i))
        .address("127.0.0.1")
        .port(8000 + i as u16)
        .build()
        .map_err(|e| SoakError::setup("describing a service instance", e))?;
    let discovery = ServiceDiscovery::builder()
        .client(client)
        .base_path(SERVICES_BASE)
        .this_instance(instance)
        .build()
        .map_err(|e| SoakError::setup("building a service discovery", e))?;
    discovery
        .start()
        .await
        .map_err(|e| SoakError::setup("registering a service", e))?;
    Ok(discovery)
}

async fn start_observer(
    client: Client,
) -> SoakResult<(
    ServiceDiscovery<serde_json::Value>,
    PathChildrenCache,
    ServiceProvider<serde_json::Value>,
)> {
    let discovery = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path(SERVICES_BASE)
        .build()
        .map_err(|e| SoakError::setup("building the observer's discovery", e))?;
    discovery
        .start()
        .await
        .map_err(|e| SoakError::setup("starting the observer's discovery", e))?;
    let cache = PathChildrenCache::builder(client, format!("{SERVICES_BASE}/{SERVICE_NAME}"))
        .cache_data(false)
        .create_parents(true)
        .build();
    cache
        .start()
        .await
        .map_err(|e| SoakError::setup("starting the observer's cache", e))?;
    let provider = discovery
        .service_provider(SERVICE_NAME)
        .build()
        .await
        .map_err(|e| SoakError::setup("starting the observer's provider", e))?;
    Ok((discovery, cache, provider))
}

async fn start_selector(
    client: Client,
    i: usize,
    rounds: &Arc<AtomicU64>,
) -> SoakResult<(Arc<LeaderSelector>, HolderProbe)> {
    let token: Arc<Mutex<Option<FencingToken>>> = Arc::default();
    let slot = Arc::clone(&token);
    let rounds = Arc::clone(rounds);
    let listener = move |ctx: LeadershipContext| {
        let slot = Arc::clone(&slot);
        let rounds = Arc::clone(&rounds);
        async move {
            // Cleared however the round ends, a cancellation (the future dropped) included.
            let _clear = ClearOnDrop(Arc::clone(&slot));
            *lock(&slot) = Some(ctx.fencing_token());
            rounds.fetch_add(1, Ordering::AcqRel);
            tokio::select! {
                () = tokio::time::sleep(HOLD_FOR) => {}
                () = ctx.cancelled() => {}
            }
        }
    };
    let selector = Arc::new(
        LeaderSelector::new(client, SELECTOR_PATH, listener).with_id(format!("selector-{i}")),
    );
    selector.auto_requeue();
    selector
        .start()
        .await
        .map_err(|e| SoakError::setup("starting a selector", e))?;
    let probe_selector = Arc::clone(&selector);
    let probe: HolderProbe = Arc::new(move || {
        if probe_selector.has_leadership() {
            *lock(&token)
        } else {
            None
        }
    });
    Ok((selector, probe))
}

/// A lock contender: acquires, holds for a moment, releases, and again, until aborted.
#[expect(
    clippy::infinite_loop,
    reason = "runs until the workload aborts its task"
)]
async fn contend(mutex: InterProcessMutex, slot: GuardSlot, acquisitions: Arc<AtomicU64>) {
    loop {
        match mutex.acquire_timeout(ACQUIRE_WAIT).await {
            Ok(Some(guard)) => {
                acquisitions.fetch_add(1, Ordering::AcqRel);
                *lock(&slot) = Some(guard);
                tokio::time::sleep(HOLD_FOR).await;
                // Out of the slot before the release deletes the node, so the sampler never
                // sees a holder whose node another contender may already have replaced.
                let guard = lock(&slot).take();
                if let Some(guard) = guard {
                    let _ = guard.release().await;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "soak locker: acquire failed");
                tokio::time::sleep(HOLD_FOR).await;
            }
        }
    }
}

struct ClearOnDrop(Arc<Mutex<Option<FencingToken>>>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        *lock(&self.0) = None;
    }
}
