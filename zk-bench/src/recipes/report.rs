//! The recipe benchmark's tables: per measure, tree size and implementation, the
//! median and 95th percentile of every value of every round pooled (and, for cache
//! builds, the median of each process's first build), then zk-recipes' ratios to
//! Curator against the goals.

use std::fmt::Write;

use super::client::NAME as SUBJECT;
use super::driver::CURATOR;
use super::lines::{Measure, RecipeResult};
use crate::stats::median;

/// The goal for a measure, as the largest ratio zk-recipes/Curator
/// allowed; `None` where the issue sets none (memory is reported, not judged).
pub(crate) fn ratio_goal(measure: Measure) -> Option<f64> {
    match measure {
        Measure::CacheBuild => Some(0.2),
        Measure::ExpiryBack => Some(0.25),
        Measure::LatchHandoff => Some(1.0),
        _ => None,
    }
}

/// The absolute goal for `get_instance`: under 100 ns a call.
pub(crate) const GET_INSTANCE_GOAL_NS: f64 = 100.0;

/// One row: a measure over one tree size by one implementation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// What was measured.
    pub measure: Measure,
    /// The tree's children, or 0.
    pub n: usize,
    /// The implementation.
    pub client: String,
    /// The median of every value.
    pub median: f64,
    /// The 95th percentile (nearest rank) of every value.
    pub p95: f64,
    /// The median of each process's first value (cache builds: the first build).
    pub first: f64,
    /// Values pooled.
    pub samples: usize,
}

fn p95(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (0.95 * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

/// The rows, in [`Measure::ALL`] order, then tree size, then `impls` order.
pub(crate) fn rows(results: &[RecipeResult], impls: &[String]) -> Vec<Row> {
    let mut keys: Vec<(Measure, usize)> = results.iter().map(|r| (r.measure, r.n)).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for (measure, n) in keys {
        for client in impls {
            let mine: Vec<&RecipeResult> = results
                .iter()
                .filter(|r| r.measure == measure && r.n == n && &r.client == client)
                .collect();
            let all: Vec<f64> = mine.iter().flat_map(|r| r.values.clone()).collect();
            let firsts: Vec<f64> = mine
                .iter()
                .filter_map(|r| r.values.first().copied())
                .collect();
            let (Some(med), Some(p), Some(first)) = (median(&all), p95(&all), median(&firsts))
            else {
                continue;
            };
            out.push(Row {
                measure,
                n,
                client: client.clone(),
                median: med,
                p95: p,
                first,
                samples: all.len(),
            });
        }
    }
    out
}

/// A value in the measure's unit, readably: times in ms or µs, others as they are.
fn shown(measure: Measure, v: f64) -> String {
    match measure.unit() {
        "ns" if v >= 1e6 => format!("{:.1} ms", v / 1e6),
        "ns" => format!("{:.0} µs", v / 1e3),
        "ns per call" => format!("{v:.0} ns"),
        _ => format!("{v:.0} B"),
    }
}

fn title(measure: Measure, n: usize) -> String {
    let what = match measure {
        Measure::CacheBuild => "cache initial build",
        Measure::CacheMemoryData => "memory per cached child, with data",
        Measure::CacheMemoryNoData => "memory per cached child, without data",
        Measure::ExpiryRemoved => "expiry → observer sees it removed",
        Measure::ExpiryBack => "expiry → observer sees it removed and back",
        Measure::LatchHandoff => "LeaderLatch close → next leads",
        Measure::GetInstance => "get_instance (round-robin, 3 instances)",
    };
    if n > 0 {
        format!("{what}, {n} children")
    } else {
        what.to_string()
    }
}

/// The figures, then zk-recipes' ratios to Curator.
pub(crate) fn markdown(results: &[RecipeResult], impls: &[String]) -> String {
    let rows = rows(results, impls);
    let mut out = String::new();
    out.push_str(
        "| measurement | implementation | median | p95 | first of each process | samples |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    for r in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            title(r.measure, r.n),
            r.client,
            shown(r.measure, r.median),
            shown(r.measure, r.p95),
            shown(r.measure, r.first),
            r.samples
        );
    }
    let find = |m: Measure, n: usize, c: &str| {
        rows.iter()
            .find(|r| r.measure == m && r.n == n && r.client == c)
    };
    let mut ratios = String::new();
    for r in rows.iter().filter(|r| r.client == SUBJECT) {
        let Some(peer) = find(r.measure, r.n, CURATOR) else {
            continue;
        };
        let ratio = r.median / peer.median;
        let verdict = match (ratio_goal(r.measure), r.measure) {
            (Some(goal), _) => format!(
                "≤ {goal}: {}",
                if ratio <= goal { "met" } else { "**missed**" }
            ),
            (None, Measure::GetInstance) => format!(
                "< {GET_INSTANCE_GOAL_NS:.0} ns a call: {}",
                if r.median < GET_INSTANCE_GOAL_NS {
                    "met"
                } else {
                    "**missed**"
                }
            ),
            (None, _) => "none set".to_string(),
        };
        let _ = writeln!(
            ratios,
            "| {} | {ratio:.2} | {verdict} |",
            title(r.measure, r.n)
        );
    }
    if !ratios.is_empty() {
        let _ = writeln!(
            out,
            "\n| measurement | median ratio {SUBJECT}/{CURATOR} | goal |\n|---|---:|---|"
        );
        out.push_str(&ratios);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(client: &str, measure: Measure, n: usize, values: &[f64]) -> RecipeResult {
        RecipeResult {
            client: client.into(),
            measure,
            n,
            values: values.to_vec(),
        }
    }

    #[test]
    fn values_pool_across_rounds_and_ratios_meet_or_miss_their_goals() {
        let results = vec![
            result("zk-recipes", Measure::CacheBuild, 10_000, &[4e8, 1e8, 1e8]),
            result("curator", Measure::CacheBuild, 10_000, &[2e9, 1e9, 1e9]),
            result("zk-recipes", Measure::CacheBuild, 10_000, &[2e8, 1e8, 1e8]),
            result("curator", Measure::CacheBuild, 10_000, &[2e9, 1e9, 1e9]),
            result("zk-recipes", Measure::LatchHandoff, 0, &[6e6, 6e6]),
            result("curator", Measure::LatchHandoff, 0, &[5e6, 5e6]),
            result("zk-recipes", Measure::GetInstance, 0, &[40.0, 50.0, 60.0]),
            result("curator", Measure::GetInstance, 0, &[90.0]),
            result("zk-recipes", Measure::CacheMemoryData, 10_000, &[300.0]),
            result("curator", Measure::CacheMemoryData, 10_000, &[700.0]),
        ];
        let impls = ["zk-recipes", "curator"].map(String::from);
        let rows = rows(&results, &impls);
        let build = &rows[0];
        assert_eq!(
            (build.measure, build.client.as_str()),
            (Measure::CacheBuild, "zk-recipes")
        );
        assert_eq!(build.samples, 6);
        assert_eq!(build.median, 1e8);
        assert_eq!(
            build.first, 3e8,
            "the median of the first builds, 4e8 and 2e8"
        );
        assert_eq!(build.p95, 4e8);

        let md = markdown(&results, &impls);
        assert!(
            md.contains("| cache initial build, 10000 children | zk-recipes | 100.0 ms | 400.0 ms | 300.0 ms | 6 |"),
            "{md}"
        );
        assert!(
            md.contains("| cache initial build, 10000 children | 0.10 | ≤ 0.2: met |"),
            "{md}"
        );
        assert!(
            md.contains("| LeaderLatch close → next leads | 1.20 | ≤ 1: **missed** |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| get_instance (round-robin, 3 instances) | 0.56 | < 100 ns a call: met |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| memory per cached child, with data, 10000 children | 0.43 | none set |"),
            "{md}"
        );
    }
}
