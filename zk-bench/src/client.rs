//! The `client` command: one client process. It connects, lays out its nodes,
//! runs every phase once untimed to warm up, then once timed, printing a result
//! line per timed phase, and removes its nodes.

use std::time::Duration;

use crate::runner::{measure, pipelined};
use crate::targets::{Action, Target};
use crate::workload::{Layout, Op, payload};

/// What one client process runs.
#[derive(Debug, Clone)]
pub(crate) struct ClientPlan {
    /// `host:port` of the server.
    pub addr: String,
    /// The client's root node.
    pub root: String,
    /// Requests in flight in the pipelined phases.
    pub depth: usize,
    /// Operations per phase at depth 1.
    pub serial_ops: usize,
    /// Operations per phase at `depth`.
    pub pipelined_ops: usize,
    /// Operations per warm-up phase, as a fraction of the timed count.
    pub warmup: f64,
    /// A PEM file of the CA to trust: connect over TLS (`None`: plain TCP).
    pub tls_ca: Option<String>,
}

/// Depth used for setup and cleanup.
pub(crate) const HOUSEKEEPING_DEPTH: usize = 200;

/// Runs the plan with client `T`, printing result lines to standard output.
pub(crate) async fn run<T: Target>(plan: &ClientPlan) -> Result<(), String> {
    let tls_ca = match &plan.tls_ca {
        Some(file) => Some(std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?),
        None => None,
    };
    let t = T::connect(&plan.addr, tls_ca.as_deref(), Duration::from_secs(30)).await?;
    let layout = Layout::new(&plan.root);
    let data = payload();
    let parents = [
        layout.root.clone(),
        layout.nodes_parent.clone(),
        layout.create_parent.clone(),
    ];
    for p in &parents {
        t.act(Action::Ensure, p, b"").await?;
    }
    pipelined(&t, Action::Ensure, &layout.nodes, &data, HOUSEKEEPING_DEPTH).await?;

    for (timed, op, depth, count) in phases(plan) {
        let tag = format!("{}{depth}", if timed { "t" } else { "w" });
        let paths = layout.phase_paths(op, &tag, count);
        let m = measure(&t, op, &paths, &data, depth).await?;
        if timed {
            println!("{m}");
        }
        if op == Op::Create {
            pipelined(&t, Action::Delete, &paths, &data, HOUSEKEEPING_DEPTH).await?;
        }
    }

    pipelined(&t, Action::Delete, &layout.nodes, &data, HOUSEKEEPING_DEPTH).await?;
    for p in parents.iter().rev() {
        t.act(Action::Delete, p, b"").await?;
    }
    t.close().await;
    Ok(())
}

/// The phases a client process runs, in order, as (timed, operation, depth, count):
/// every operation at depth 1 and at the plan's depth, first untimed to warm up
/// (scaled by `warmup`, skipped when that leaves nothing), then timed.
pub(crate) fn phases(plan: &ClientPlan) -> Vec<(bool, Op, usize, usize)> {
    let mut out = Vec::new();
    for timed in [false, true] {
        let scale = if timed { 1.0 } else { plan.warmup };
        for op in Op::ALL {
            for (depth, count) in [(1, plan.serial_ops), (plan.depth, plan.pipelined_ops)] {
                let count = (count as f64 * scale).round() as usize;
                if count > 0 {
                    out.push((timed, op, depth, count));
                }
            }
        }
    }
    out
}
