//! What a lock client process prints, in Rust and in Java alike, and how the
//! driver reads it back.
//!
//! - Uncontended, one line after the timed cycles:
//!   `LOCKRESULT impl=<name> cycles=<n> p50_ns=<ns> p99_ns=<ns>`, the latency of
//!   one acquire plus release, timed with the monotonic clock.
//! - Contended, `READY` once connected (the process then waits for a `GO` line on
//!   its standard input), and after its last cycle one line per event:
//!   `acquired <cycle> <µs>` just after an acquire returned and `released <cycle>
//!   <µs>` just before the release was called, `<µs>` the wall clock in
//!   microseconds since the Unix epoch (Rust `SystemTime`, Java `Instant.now()`):
//!   both processes run on one machine, so they read one clock.
//!
//! [`handoffs`] pairs the events of the two processes into handoff latencies.

use std::fmt;

/// The figures of one uncontended run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Uncontended {
    /// The implementation: `zk-recipes` or `curator`.
    pub client: String,
    /// Timed acquire+release cycles.
    pub cycles: usize,
    /// Median cycle latency.
    pub p50_ns: u64,
    /// 99th percentile cycle latency.
    pub p99_ns: u64,
}

impl Uncontended {
    /// Parses a result line; `None` for any other line.
    pub(crate) fn parse(line: &str) -> Option<Result<Uncontended, String>> {
        let rest = line.trim().strip_prefix("LOCKRESULT ")?;
        Some(parse_result(rest))
    }
}

fn parse_result(rest: &str) -> Result<Uncontended, String> {
    let (mut client, mut cycles, mut p50, mut p99) = (None, None, None, None);
    for field in rest.split_whitespace() {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| format!("field without '=': {field:?}"))?;
        let num = || v.parse::<u64>().map_err(|e| format!("{k}={v}: {e}"));
        match k {
            "impl" => client = Some(v.to_string()),
            "cycles" => cycles = Some(num()? as usize),
            "p50_ns" => p50 = Some(num()?),
            "p99_ns" => p99 = Some(num()?),
            _ => return Err(format!("unknown field {k:?}")),
        }
    }
    let missing = |name: &str| format!("result line lacks {name}");
    Ok(Uncontended {
        client: client.ok_or_else(|| missing("impl"))?,
        cycles: cycles.ok_or_else(|| missing("cycles"))?,
        p50_ns: p50.ok_or_else(|| missing("p50_ns"))?,
        p99_ns: p99.ok_or_else(|| missing("p99_ns"))?,
    })
}

impl fmt::Display for Uncontended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LOCKRESULT impl={} cycles={} p50_ns={} p99_ns={}",
            self.client, self.cycles, self.p50_ns, self.p99_ns
        )
    }
}

/// What happened at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    // Released sorts first: of a release and an acquire in one microsecond, the
    // release happened first (an acquire cannot return before the delete).
    /// Just before the release was called.
    Released,
    /// Just after the acquire returned.
    Acquired,
}

/// One event of a contended process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    /// Acquired or released.
    pub kind: Kind,
    /// The process's own count of acquisitions, from 0.
    pub cycle: usize,
    /// Wall clock, µs since the Unix epoch.
    pub t_us: u64,
}

impl Event {
    /// Parses an event line; `None` for any other line.
    pub(crate) fn parse(line: &str) -> Option<Result<Event, String>> {
        let mut words = line.split_whitespace();
        let kind = match words.next()? {
            "acquired" => Kind::Acquired,
            "released" => Kind::Released,
            _ => return None,
        };
        let mut num = |what: &str| -> Result<u64, String> {
            let w = words
                .next()
                .ok_or_else(|| format!("{line:?} lacks the {what}"))?;
            w.parse()
                .map_err(|e| format!("{line:?}: {what} {w:?}: {e}"))
        };
        let event = num("cycle").and_then(|cycle| {
            Ok(Event {
                kind,
                cycle: cycle as usize,
                t_us: num("time")?,
            })
        });
        Some(event.and_then(|e| match words.next() {
            None => Ok(e),
            Some(extra) => Err(format!("{line:?}: unexpected {extra:?}")),
        }))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Acquired => "acquired",
            Kind::Released => "released",
        };
        write!(f, "{kind} {} {}", self.cycle, self.t_us)
    }
}

/// The handoffs between two contended processes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Handoffs {
    /// µs from one process's release to the other's acquire, for every timed one.
    pub samples_us: Vec<u64>,
    /// Acquisitions that followed the same process's own release: the lock did
    /// not alternate there (the other process was not queued yet).
    pub reacquired: usize,
    /// Acquisitions while the other process still held: mutual exclusion broken,
    /// or the clock stepped. Must be zero.
    pub overlaps: usize,
}

/// Pairs the events of processes `a` and `b`: each acquisition that follows the
/// other process's release is a handoff of that many µs. Acquisitions numbered
/// below `warmup` (in their own process) are not timed.
pub(crate) fn handoffs(a: &[Event], b: &[Event], warmup: usize) -> Handoffs {
    let mut all: Vec<(u64, Kind, usize, usize)> = a
        .iter()
        .map(|e| (e.t_us, e.kind, 0, e.cycle))
        .chain(b.iter().map(|e| (e.t_us, e.kind, 1, e.cycle)))
        .collect();
    all.sort_unstable();
    let mut out = Handoffs::default();
    let mut holder: Option<usize> = None;
    let mut last_release: Option<(usize, u64)> = None;
    for (t, kind, process, cycle) in all {
        match kind {
            Kind::Released => {
                holder = None;
                last_release = Some((process, t));
            }
            Kind::Acquired => {
                if holder.is_some() {
                    out.overlaps += 1;
                }
                holder = Some(process);
                match last_release.take() {
                    Some((from, _)) if from == process => out.reacquired += 1,
                    // A handoff from the other process, timed after the warm-up.
                    Some((_, released)) if cycle >= warmup => {
                        out.samples_us.push(t - released);
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: Kind, cycle: usize, t_us: u64) -> Event {
        Event { kind, cycle, t_us }
    }

    #[test]
    fn lines_read_back_as_written() {
        let u = Uncontended {
            client: "curator".into(),
            cycles: 2000,
            p50_ns: 400_000,
            p99_ns: 900_000,
        };
        assert_eq!(Uncontended::parse(&u.to_string()), Some(Ok(u)));
        assert!(Uncontended::parse("READY").is_none());
        assert!(Uncontended::parse("LOCKRESULT impl=x").unwrap().is_err());
        let e = ev(Kind::Released, 7, 1_700_000_000_123_456);
        assert_eq!(Event::parse(&e.to_string()), Some(Ok(e)));
        assert_eq!(
            Event::parse("acquired 0 12"),
            Some(Ok(ev(Kind::Acquired, 0, 12)))
        );
        assert!(Event::parse("acquired 1").unwrap().is_err());
        assert!(Event::parse("acquired 1 2 3").unwrap().is_err());
        assert!(Event::parse("READY").is_none());
    }

    #[test]
    fn alternating_holders_pair_into_handoffs_after_the_warmup() {
        use Kind::{Acquired as A, Released as R};
        let a = [ev(A, 0, 100), ev(R, 0, 200), ev(A, 1, 450), ev(R, 1, 600)];
        let b = [ev(A, 0, 230), ev(R, 0, 400), ev(A, 1, 640), ev(R, 1, 700)];
        let h = handoffs(&a, &b, 0);
        assert_eq!(h.samples_us, vec![30, 50, 40]);
        assert_eq!((h.reacquired, h.overlaps), (0, 0));
        // With one warm-up cycle, only handoffs into cycle 1 or later count.
        assert_eq!(handoffs(&a, &b, 1).samples_us, vec![50, 40]);
    }

    #[test]
    fn reacquisitions_and_overlaps_are_counted_not_timed() {
        use Kind::{Acquired as A, Released as R};
        let a = [ev(A, 0, 100), ev(R, 0, 200), ev(A, 1, 210), ev(R, 1, 300)];
        let b = [ev(A, 0, 250), ev(R, 0, 400)];
        let h = handoffs(&a, &b, 0);
        assert!(h.samples_us.is_empty(), "{h:?}");
        assert_eq!((h.reacquired, h.overlaps), (1, 1));
    }
}
