//! Turns result lines from every round into the comparison table: the median of
//! each figure across rounds, per client, operation and depth, and zk-core's
//! ratios to each peer against the goals.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::stats::median;
use crate::workload::{Measurement, Op};

/// The client the ratios are about.
pub(crate) const SUBJECT: &str = "zk-core";
/// The raw-socket floor (see `floor.rs`): a goal it misses no client can meet.
pub(crate) const FLOOR: &str = crate::floor::NAME;

/// The goals for zk-core against one peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Goal {
    /// The peer.
    pub peer: &'static str,
    /// zk-core's throughput must be at least this multiple of the peer's.
    pub min_throughput: f64,
    /// zk-core's CPU per operation must be at most this multiple of the peer's.
    pub max_cpu: f64,
}

/// The goals of issue 3.
pub(crate) const GOALS: [Goal; 2] = [
    Goal {
        peer: "java",
        min_throughput: 1.3,
        max_cpu: 0.1,
    },
    Goal {
        peer: "zookeeper-client",
        min_throughput: 1.1,
        max_cpu: 0.8,
    },
];

/// The medians of one client's figures for one operation and depth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Client CPU µs per operation.
    pub cpu_us: f64,
    /// Median latency in µs (depth 1 only).
    pub p50_us: Option<f64>,
    /// 99th percentile latency in µs (depth 1 only).
    pub p99_us: Option<f64>,
    /// How many rounds the medians are taken over.
    pub rounds: usize,
}

/// Key: operation, depth, client.
pub(crate) type Summaries = BTreeMap<(Op, usize, String), Summary>;

/// The median figures of every (operation, depth, client) seen in `results`.
pub(crate) fn summarize(results: &[Measurement]) -> Summaries {
    let mut groups: BTreeMap<(Op, usize, String), Vec<&Measurement>> = BTreeMap::new();
    for m in results {
        groups
            .entry((m.op, m.depth, m.client.clone()))
            .or_default()
            .push(m);
    }
    groups
        .into_iter()
        .filter_map(|(k, ms)| {
            let f = |g: &dyn Fn(&Measurement) -> f64| {
                median(&ms.iter().map(|m| g(m)).collect::<Vec<_>>())
            };
            let lat = |g: &dyn Fn(&Measurement) -> Option<u64>| {
                let v: Vec<f64> = ms
                    .iter()
                    .filter_map(|m| g(m))
                    .map(|ns| ns as f64 / 1e3)
                    .collect();
                median(&v)
            };
            Some((
                k,
                Summary {
                    ops_per_sec: f(&|m| m.ops_per_sec())?,
                    cpu_us: f(&|m| m.cpu_us_per_op())?,
                    p50_us: lat(&|m| m.p50_ns),
                    p99_us: lat(&|m| m.p99_ns),
                    rounds: ms.len(),
                },
            ))
        })
        .collect()
}

/// The comparison as Markdown tables: the figures, then the ratios with the goals.
pub(crate) fn markdown(s: &Summaries, clients: &[String]) -> String {
    let mut out = String::new();
    let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}"));
    out.push_str(
        "| operation | in flight | client | ops/s | client CPU µs/op | p50 µs | p99 µs |\n",
    );
    out.push_str("|---|---:|---|---:|---:|---:|---:|\n");
    for ((op, depth), row) in rows(s, clients) {
        for (client, v) in row {
            let _ = writeln!(
                out,
                "| {} | {depth} | {client} | {:.0} | {:.1} | {} | {} |",
                op.title(),
                v.ops_per_sec,
                v.cpu_us,
                opt(v.p50_us),
                opt(v.p99_us)
            );
        }
    }
    out.push('\n');
    out.push_str(&ratios(s, clients));
    if clients.iter().any(|c| c == FLOOR) {
        out.push('\n');
        out.push_str(&floor_ratios(s, clients));
    }
    out
}

/// zk-core's ratios to each peer, with the goals.
fn ratios(s: &Summaries, clients: &[String]) -> String {
    let mut out = String::new();
    out.push_str("| operation | in flight | zk-core vs | throughput ratio (goal) | CPU/op ratio (goal) | p50 ratio | p99 ratio |\n");
    out.push_str("|---|---:|---|---:|---:|---:|---:|\n");
    for ((op, depth), me, goal, peer) in pairs(s, clients, SUBJECT) {
        let thr = me.ops_per_sec / peer.ops_per_sec;
        let cpu = me.cpu_us / peer.cpu_us;
        let lat = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {depth} | {} | {} (≥ {}) {} | {} (≤ {}) {} | {} | {} |",
            op.title(),
            goal.peer,
            ratio_text(thr, goal.min_throughput),
            goal.min_throughput,
            mark(thr >= goal.min_throughput),
            ratio_text(cpu, goal.max_cpu),
            goal.max_cpu,
            mark(cpu <= goal.max_cpu),
            lat(me.p50_us, peer.p50_us),
            lat(me.p99_us, peer.p99_us),
        );
    }
    out
}

/// The floor's CPU per operation against each peer's, with zk-core's CPU goal: no
/// client's ratio can be lower than the floor's, so a goal below it is out of reach.
/// (Throughput has no such bound: the server sets it, and how a client batches its
/// writes changes what the server spends.)
fn floor_ratios(s: &Summaries, clients: &[String]) -> String {
    let mut out = String::new();
    out.push_str("| operation | in flight | floor vs | floor CPU/op ratio | zk-core's goal |\n");
    out.push_str("|---|---:|---|---:|---|\n");
    for ((op, depth), me, goal, peer) in pairs(s, clients, FLOOR) {
        let cpu = me.cpu_us / peer.cpu_us;
        let _ = writeln!(
            out,
            "| {} | {depth} | {} | {} | ≤ {} {} |",
            op.title(),
            goal.peer,
            ratio_text(cpu, goal.max_cpu),
            goal.max_cpu,
            if cpu <= goal.max_cpu {
                "within reach"
            } else {
                "**out of reach**"
            },
        );
    }
    out
}

/// A ratio with two decimals, or three where two would round it onto `goal` and
/// hide which side of it the ratio is (1.095 against a goal of 1.1).
fn ratio_text(ratio: f64, goal: f64) -> String {
    let two = format!("{ratio:.2}");
    if two.parse::<f64>().ok() == Some(goal) && ratio != goal {
        format!("{ratio:.3}")
    } else {
        two
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// `subject`'s figures beside each goal's peer, for every (operation, depth) where
/// both were measured.
fn pairs<'a>(
    s: &'a Summaries,
    clients: &[String],
    subject: &str,
) -> Vec<((Op, usize), &'a Summary, Goal, &'a Summary)> {
    let mut out = Vec::new();
    for (key, row) in rows(s, clients) {
        let Some(me) = row.iter().find(|(c, _)| c == subject).map(|(_, v)| *v) else {
            continue;
        };
        for goal in GOALS {
            if let Some(peer) = row.iter().find(|(c, _)| c == goal.peer).map(|(_, v)| *v) {
                out.push((key, me, goal, peer));
            }
        }
    }
    out
}

/// One (operation, depth) and each client's figures for it.
type Row<'a> = ((Op, usize), Vec<(String, &'a Summary)>);

/// Rows grouped by (operation, depth), clients in the given order.
fn rows<'a>(s: &'a Summaries, clients: &[String]) -> Vec<Row<'a>> {
    let mut keys: Vec<(Op, usize)> = s.keys().map(|(op, d, _)| (*op, *d)).collect();
    keys.dedup();
    keys.into_iter()
        .map(|(op, d)| {
            let row = clients
                .iter()
                .filter_map(|c| s.get(&(op, d, c.clone())).map(|v| (c.clone(), v)))
                .collect();
            ((op, d), row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(client: &str, op: Op, depth: usize, wall_ms: u64, cpu_ms: u64) -> Measurement {
        Measurement {
            client: client.into(),
            op,
            depth,
            ops: 1000,
            wall_ns: wall_ms * 1_000_000,
            cpu_ns: cpu_ms * 1_000_000,
            p50_ns: (depth == 1).then_some(wall_ms * 1000),
            p99_ns: (depth == 1).then_some(wall_ms * 2000),
        }
    }

    #[test]
    fn a_ratio_that_two_decimals_would_round_onto_its_goal_shows_three() {
        assert_eq!(ratio_text(1.0953, 1.1), "1.095");
        assert_eq!(ratio_text(1.1049, 1.1), "1.105");
        assert_eq!(ratio_text(1.1, 1.1), "1.10");
        assert_eq!(ratio_text(1.2345, 1.1), "1.23");
        assert_eq!(ratio_text(0.0951, 0.1), "0.095");
    }

    #[test]
    fn medians_across_rounds_and_ratios_against_the_goals() {
        let results = vec![
            m("zk-core", Op::Get, 1, 100, 10),
            m("zk-core", Op::Get, 1, 300, 30),
            m("zk-core", Op::Get, 1, 200, 20),
            m("java", Op::Get, 1, 400, 400),
            m("zookeeper-client", Op::Get, 1, 210, 20),
            m("floor", Op::Get, 1, 190, 60),
        ];
        let s = summarize(&results);
        let me = s[&(Op::Get, 1, "zk-core".to_string())];
        assert_eq!(me.rounds, 3);
        assert_eq!(me.ops_per_sec, 5000.0);
        assert_eq!(me.cpu_us, 20.0);
        assert_eq!(me.p50_us, Some(200.0));
        let clients: Vec<String> = ["zk-core", "zookeeper-client", "java", "floor"]
            .map(String::from)
            .into();
        let md = markdown(&s, &clients);
        // 2x Java's throughput and 0.05x its CPU: both goals met.
        assert!(
            md.contains("| getData | 1 | java | 2.00 (≥ 1.3) met | 0.05 (≤ 0.1) met |"),
            "{md}"
        );
        // 1.05x zookeeper-client's throughput misses 1.1; CPU 1.0 misses 0.8.
        assert!(
            md.contains("| getData | 1 | zookeeper-client | 1.05 (≥ 1.1) **missed** | 1.00 (≤ 0.8) **missed** |"),
            "{md}"
        );
        // The floor's own table: 0.15x Java's CPU puts the 0.1 goal out of reach.
        assert!(
            md.contains("| getData | 1 | java | 0.15 | ≤ 0.1 **out of reach** |"),
            "{md}"
        );
        assert!(
            md.contains("| getData | 1 | zookeeper-client | 3.00 | ≤ 0.8 **out of reach** |"),
            "{md}"
        );
    }
}
