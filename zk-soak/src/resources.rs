//! What the client process holds: open file descriptors, live Tokio tasks and resident memory,
//! read from `/proc/self` and the runtime, and the bound a run must stay within.

use std::fmt;

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// Open file descriptors (`/proc/self/fd`).
    pub fds: usize,
    /// Tasks alive on the Tokio runtime this was read on.
    pub tasks: usize,
    /// Resident memory in KiB (`VmRSS` of `/proc/self/status`).
    pub rss_kib: u64,
}

impl Resources {
    /// Reads them now. Must be called on a Tokio runtime; anything `/proc` cannot tell reads
    /// as 0 (a platform without it), which no bound check then fails on.
    pub fn sample() -> Resources {
        Resources {
            fds: std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count),
            tasks: tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks(),
            rss_kib: resident_kib().unwrap_or(0),
        }
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fds {} tasks {} rss {:.1} MiB",
            self.fds,
            self.tasks,
            self.rss_kib as f64 / 1024.0
        )
    }
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How far a run may grow past its baseline (a reading taken once it has warmed up): a leak of
/// one descriptor or task per cycle, or of a few hundred bytes per cycle, passes it within a
/// few hundred cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceBound {
    /// Extra file descriptors allowed.
    pub fds: usize,
    /// Extra live tasks allowed.
    pub tasks: usize,
    /// Extra resident memory allowed, KiB.
    pub rss_kib: u64,
}

impl ResourceBound {
    /// The bound the churn runs hold: 4 descriptors, 8 tasks, 8 MiB.
    pub const CHURN: ResourceBound = ResourceBound {
        fds: 4,
        tasks: 8,
        rss_kib: 8 * 1024,
    };

    /// What of `now` is past `baseline` by more than this bound, one phrase each (empty when
    /// within it).
    pub fn excess(&self, baseline: Resources, now: Resources) -> Vec<String> {
        let mut out = Vec::new();
        if now.fds > baseline.fds + self.fds {
            out.push(format!(
                "file descriptors grew from {} to {} (bound +{})",
                baseline.fds, now.fds, self.fds
            ));
        }
        if now.tasks > baseline.tasks + self.tasks {
            out.push(format!(
                "tasks grew from {} to {} (bound +{})",
                baseline.tasks, now.tasks, self.tasks
            ));
        }
        if now.rss_kib > baseline.rss_kib + self.rss_kib {
            out.push(format!(
                "resident memory grew from {} KiB to {} KiB (bound +{} KiB)",
                baseline.rss_kib, now.rss_kib, self.rss_kib
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Resources = Resources {
        fds: 10,
        tasks: 5,
        rss_kib: 7000,
    };

    #[test]
    fn growth_within_the_bound_is_no_excess() {
        let now = Resources {
            fds: 14,
            tasks: 13,
            rss_kib: 7000 + 8 * 1024,
        };
        assert!(ResourceBound::CHURN.excess(BASE, now).is_empty());
    }

    #[test]
    fn each_resource_past_its_bound_is_named() {
        let now = Resources {
            fds: 15,
            tasks: 14,
            rss_kib: 7001 + 8 * 1024,
        };
        let excess = ResourceBound::CHURN.excess(BASE, now);
        assert_eq!(excess.len(), 3, "{excess:?}");
        assert!(excess[0].contains("file descriptors grew from 10 to 15"));
        assert!(excess[1].contains("tasks grew from 5 to 14"));
        assert!(excess[2].contains("resident memory"));
    }

    #[tokio::test]
    async fn a_sample_reads_this_process() {
        let (_hold, held) = tokio::sync::oneshot::channel::<()>();
        let waiting = tokio::spawn(held);
        let sample = Resources::sample();
        assert!(sample.fds > 0);
        assert!(sample.rss_kib > 0);
        assert_eq!(sample.tasks, 1, "the one task spawned here");
        waiting.abort();
    }
}
