//! What a soak run reports: its summary line, heal times per fault kind, and resources.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use zk_testing::FaultKind;

use crate::resources::Resources;

/// The times from a fault's heal until every invariant held again, by kind of fault.
#[derive(Debug, Clone, Default)]
pub struct HealTimes {
    by_kind: BTreeMap<FaultKind, Vec<Duration>>,
}

impl HealTimes {
    /// Notes one heal.
    pub fn record(&mut self, kind: FaultKind, took: Duration) {
        self.by_kind.entry(kind).or_default().push(took);
    }

    /// `(kind, count, median, max)` for every kind seen, in [`FaultKind::ALL`]'s order.
    pub fn summary(&self) -> Vec<(FaultKind, usize, Duration, Duration)> {
        self.by_kind
            .iter()
            .map(|(kind, times)| {
                let mut sorted = times.clone();
                sorted.sort();
                (
                    *kind,
                    sorted.len(),
                    median(&sorted),
                    sorted[sorted.len() - 1],
                )
            })
            .collect()
    }
}

/// The median of a sorted, non-empty list (the lower middle of an even one).
fn median(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() - 1) / 2]
}

/// The outcome of a soak run.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// Faults injected.
    pub cycles: u64,
    /// The schedule's seed.
    pub seed: u64,
    /// Violations found (each printed with its evidence as it was found).
    pub violations: usize,
    /// Heal times by kind of fault.
    pub heal: HealTimes,
    /// Wall time of the cycles.
    pub elapsed: Duration,
    /// Resources when the workload had started.
    pub start: Resources,
    /// Resources after the warm-up cycles, the bound's baseline.
    pub baseline: Resources,
    /// Resources after the last cycle.
    pub end: Resources,
    /// What grew past the soak's bound.
    pub excess: Vec<String>,
}

impl SoakReport {
    pub(crate) fn new(seed: u64, start: Resources) -> SoakReport {
        SoakReport {
            cycles: 0,
            seed,
            violations: 0,
            heal: HealTimes::default(),
            elapsed: Duration::ZERO,
            start,
            baseline: start,
            end: start,
            excess: Vec::new(),
        }
    }

    /// The summary: `soak: N cycles, V violations, seed S`, then one line per fault kind and
    /// one for resources.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "soak: {} cycles, {} violations, seed {} ({:.0} s)",
            self.cycles,
            self.violations,
            self.seed,
            self.elapsed.as_secs_f64()
        );
        for (kind, count, median, max) in self.heal.summary() {
            let _ = write!(
                text,
                "\n  heal {kind}: {count} faults, median {:.1} s, max {:.1} s",
                median.as_secs_f64(),
                max.as_secs_f64()
            );
        }
        let _ = write!(
            text,
            "\n  resources: start {}, baseline {}, end {}",
            self.start, self.baseline, self.end
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heal_times_report_count_median_and_max_per_kind() {
        let mut heal = HealTimes::default();
        for ms in [300, 100, 200, 900] {
            heal.record(FaultKind::CutClient, Duration::from_millis(ms));
        }
        heal.record(FaultKind::KillLeader, Duration::from_secs(3));
        assert_eq!(
            heal.summary(),
            [
                (
                    FaultKind::KillLeader,
                    1,
                    Duration::from_secs(3),
                    Duration::from_secs(3)
                ),
                (
                    FaultKind::CutClient,
                    4,
                    Duration::from_millis(200),
                    Duration::from_millis(900)
                ),
            ]
        );
    }
}
