//! The `recipe-client` command: one process of zk-recipes, doing what
//! `bench/java/CuratorRecipeBench.java` does with Curator 5.4's recipes, and
//! printing the lines of [`lines`](super::lines). Each measure is its own process.
//!
//! - `cache-build`: `--builds` times, a new `PathChildrenCache` with data over the
//!   `--children` children of `--path`, `start()` in `BuildInitialCache` mode timed
//!   until it returns; the count is checked, the cache closed.
//! - `cache-memory`: one such cache (`--data` true or false), kept open; the growth
//!   of the resident set from just before the build to just after, per child.
//! - `expiry`: a registrant (`ServiceDiscovery` with one instance) and an observer
//!   (`PathChildrenCache` on the service's path), each on its own client.
//!   `--cycles` times: the registrant's session is expired from a second
//!   connection that resumes it and closes it (as ZooKeeper's tests do), and the
//!   observer's `ChildRemoved` and then `ChildAdded` of the instance are timed from
//!   the moment the close was sent.
//! - `latch`: two clients, a `LeaderLatch` each on `--path`; `--warmup` plus
//!   `--cycles` times the leader's latch is closed and the time until the other
//!   leads is taken; the closed side joins the queue again with a new latch.
//! - `get-instance`: three instances registered, a round-robin `ServiceProvider`
//!   that sees them, `--batches` timed batches of `--calls` `get_instance()` calls
//!   after one untimed batch.
//!
//! Every loop also ends at `--time-limit-secs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use zk_core::session::{Session, SessionConfig};
use zk_core::{Client, ConnectString};
use zk_recipes::cache::{PathChildrenCache, PathChildrenCacheEvent, StartMode};
use zk_recipes::discovery::{RoundRobin, ServiceDiscovery, ServiceInstance};
use zk_recipes::leader::LeaderLatch;

use super::lines::{Measure, RecipeResult};

/// The name of this implementation in result lines.
pub(crate) const NAME: &str = "zk-recipes";

/// The frame limit of every client of this benchmark, Rust and Java alike
/// (`-Djute.maxbuffer` for Java): a list of 100,000 children is over 1 MiB.
pub(crate) const MAX_FRAME_LEN: usize = 4 << 20;

/// The session timeout every client asks for.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long any single wait of a measurement may take.
const WAIT: Duration = Duration::from_secs(60);

/// Which measurement a process makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// Initial cache builds.
    CacheBuild,
    /// Memory per cached child.
    CacheMemory,
    /// Expiry to removal and back.
    Expiry,
    /// Latch handoffs.
    Latch,
    /// Provider calls.
    GetInstance,
}

impl Job {
    /// Every job, in the order the driver runs them.
    pub(crate) const ALL: [Job; 5] = [
        Job::CacheBuild,
        Job::CacheMemory,
        Job::Expiry,
        Job::Latch,
        Job::GetInstance,
    ];

    /// The name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Job::CacheBuild => "cache-build",
            Job::CacheMemory => "cache-memory",
            Job::Expiry => "expiry",
            Job::Latch => "latch",
            Job::GetInstance => "get-instance",
        }
    }
}

impl std::str::FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Job, String> {
        Job::ALL
            .into_iter()
            .find(|j| j.name() == s)
            .ok_or_else(|| format!("unknown job {s:?}"))
    }
}

/// What one recipe client process runs.
#[derive(Debug, Clone)]
pub(crate) struct RecipePlan {
    /// `host:port` of the server.
    pub addr: String,
    /// The tree (cache jobs) or the base path the job works under.
    pub path: String,
    /// What to measure.
    pub job: Job,
    /// Children of the tree at `path` (cache jobs).
    pub children: usize,
    /// Timed builds (`cache-build`).
    pub builds: usize,
    /// Whether the cache keeps data (`cache-memory`).
    pub data: bool,
    /// Timed expiries or handoffs.
    pub cycles: usize,
    /// Untimed handoffs before them.
    pub warmup: usize,
    /// Timed batches of calls (`get-instance`).
    pub batches: usize,
    /// Calls per batch.
    pub calls: usize,
    /// The loops end here, whatever their count.
    pub time_limit: Duration,
}

/// Connects as Curator's `newClient(cs, 30000, 15000, new RetryOneTime(100))`
/// would (the Java side does exactly that).
async fn connect(addr: &str) -> Result<Client, String> {
    crate::runtime::curator_like_client(addr, SESSION_TIMEOUT, Some(MAX_FRAME_LEN)).await
}

/// Runs the plan and prints its result lines.
pub(crate) async fn run(plan: &RecipePlan) -> Result<(), String> {
    let deadline = Instant::now() + plan.time_limit;
    let results = match plan.job {
        Job::CacheBuild => vec![cache_build(plan, deadline).await?],
        Job::CacheMemory => vec![cache_memory(plan).await?],
        Job::Expiry => expiry(plan, deadline).await?,
        Job::Latch => vec![latch(plan, deadline).await?],
        Job::GetInstance => vec![get_instance(plan, deadline).await?],
    };
    for r in results {
        if r.values.is_empty() {
            return Err(format!("{}: nothing measured in time", r.measure.name()));
        }
        println!("{r}");
    }
    Ok(())
}

fn result(measure: Measure, n: usize, values: Vec<f64>) -> RecipeResult {
    RecipeResult {
        client: NAME.to_string(),
        measure,
        n,
        values,
    }
}

fn build_cache(client: &Client, plan: &RecipePlan, data: bool) -> PathChildrenCache {
    PathChildrenCache::builder(client.clone(), plan.path.clone())
        .cache_data(data)
        .start_mode(StartMode::BuildInitialCache)
        .build()
}

async fn cache_build(plan: &RecipePlan, deadline: Instant) -> Result<RecipeResult, String> {
    let client = connect(&plan.addr).await?;
    let mut values = Vec::with_capacity(plan.builds);
    for _ in 0..plan.builds {
        if Instant::now() >= deadline {
            break;
        }
        let cache = build_cache(&client, plan, true);
        let started = Instant::now();
        cache
            .start()
            .await
            .map_err(|e| format!("cache start: {e}"))?;
        let took = started.elapsed();
        let held = cache.current_data();
        if held.len() != plan.children || held.iter().any(|c| c.data.is_none()) {
            return Err(format!(
                "the cache holds {} children, {} wanted",
                held.len(),
                plan.children
            ));
        }
        cache.close().await;
        values.push(took.as_nanos() as f64);
    }
    client.close().await;
    Ok(result(Measure::CacheBuild, plan.children, values))
}

/// This process's resident set, in bytes (`/proc/self/statm`).
fn resident_bytes() -> Result<u64, String> {
    let statm = std::fs::read_to_string("/proc/self/statm").map_err(|e| format!("statm: {e}"))?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .ok_or("statm: no resident field")?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(pages * u64::try_from(page).map_err(|_| "no page size")?)
}

async fn cache_memory(plan: &RecipePlan) -> Result<RecipeResult, String> {
    let client = connect(&plan.addr).await?;
    let before = resident_bytes()?;
    let cache = build_cache(&client, plan, plan.data);
    cache
        .start()
        .await
        .map_err(|e| format!("cache start: {e}"))?;
    let after = resident_bytes()?;
    let held = cache.current_data();
    if held.len() != plan.children {
        return Err(format!(
            "the cache holds {} children, {} wanted",
            held.len(),
            plan.children
        ));
    }
    drop(held);
    let per_child = after.saturating_sub(before) as f64 / plan.children.max(1) as f64;
    cache.close().await;
    client.close().await;
    let measure = if plan.data {
        Measure::CacheMemoryData
    } else {
        Measure::CacheMemoryNoData
    };
    Ok(result(measure, plan.children, vec![per_child.round()]))
}

/// The service every discovery job registers under.
const SERVICE: &str = "bench";

fn instance(id: &str, port: u16) -> Result<ServiceInstance, String> {
    ServiceInstance::builder()
        .name(SERVICE)
        .id(id)
        .address("127.0.0.1")
        .port(port)
        .build()
        .map_err(|e| format!("instance: {e}"))
}

/// Waits for the next event of `events` that `pick` accepts.
async fn next_event<S>(
    events: &mut S,
    what: &str,
    mut pick: impl FnMut(&PathChildrenCacheEvent) -> bool,
) -> Result<Instant, String>
where
    S: futures::Stream<Item = PathChildrenCacheEvent> + Unpin,
{
    let wait = async {
        while let Some(event) = events.next().await {
            if pick(&event) {
                return Ok(Instant::now());
            }
        }
        Err(format!("the observer's events ended before {what}"))
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .map_err(|_| format!("no {what} within {WAIT:?}"))?
}

/// Expires `client`'s current session from a second connection that resumes it,
/// and returns the moment the close was sent (the server may drop the node and
/// notify the observer before its reply reaches us).
async fn expire(addr: &str, client: &Client) -> Result<Instant, String> {
    let session = client.session();
    let connect_string: ConnectString = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let config = SessionConfig::new(connect_string, SESSION_TIMEOUT)
        .with_resume(session.session_id(), session.session_password());
    let killer = Session::start(config);
    killer
        .wait_connected(WAIT)
        .await
        .map_err(|e| format!("resuming the session to expire it: {e}"))?;
    let sent = Instant::now();
    killer.close().await;
    Ok(sent)
}

async fn expiry(plan: &RecipePlan, deadline: Instant) -> Result<Vec<RecipeResult>, String> {
    let registrant = connect(&plan.addr).await?;
    let observer = connect(&plan.addr).await?;
    let id = "expiring";
    let discovery = ServiceDiscovery::builder()
        .client(registrant.clone())
        .base_path(plan.path.clone())
        .this_instance(instance(id, 8080)?)
        .build()
        .map_err(|e| format!("discovery: {e}"))?;
    discovery
        .start()
        .await
        .map_err(|e| format!("register: {e}"))?;
    let node = format!("{}/{SERVICE}/{id}", plan.path);
    let cache = PathChildrenCache::builder(observer.clone(), format!("{}/{SERVICE}", plan.path))
        .cache_data(true)
        .build();
    let mut events = cache.events();
    cache.start().await.map_err(|e| format!("observer: {e}"))?;
    let is_ours = |c: &zk_recipes::cache::ChildData| c.path == node;
    next_event(
        &mut events,
        "the first CHILD_ADDED",
        |e| matches!(e, PathChildrenCacheEvent::ChildAdded(c) if is_ours(c)),
    )
    .await?;
    let (mut removed, mut back) = (Vec::new(), Vec::new());
    for _ in 0..plan.cycles {
        if Instant::now() >= deadline {
            break;
        }
        let old = registrant.session_id();
        let expired = expire(&plan.addr, &registrant).await?;
        let gone = next_event(
            &mut events,
            "CHILD_REMOVED",
            |e| matches!(e, PathChildrenCacheEvent::ChildRemoved(c) if is_ours(c)),
        )
        .await?;
        let again = next_event(&mut events, "CHILD_ADDED again", |e| {
            matches!(e, PathChildrenCacheEvent::ChildAdded(c)
                if is_ours(c) && c.stat.ephemeral_owner != old)
        })
        .await?;
        removed.push(gone.saturating_duration_since(expired).as_nanos() as f64);
        back.push(again.saturating_duration_since(expired).as_nanos() as f64);
    }
    cache.close().await;
    let _ = discovery.close().await;
    registrant.close().await;
    observer.close().await;
    Ok(vec![
        result(Measure::ExpiryRemoved, 0, removed),
        result(Measure::ExpiryBack, 0, back),
    ])
}

/// A started latch of `client` on `path`, once its node is in the queue.
async fn queued_latch(client: &Client, path: &str, id: &str) -> Result<LeaderLatch, String> {
    let latch = LeaderLatch::new(client.clone(), path, id);
    latch
        .start()
        .await
        .map_err(|e| format!("latch start: {e}"))?;
    let queued = async {
        while latch.our_path().is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(WAIT, queued)
        .await
        .map_err(|_| "the latch made no node in time".to_string())?;
    Ok(latch)
}

async fn latch(plan: &RecipePlan, deadline: Instant) -> Result<RecipeResult, String> {
    let clients = [connect(&plan.addr).await?, connect(&plan.addr).await?];
    let mut latches = [
        queued_latch(&clients[0], &plan.path, "a").await?,
        queued_latch(&clients[1], &plan.path, "b").await?,
    ];
    let mut leader = if latches[0].has_leadership() { 0 } else { 1 };
    tokio::time::timeout(WAIT, latches[leader].await_leadership())
        .await
        .map_err(|_| "no first leader in time")?
        .map_err(|e| format!("first leader: {e}"))?;
    let mut values = Vec::with_capacity(plan.cycles);
    for i in 0..plan.warmup + plan.cycles {
        if Instant::now() >= deadline {
            break;
        }
        let next = 1 - leader;
        let started = Instant::now();
        let (closed, led) = tokio::join!(latches[leader].close(), async {
            let led = tokio::time::timeout(WAIT, latches[next].await_leadership()).await;
            (led, Instant::now())
        });
        closed.map_err(|e| format!("latch close: {e}"))?;
        match led.0 {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("await leadership: {e}")),
            Err(_) => return Err("the next participant did not lead in time".into()),
        }
        if i >= plan.warmup {
            values.push(led.1.saturating_duration_since(started).as_nanos() as f64);
        }
        let id = if i % 2 == 0 { "c" } else { "d" };
        latches[leader] = queued_latch(&clients[leader], &plan.path, id).await?;
        leader = next;
    }
    for l in &latches {
        let _ = l.close().await;
    }
    for c in clients {
        c.close().await;
    }
    Ok(result(Measure::LatchHandoff, 0, values))
}

async fn get_instance(plan: &RecipePlan, deadline: Instant) -> Result<RecipeResult, String> {
    let client = connect(&plan.addr).await?;
    let discovery = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path(plan.path.clone())
        .build()
        .map_err(|e| format!("discovery: {e}"))?;
    discovery
        .start()
        .await
        .map_err(|e| format!("discovery start: {e}"))?;
    for (i, port) in [8081, 8082, 8083].into_iter().enumerate() {
        discovery
            .register_service(&instance(&format!("i{i}"), port)?)
            .await
            .map_err(|e| format!("register: {e}"))?;
    }
    let provider = discovery
        .service_provider(SERVICE)
        .strategy(RoundRobin::default())
        .build()
        .await
        .map_err(|e| format!("provider: {e}"))?;
    let seen = async {
        while provider.get_all_instances().len() < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(WAIT, seen)
        .await
        .map_err(|_| "the provider did not see three instances in time")?;
    let mut values = Vec::with_capacity(plan.batches);
    for batch in 0..=plan.batches {
        if Instant::now() >= deadline {
            break;
        }
        let started = Instant::now();
        for _ in 0..plan.calls {
            black_box(provider.get_instance());
        }
        let took = started.elapsed();
        // The first batch warms up.
        if batch > 0 {
            values.push(took.as_nanos() as f64 / plan.calls.max(1) as f64);
        }
    }
    provider.close().await;
    let _ = discovery.close().await;
    client.close().await;
    Ok(result(Measure::GetInstance, 0, values))
}

/// The data of every child of a benchmark tree: 100 bytes, as the figures.
pub(crate) fn child_data() -> Bytes {
    Bytes::from_static(&[b'x'; 100])
}
