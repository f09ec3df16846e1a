//! The `locks` command: starts one server and, round after round (the order of
//! the implementations rotating each round), runs for each implementation one
//! uncontended process, then two contended processes on one lock path.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zk_testing::ServerConfig;

use super::client::{self, Mode};
use super::lines::{Event, Handoffs, Uncontended, handoffs};
use crate::cpu::pid_cpu_ns;
use crate::process::{collect, spawn};
use crate::server::BenchServer;

/// The Java implementation's name in the report.
pub(crate) const CURATOR: &str = "curator";

/// Everything `locks` needs.
#[derive(Debug, Clone)]
pub(crate) struct LockRunPlan {
    /// The implementations, by name: `zk-recipes`, `curator`.
    pub impls: Vec<String>,
    /// Rounds; each figure is the median across them.
    pub rounds: usize,
    /// Timed uncontended cycles.
    pub cycles: usize,
    /// Untimed uncontended cycles before them.
    pub warmup: usize,
    /// Timed handoffs wanted (each contended process makes half of them).
    pub handoffs: usize,
    /// Untimed acquisitions of each contended process before the timed ones.
    pub handoff_warmup: usize,
    /// How long a contended holder holds.
    pub hold: Duration,
    /// The bound on each client process's loop.
    pub time_limit: Duration,
    /// The longest a client process may run before it is killed.
    pub client_timeout: Duration,
    /// The java binary for Curator's processes.
    pub java: String,
    /// Curator's class path (its jars, ZooKeeper's, Guava, slf4j).
    pub curator_classpath: String,
    /// Directory holding the compiled `CuratorLockBench.class`.
    pub java_classes: Option<PathBuf>,
    /// The server's settings.
    pub server: ServerConfig,
}

/// One implementation's figures in one round.
#[derive(Debug, Clone)]
pub(crate) struct LockRound {
    /// The implementation.
    pub client: String,
    /// Uncontended acquire+release.
    pub uncontended: Uncontended,
    /// Requests the server received per uncontended cycle, over the whole process
    /// (its connect, warm-up and close included); `None` if `mntr` failed.
    pub requests_per_cycle: Option<f64>,
    /// The server's CPU µs per uncontended cycle, over the same span (10 ms ticks).
    pub server_cpu_us_per_cycle: Option<f64>,
    /// Contended handoffs.
    pub handoffs: Handoffs,
}

/// Runs the benchmark and returns every round's figures.
pub(crate) fn run(plan: &LockRunPlan) -> Result<Vec<LockRound>, String> {
    let server = BenchServer::start_announced(plan.server.clone())?;
    let addr = server.addr();
    let rt = crate::runtime::current_thread()?;
    let packets = |rt: &tokio::runtime::Runtime| -> Option<u64> {
        let mntr = rt
            .block_on(zk_testing::four_letter_word(addr.as_str(), "mntr"))
            .ok()?;
        mntr.lines()
            .find_map(|l| l.strip_prefix("zk_packets_received"))
            .and_then(|v| v.trim().parse().ok())
    };
    let mut out = Vec::new();
    let n = plan.impls.len();
    for round in 0..plan.rounds {
        for k in 0..n {
            let name = &plan.impls[(round + k) % n];
            let base = format!("/bench-locks/{name}-{round}");

            let before = packets(&rt);
            let cpu_before = pid_cpu_ns(server.pid());
            let lines = run_one(plan, name, &addr, &format!("{base}-u"), Mode::Uncontended)?;
            let cpu_after = pid_cpu_ns(server.pid());
            let after = packets(&rt);
            let mut results = lines.iter().filter_map(|l| Uncontended::parse(l));
            let uncontended = match results.next() {
                Some(r) => r.map_err(|e| format!("{name}: bad result line: {e}"))?,
                None => return Err(format!("{name} printed no LOCKRESULT line")),
            };
            if uncontended.cycles == 0 {
                return Err(format!("{name}: no uncontended cycle was timed"));
            }
            let total_cycles = (plan.warmup + uncontended.cycles) as f64;
            let requests_per_cycle = before
                .zip(after)
                .map(|(a, b)| b.saturating_sub(a) as f64 / total_cycles);
            let server_cpu_us_per_cycle = cpu_before
                .zip(cpu_after)
                .map(|(a, b)| b.saturating_sub(a) as f64 / 1e3 / total_cycles);

            let [a, b] = run_pair(plan, name, &addr, &format!("{base}-c"))?;
            let handoffs = handoffs(&a, &b, plan.handoff_warmup);
            if handoffs.samples_us.is_empty() {
                return Err(format!("{name}: no handoff was timed"));
            }
            if handoffs.overlaps > 0 {
                return Err(format!(
                    "{name}: {} acquisitions while the other process held (clock step?)",
                    handoffs.overlaps
                ));
            }
            let r = LockRound {
                client: name.clone(),
                uncontended,
                requests_per_cycle,
                server_cpu_us_per_cycle,
                handoffs,
            };
            eprintln!(
                "round {}/{} {name}: uncontended p50 {:.0} µs p99 {:.0} µs ({} cycles, {} \
                 server requests and {} server CPU µs per cycle); handoff p50 {} µs p99 {} µs ({} handoffs, {} \
                 re-acquired by the releaser)",
                round + 1,
                plan.rounds,
                r.uncontended.p50_ns as f64 / 1e3,
                r.uncontended.p99_ns as f64 / 1e3,
                r.uncontended.cycles,
                r.requests_per_cycle
                    .map_or("?".to_string(), |v| format!("{v:.2}")),
                r.server_cpu_us_per_cycle
                    .map_or("?".to_string(), |v| format!("{v:.0}")),
                percentile_us(&r.handoffs, 50.0),
                percentile_us(&r.handoffs, 99.0),
                r.handoffs.samples_us.len(),
                r.handoffs.reacquired,
            );
            out.push(r);
        }
    }
    Ok(out)
}

/// The `p`-th percentile of a round's handoffs, in µs.
pub(crate) fn percentile_us(h: &Handoffs, p: f64) -> u64 {
    crate::stats::percentile(&mut h.samples_us.clone(), p).unwrap_or(0)
}

/// The command line of one lock client process of `name`.
fn command(
    plan: &LockRunPlan,
    name: &str,
    addr: &str,
    path: &str,
    mode: Mode,
) -> Result<Command, String> {
    let mut cmd = match name {
        client::NAME => {
            let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
            let mut c = Command::new(exe);
            c.arg("lock-client").args(["--impl", name]);
            c
        }
        CURATOR => {
            let classes = plan
                .java_classes
                .as_ref()
                .ok_or("curator needs --java-classes")?;
            let mut c = Command::new(&plan.java);
            c.arg("-cp")
                .arg(format!("{}:{}", classes.display(), plan.curator_classpath))
                .arg("CuratorLockBench");
            c
        }
        other => return Err(format!("unknown implementation {other:?}")),
    };
    let (cycles, warmup) = match mode {
        Mode::Uncontended => (plan.cycles, plan.warmup),
        Mode::Contended => (plan.handoffs.div_ceil(2), plan.handoff_warmup),
    };
    cmd.args(["--addr", addr])
        .args(["--path", path])
        .args(["--mode", mode.name()])
        .args(["--cycles", &cycles.to_string()])
        .args(["--warmup", &warmup.to_string()])
        .args(["--hold-ms", &plan.hold.as_millis().to_string()])
        .args(["--time-limit-secs", &plan.time_limit.as_secs().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Ok(cmd)
}

/// Runs one process and returns its output lines (echoing the unexpected ones).
fn run_one(
    plan: &LockRunPlan,
    name: &str,
    addr: &str,
    path: &str,
    mode: Mode,
) -> Result<Vec<String>, String> {
    let (tx, rx) = mpsc::channel();
    let mut procs = [spawn(command(plan, name, addr, path, mode)?, name, 0, tx)?];
    let deadline = Instant::now() + plan.client_timeout;
    let mut lines = collect(&mut procs, &rx, deadline, |_, _, line| {
        if Uncontended::parse(line).is_none() {
            eprintln!("  | {line}");
        }
        Ok(())
    })?;
    Ok(lines.remove(0))
}

/// Runs two contended processes on `path`, starts them together once both are
/// ready, and returns each one's events.
fn run_pair(
    plan: &LockRunPlan,
    name: &str,
    addr: &str,
    path: &str,
) -> Result<[Vec<Event>; 2], String> {
    let (tx, rx) = mpsc::channel();
    let mut procs = Vec::new();
    for i in 0..2 {
        let cmd = command(plan, name, addr, path, Mode::Contended)?;
        procs.push(spawn(cmd, name, i, tx.clone())?);
    }
    drop(tx);
    let deadline = Instant::now() + plan.client_timeout;
    let mut ready = 0;
    let lines = collect(&mut procs, &rx, deadline, |procs, _, line| {
        if line == "READY" {
            ready += 1;
            if ready == procs.len() {
                for p in procs.iter_mut() {
                    let stdin = p.child.stdin.as_mut().ok_or("no stdin pipe")?;
                    stdin
                        .write_all(b"GO\n")
                        .and_then(|()| stdin.flush())
                        .map_err(|e| format!("{}: GO: {e}", p.name))?;
                }
            }
        } else if Event::parse(line).is_none() {
            eprintln!("  | {line}");
        }
        Ok(())
    })?;
    let events = |lines: &[String]| -> Result<Vec<Event>, String> {
        lines
            .iter()
            .filter_map(|l| Event::parse(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{name}: bad event line: {e}"))
    };
    Ok([events(&lines[0])?, events(&lines[1])?])
}
