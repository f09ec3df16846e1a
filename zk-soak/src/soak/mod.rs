//! The chaos soak: a 3-server ensemble whose servers can be partitioned, the [`Workload`] on
//! it, and [`Chaos`] faults one after another; after each heals, the run waits (bounded) until
//! every invariant holds again and reports how long that took, or the evidence of what never
//! came right.

pub mod checks;
pub mod holders;
pub mod participants;
pub mod report;
pub mod states;
pub mod violations;
pub mod watcher;
pub mod workload;
pub mod writer;

mod lock;

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{Instant, timeout};
use zk_core::Client;
use zk_testing::{Chaos, ChaosClient, ServerConfig, TestingCluster, apply_fault};

pub use report::{HealTimes, SoakReport};
pub use violations::Violations;
pub use workload::Workload;

use crate::clients::connected_client;
use crate::error::SoakResult;
use crate::resources::{ResourceBound, Resources};

/// The participants' session timeout. Faults are drawn shorter and longer than it.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// The servers' tick.
const TICK: Duration = Duration::from_millis(200);
/// How long the servers wait for a quorum peer (`syncLimit * tickTime`). Half the session
/// timeout: a leader cut off from its followers must step down (and drop its clients) well
/// before the majority, which elects a new leader in about that time, can expire the sessions
/// of those clients; with ZooKeeper's usual 10 ticks of 2 s the old leader would keep its
/// clients' sessions (and a latch there) alive for 20 s, long after the rest gave them up.
const SYNC_LIMIT: Duration = Duration::from_secs(2);
/// How long a fault may take to apply and heal.
const FAULT_DEADLINE: Duration = Duration::from_secs(180);
/// How long the invariants may take to hold again after a fault healed.
const CONVERGE_DEADLINE: Duration = Duration::from_secs(90);
/// How often convergence is checked.
const CONVERGE_POLL: Duration = Duration::from_millis(100);
/// How far the process may grow past its baseline over a soak.
pub const SOAK_BOUND: ResourceBound = ResourceBound {
    fds: 64,
    tasks: 256,
    rss_kib: 64 * 1024,
};

/// Runs `cycles` faults drawn from `seed`, writing one line per cycle to `out`.
pub async fn run_soak(cycles: u64, seed: u64, out: &mut dyn Write) -> SoakResult<SoakReport> {
    let _ = writeln!(
        out,
        "soak: seed {seed}, {cycles} cycles (replay: scripts/soak --cycles {cycles} --seed {seed})"
    );
    let config = ServerConfig::builder()
        .tick_time(TICK)
        .session_timeouts(TICK * 2, Duration::from_secs(60))
        .sync_limit(SYNC_LIMIT)
        .init_limit(Duration::from_secs(10))
        .build()?;
    let mut cluster = TestingCluster::start_partitionable(3, config).await?;
    let violations = Violations::default();
    let workload = Workload::start(&cluster, SESSION_TIMEOUT, &violations).await?;
    let mut report = SoakReport::new(seed, Resources::sample());

    let started = Instant::now();
    let healed = checks::Progress::now(&workload);
    match converge(&cluster, &workload, healed).await {
        Ok(took) => {
            let _ = writeln!(
                out,
                "cycle 0: start: converged in {:.1} s",
                took.as_secs_f64()
            );
        }
        Err(evidence) => {
            for e in evidence {
                violations.record(format!("cycle 0: {e}"));
            }
        }
    }
    let mut chaos = Chaos::new(seed)
        .clients(workload.participants.len())
        .session_timeout(SESSION_TIMEOUT);
    let warmup = (cycles / 5).clamp(1, 10);
    for cycle in 1..=cycles {
        let fault = chaos.next_fault();
        let before = violations.count();
        let applied = {
            let passwords: Vec<Bytes> = workload
                .participants
                .iter()
                .map(|p| p.client.session().session_password())
                .collect();
            let targets: Vec<ChaosClient<'_>> = workload
                .participants
                .iter()
                .zip(&passwords)
                .map(|(p, password)| ChaosClient {
                    proxy: &p.proxy,
                    session_id: p.client.session_id(),
                    password,
                })
                .collect();
            timeout(FAULT_DEADLINE, apply_fault(&mut cluster, fault, &targets)).await
        };
        let mut line = format!("cycle {cycle}: {fault}");
        match applied {
            Ok(Ok(applied)) => {
                if let Some(server) = applied.server {
                    line.push_str(&format!(" (server {server})"));
                }
                if let Some(note) = applied.note {
                    line.push_str(&format!(" ({note})"));
                }
            }
            Ok(Err(e)) => violations.record(format!("cycle {cycle}: {fault}: heal failed: {e}")),
            Err(_) => violations.record(format!(
                "cycle {cycle}: {fault}: not healed within {FAULT_DEADLINE:?}"
            )),
        }
        let healed = checks::Progress::now(&workload);
        match converge(&cluster, &workload, healed).await {
            Ok(took) => {
                report.heal.record(fault.kind, took);
                line.push_str(&format!(": healed in {:.1} s", took.as_secs_f64()));
            }
            Err(evidence) => {
                line.push_str(": NOT CONVERGED");
                for e in evidence {
                    violations.record(format!("cycle {cycle}: {fault}: {e}"));
                }
            }
        }
        match checker(&cluster).await {
            Ok(checker) => {
                for e in checks::check_writes(&workload, &checker).await {
                    violations.record(format!("cycle {cycle}: {e}"));
                }
                checker.close().await;
            }
            Err(e) => violations.record(format!("cycle {cycle}: no checker for the writes: {e}")),
        }
        let now = Resources::sample();
        if cycle == warmup {
            report.baseline = now;
        }
        report.end = now;
        let _ = writeln!(out, "{line}; {now}");
        for evidence in violations.since(before) {
            let _ = writeln!(out, "  VIOLATION {evidence}");
        }
        report.cycles = cycle;
    }
    report.elapsed = started.elapsed();
    report.excess = SOAK_BOUND.excess(report.baseline, report.end);
    for excess in &report.excess {
        violations.record(format!("resources: {excess}"));
        let _ = writeln!(out, "  VIOLATION resources: {excess}");
    }
    report.violations = violations.count();
    workload.close().await;
    Ok(report)
}

/// A fresh client straight to the ensemble, to read what the servers say.
async fn checker(cluster: &TestingCluster) -> SoakResult<Client> {
    connected_client(
        &cluster.connect_string(),
        SESSION_TIMEOUT,
        Duration::from_secs(30),
    )
    .await
}

/// Waits until every invariant holds; `Ok(time taken)` or the last failures once
/// [`CONVERGE_DEADLINE`] passed.
async fn converge(
    cluster: &TestingCluster,
    workload: &Workload,
    healed: checks::Progress,
) -> Result<Duration, Vec<String>> {
    let started = Instant::now();
    let deadline = started + CONVERGE_DEADLINE;
    let mut checker_client: Option<Client> = None;
    loop {
        let failures = match &checker_client {
            Some(checker) => checks::unconverged(workload, checker, healed).await,
            None => match checker(cluster).await {
                Ok(client) => {
                    checker_client = Some(client);
                    continue;
                }
                Err(e) => vec![format!("no checker client: {e}")],
            },
        };
        if failures.is_empty() {
            if let Some(checker) = checker_client {
                checker.close().await;
            }
            return Ok(started.elapsed());
        }
        if Instant::now() > deadline {
            if let Some(checker) = checker_client {
                checker.close().await;
            }
            return Err(failures);
        }
        tokio::time::sleep(CONVERGE_POLL).await;
    }
}
