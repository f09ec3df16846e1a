//! Runs one phase of operations against a [`Target`] with a fixed number of
//! requests in flight, and measures it.
//!
//! At depth 1 one loop issues each request after the previous reply and times each
//! one. At depth N, N workers share one counter and each keeps one request in flight,
//! all inside the calling task: no task is spawned per worker and nothing is allocated per
//! operation by the runner itself, so what is measured is the client library.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::cpu::process_cpu_ns;
use crate::stats::percentile;
use crate::targets::{Action, Target};
use crate::workload::{Measurement, Op};

/// Performs `action` on every path with `depth` requests in flight. Untimed.
pub(crate) async fn pipelined<T: Target>(
    t: &T,
    action: Action,
    paths: &[String],
    data: &[u8],
    depth: usize,
) -> Result<(), String> {
    // Only this task touches the counter; it is atomic so the future stays `Send`.
    let next = AtomicUsize::new(0);
    let worker = || async {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(i) else {
                return Ok::<(), String>(());
            };
            t.act(action, path, data).await?;
        }
    };
    let mut workers: FuturesUnordered<_> = (0..depth.max(1)).map(|_| worker()).collect();
    while let Some(r) = workers.next().await {
        r?;
    }
    Ok(())
}

/// Runs `op` on every path with `depth` requests in flight and measures wall time,
/// this process's CPU time and, at depth 1, each request's latency.
pub(crate) async fn measure<T: Target>(
    t: &T,
    op: Op,
    paths: &[String],
    data: &[u8],
    depth: usize,
) -> Result<Measurement, String> {
    let mut latencies: Vec<u64> = Vec::with_capacity(if depth == 1 { paths.len() } else { 0 });
    let cpu0 = process_cpu_ns();
    let t0 = Instant::now();
    if depth == 1 {
        for path in paths {
            let start = Instant::now();
            t.act(Action::Op(op), path, data).await?;
            latencies.push(start.elapsed().as_nanos() as u64);
        }
    } else {
        pipelined(t, Action::Op(op), paths, data, depth).await?;
    }
    let wall_ns = t0.elapsed().as_nanos() as u64;
    let cpu_ns = process_cpu_ns() - cpu0;
    Ok(Measurement {
        client: T::NAME.to_string(),
        op,
        depth,
        ops: paths.len() as u64,
        wall_ns,
        cpu_ns,
        p50_ns: percentile(&mut latencies, 50.0),
        p99_ns: percentile(&mut latencies, 99.0),
    })
}
