//! The `lock-client` command: one process of zk-recipes' `InterProcessMutex`,
//! doing what `bench/java/CuratorLockBench.java` does with Curator's.
//!
//! - `--mode uncontended`: `--warmup` untimed acquire+release cycles on the lock
//!   path, then `--cycles` timed ones, each timed alone; one `LOCKRESULT` line.
//! - `--mode contended`: prints `READY`, waits for `GO` on standard input, then
//!   loops acquire → hold `--hold-ms` → release, `--warmup` plus `--cycles` times,
//!   and prints its events (see [`lines`](super::lines)) once done, so that the
//!   loop writes nothing.
//!
//! Both loops also end at `--time-limit-secs`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zk_recipes::locks::InterProcessMutex;

use super::lines::{Event, Kind, Uncontended};
use crate::stats::percentile;

/// The name of this implementation in result lines.
pub(crate) const NAME: &str = "zk-recipes";

/// Which measurement a process makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One process alone on its lock path.
    Uncontended,
    /// One of two processes taking turns on one lock path.
    Contended,
}

impl Mode {
    /// The name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Uncontended => "uncontended",
            Mode::Contended => "contended",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        [Mode::Uncontended, Mode::Contended]
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown mode {s:?}"))
    }
}

/// What one lock client process runs.
#[derive(Debug, Clone)]
pub(crate) struct LockPlan {
    /// `host:port` of the server.
    pub addr: String,
    /// The lock's path.
    pub path: String,
    /// What to measure.
    pub mode: Mode,
    /// Timed cycles (acquisitions of this process).
    pub cycles: usize,
    /// Untimed cycles before them.
    pub warmup: usize,
    /// How long each acquisition holds, contended only.
    pub hold: Duration,
    /// The loops end here, whatever their count.
    pub time_limit: Duration,
}

/// Connects as Curator's `newClient(cs, 60000, 15000, new RetryOneTime(100))`
/// would, and runs the plan.
pub(crate) async fn run(plan: &LockPlan) -> Result<(), String> {
    let client =
        crate::runtime::curator_like_client(&plan.addr, Duration::from_secs(60), None).await?;
    let mutex = InterProcessMutex::new(client.clone(), plan.path.clone());
    let deadline = Instant::now() + plan.time_limit;
    let result = match plan.mode {
        Mode::Uncontended => uncontended(&mutex, plan, deadline).await,
        Mode::Contended => contended(&mutex, plan).await,
    };
    client.close().await;
    result
}

async fn uncontended(
    mutex: &InterProcessMutex,
    plan: &LockPlan,
    deadline: Instant,
) -> Result<(), String> {
    let mut samples = Vec::with_capacity(plan.cycles);
    for i in 0..plan.warmup + plan.cycles {
        if Instant::now() >= deadline {
            break;
        }
        let started = Instant::now();
        let guard = mutex.acquire().await.map_err(|e| format!("acquire: {e}"))?;
        guard.release().await.map_err(|e| format!("release: {e}"))?;
        if i >= plan.warmup {
            samples.push(started.elapsed().as_nanos() as u64);
        }
    }
    let result = Uncontended {
        client: NAME.to_string(),
        cycles: samples.len(),
        p50_ns: percentile(&mut samples, 50.0).ok_or("no timed cycle within the time limit")?,
        p99_ns: percentile(&mut samples, 99.0).unwrap_or(0),
    };
    println!("{result}");
    Ok(())
}

async fn contended(mutex: &InterProcessMutex, plan: &LockPlan) -> Result<(), String> {
    println!("READY");
    let go = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| format!("stdin reader: {e}"))?
    .map_err(|e| format!("stdin: {e}"))?;
    if go.trim() != "GO" {
        return Err(format!("expected GO on stdin, got {go:?}"));
    }
    // The time limit counts from GO: the other process may have taken a while to start.
    let deadline = Instant::now() + plan.time_limit;
    let mut events = Vec::with_capacity(2 * (plan.warmup + plan.cycles));
    for i in 0..plan.warmup + plan.cycles {
        if Instant::now() >= deadline {
            break;
        }
        let guard = mutex.acquire().await.map_err(|e| format!("acquire: {e}"))?;
        events.push(event(Kind::Acquired, i));
        tokio::time::sleep(plan.hold).await;
        events.push(event(Kind::Released, i));
        guard.release().await.map_err(|e| format!("release: {e}"))?;
    }
    let mut out = String::with_capacity(events.len() * 32);
    for e in &events {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// An event now, on the wall clock.
fn event(kind: Kind, cycle: usize) -> Event {
    let t_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    Event { kind, cycle, t_us }
}
