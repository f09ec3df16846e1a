//! The lock benchmark's tables: the median across rounds of each round's p50 and
//! p99, per implementation, and zk-recipes' ratios to Curator against the
//! issue's goal (at most Curator's, so a ratio of at most 1).

use std::fmt::Write;

use super::client::NAME as SUBJECT;
use super::driver::{CURATOR, LockRound, percentile_us};
use crate::stats::median;

/// The goal: zk-recipes' latency at most this multiple of Curator's.
pub(crate) const GOAL: f64 = 1.0;

/// The two measurements, as the tables name them.
const MEASUREMENTS: [&str; 2] = ["uncontended acquire+release", "contended handoff"];

/// The medians across rounds of one implementation's figures, in µs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LockSummary {
    /// p50 and p99 of each measurement, in [`MEASUREMENTS`] order.
    pub p50_p99_us: [(f64, f64); 2],
    /// Server requests per uncontended cycle.
    pub requests_per_cycle: Option<f64>,
    /// Server CPU µs per uncontended cycle.
    pub server_cpu_us: Option<f64>,
    /// Handoffs timed per round (median).
    pub handoffs: f64,
    /// Rounds.
    pub rounds: usize,
}

/// The summary of `client`'s rounds; `None` if it has none.
pub(crate) fn summarize(rounds: &[LockRound], client: &str) -> Option<LockSummary> {
    let mine: Vec<&LockRound> = rounds.iter().filter(|r| r.client == client).collect();
    let med =
        |f: &dyn Fn(&LockRound) -> f64| median(&mine.iter().map(|r| f(r)).collect::<Vec<_>>());
    let us = |ns: u64| ns as f64 / 1e3;
    Some(LockSummary {
        p50_p99_us: [
            (
                med(&|r| us(r.uncontended.p50_ns))?,
                med(&|r| us(r.uncontended.p99_ns))?,
            ),
            (
                med(&|r| percentile_us(&r.handoffs, 50.0) as f64)?,
                med(&|r| percentile_us(&r.handoffs, 99.0) as f64)?,
            ),
        ],
        requests_per_cycle: median(
            &mine
                .iter()
                .filter_map(|r| r.requests_per_cycle)
                .collect::<Vec<_>>(),
        ),
        server_cpu_us: median(
            &mine
                .iter()
                .filter_map(|r| r.server_cpu_us_per_cycle)
                .collect::<Vec<_>>(),
        ),
        handoffs: med(&|r| r.handoffs.samples_us.len() as f64)?,
        rounds: mine.len(),
    })
}

/// The figures, then zk-recipes' ratios to Curator.
pub(crate) fn markdown(rounds: &[LockRound], impls: &[String]) -> String {
    let mut out = String::new();
    out.push_str(
        "| measurement | implementation | p50 µs | p99 µs | server requests per cycle \
         | server CPU µs per cycle |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    let summaries: Vec<(&String, LockSummary)> = impls
        .iter()
        .filter_map(|c| summarize(rounds, c).map(|s| (c, s)))
        .collect();
    for (m, title) in MEASUREMENTS.iter().enumerate() {
        for (client, s) in &summaries {
            let (p50, p99) = s.p50_p99_us[m];
            let (requests, cpu) = match m {
                0 => (
                    s.requests_per_cycle.map(|r| format!("{r:.2}")),
                    s.server_cpu_us.map(|c| format!("{c:.0}")),
                ),
                _ => (None, None),
            };
            let dash = || "–".to_string();
            let _ = writeln!(
                out,
                "| {title} | {client} | {p50:.0} | {p99:.0} | {} | {} |",
                requests.unwrap_or_else(dash),
                cpu.unwrap_or_else(dash)
            );
        }
    }
    let find = |name: &str| summaries.iter().find(|(c, _)| *c == name).map(|(_, s)| *s);
    if let (Some(me), Some(peer)) = (find(SUBJECT), find(CURATOR)) {
        out.push('\n');
        let _ = writeln!(
            out,
            "| measurement | p50 ratio {SUBJECT}/{CURATOR} (goal ≤ {GOAL}) | p99 ratio (goal ≤ {GOAL}) |"
        );
        out.push_str("|---|---:|---:|\n");
        for (m, title) in MEASUREMENTS.iter().enumerate() {
            let cell = |a: f64, b: f64| {
                let r = a / b;
                format!("{r:.2} {}", if r <= GOAL { "met" } else { "**missed**" })
            };
            let _ = writeln!(
                out,
                "| {title} | {} | {} |",
                cell(me.p50_p99_us[m].0, peer.p50_p99_us[m].0),
                cell(me.p50_p99_us[m].1, peer.p50_p99_us[m].1),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locks::lines::{Handoffs, Uncontended};

    fn round(client: &str, p50_us: u64, handoff_us: u64) -> LockRound {
        LockRound {
            client: client.into(),
            uncontended: Uncontended {
                client: client.into(),
                cycles: 100,
                p50_ns: p50_us * 1000,
                p99_ns: p50_us * 2000,
            },
            requests_per_cycle: Some(3.0),
            server_cpu_us_per_cycle: Some(90.0),
            handoffs: Handoffs {
                samples_us: vec![handoff_us; 10],
                reacquired: 0,
                overlaps: 0,
            },
        }
    }

    #[test]
    fn medians_across_rounds_and_ratios_against_curator() {
        let rounds = vec![
            round("zk-recipes", 300, 200),
            round("curator", 400, 150),
            round("zk-recipes", 100, 100),
            round("curator", 500, 100),
            round("zk-recipes", 200, 300),
            round("curator", 600, 125),
        ];
        let s = summarize(&rounds, "zk-recipes").unwrap();
        assert_eq!(s.rounds, 3);
        assert_eq!(s.p50_p99_us[0], (200.0, 400.0));
        assert_eq!(s.p50_p99_us[1], (200.0, 200.0));
        let impls = ["zk-recipes", "curator"].map(String::from);
        let md = markdown(&rounds, &impls);
        assert!(
            md.contains("| uncontended acquire+release | zk-recipes | 200 | 400 | 3.00 | 90 |"),
            "{md}"
        );
        assert!(
            md.contains("| contended handoff | curator | 125 | 125 | – | – |"),
            "{md}"
        );
        // 200/500 met; 200/125 missed.
        assert!(
            md.contains("| uncontended acquire+release | 0.40 met | 0.40 met |"),
            "{md}"
        );
        assert!(
            md.contains("| contended handoff | 1.60 **missed** | 1.60 **missed** |"),
            "{md}"
        );
    }
}
