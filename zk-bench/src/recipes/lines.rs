//! What a recipe client process prints, in Rust and in Java alike, and how the
//! driver reads it back: one line per measurement,
//! `RECIPE impl=<name> measure=<measure> n=<children> values=<v>,<v>,...`.
//!
//! `n` is the children of the tree a cache measurement ran on (0 for the others).
//! The values' unit belongs to the measure ([`Measure::unit`]): one value per build,
//! expiry, handoff or batch, in the order they were taken.

use std::fmt;
use std::str::FromStr;

/// What a line measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Measure {
    /// A `PathChildrenCache` with `BUILD_INITIAL_CACHE`: `start()` until it returns
    /// with every child and its data loaded, in ns, one value per build.
    CacheBuild,
    /// The memory a built cache holds per child, with data, in bytes.
    CacheMemoryData,
    /// The same without data (`cacheData` false), in bytes.
    CacheMemoryNoData,
    /// From the server's acknowledgement of a registrant's session expiry to the
    /// observer cache's `CHILD_REMOVED` for its instance, in ns.
    ExpiryRemoved,
    /// From the same instant to the observer's `CHILD_ADDED` for the instance the
    /// registrant registered again on its new session, in ns.
    ExpiryBack,
    /// A leading `LeaderLatch` closed to the next participant leading, in ns.
    LatchHandoff,
    /// `ServiceProvider::get_instance` with round-robin over three instances, in
    /// ns per call, one value per batch of calls.
    GetInstance,
}

impl Measure {
    /// Every measure, in table order.
    pub(crate) const ALL: [Measure; 7] = [
        Measure::CacheBuild,
        Measure::CacheMemoryData,
        Measure::CacheMemoryNoData,
        Measure::ExpiryRemoved,
        Measure::ExpiryBack,
        Measure::LatchHandoff,
        Measure::GetInstance,
    ];

    /// The name in result lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Measure::CacheBuild => "cache-build",
            Measure::CacheMemoryData => "cache-memory-data",
            Measure::CacheMemoryNoData => "cache-memory-nodata",
            Measure::ExpiryRemoved => "expiry-removed",
            Measure::ExpiryBack => "expiry-back",
            Measure::LatchHandoff => "latch-handoff",
            Measure::GetInstance => "get-instance",
        }
    }

    /// The unit of the values.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Measure::CacheMemoryData | Measure::CacheMemoryNoData => "bytes per child",
            Measure::GetInstance => "ns per call",
            _ => "ns",
        }
    }
}

impl FromStr for Measure {
    type Err = String;

    fn from_str(s: &str) -> Result<Measure, String> {
        Measure::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown measure {s:?}"))
    }
}

/// One result line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecipeResult {
    /// The implementation: `zk-recipes` or `curator`.
    pub client: String,
    /// What was measured.
    pub measure: Measure,
    /// The children of the tree (cache measures), else 0.
    pub n: usize,
    /// The values, in [`Measure::unit`].
    pub values: Vec<f64>,
}

impl RecipeResult {
    /// Parses a result line; `None` for any other line.
    pub(crate) fn parse(line: &str) -> Option<Result<RecipeResult, String>> {
        let rest = line.trim().strip_prefix("RECIPE ")?;
        Some(parse_fields(rest))
    }
}

fn parse_fields(rest: &str) -> Result<RecipeResult, String> {
    let (mut client, mut measure, mut n, mut values) = (None, None, None, None);
    for field in rest.split_whitespace() {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| format!("field without '=': {field:?}"))?;
        match k {
            "impl" => client = Some(v.to_string()),
            "measure" => measure = Some(v.parse()?),
            "n" => n = Some(v.parse::<usize>().map_err(|e| format!("n={v}: {e}"))?),
            "values" => {
                let parsed = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<f64>().map_err(|e| format!("value {s:?}: {e}")))
                    .collect::<Result<Vec<f64>, String>>()?;
                if let Some(bad) = parsed.iter().find(|x| !x.is_finite()) {
                    return Err(format!("value {bad} is not finite"));
                }
                values = Some(parsed);
            }
            _ => return Err(format!("unknown field {k:?}")),
        }
    }
    let missing = |name: &str| format!("result line lacks {name}");
    Ok(RecipeResult {
        client: client.ok_or_else(|| missing("impl"))?,
        measure: measure.ok_or_else(|| missing("measure"))?,
        n: n.ok_or_else(|| missing("n"))?,
        values: values.ok_or_else(|| missing("values"))?,
    })
}

impl fmt::Display for RecipeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RECIPE impl={} measure={} n={} values=",
            self.client,
            self.measure.name(),
            self.n
        )?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_other_lines_are_not_results() {
        let r = RecipeResult {
            client: "zk-recipes".into(),
            measure: Measure::CacheBuild,
            n: 10_000,
            values: vec![1.5e8, 2e8],
        };
        let line = r.to_string();
        assert_eq!(
            line,
            "RECIPE impl=zk-recipes measure=cache-build n=10000 values=150000000,200000000"
        );
        assert_eq!(RecipeResult::parse(&line), Some(Ok(r)));
        assert_eq!(RecipeResult::parse("READY"), None);
        // Java prints doubles its own way.
        let java = "RECIPE impl=curator measure=get-instance n=0 values=12.5,1.0E2";
        let parsed = RecipeResult::parse(java).unwrap().unwrap();
        assert_eq!(parsed.values, vec![12.5, 100.0]);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let err = |l: &str| RecipeResult::parse(l).unwrap().unwrap_err();
        assert!(err("RECIPE impl=x measure=nope n=0 values=1").contains("nope"));
        assert!(err("RECIPE impl=x measure=latch-handoff values=1").contains("n"));
        assert!(err("RECIPE impl=x measure=latch-handoff n=0 values=1,zz").contains("zz"));
        assert!(err("RECIPE impl=x measure=latch-handoff n=0 values=NaN").contains("finite"));
    }
}
