//! What every client process runs, whatever its library: the node layout, the
//! three operations, the phases and the line each timed phase reports.
//!
//! The Java peer (`bench/java/ZkBench.java`) follows the same layout and prints the
//! same lines, so the driver can compare them.

use std::fmt;
use std::str::FromStr;

/// Size of every node's data, in bytes.
pub(crate) const DATA_LEN: usize = 100;
/// How many nodes getData and setData cycle through.
pub(crate) const NODES: usize = 1000;

/// One measured operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Op {
    /// getData of an existing node.
    Get,
    /// setData of an existing node, any version.
    Set,
    /// create of a new persistent node (create2, open ACL).
    Create,
}

impl Op {
    /// Every operation, in the order phases run and the report lists them.
    pub(crate) const ALL: [Op; 3] = [Op::Get, Op::Set, Op::Create];

    /// The name used on the command line and in result lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Create => "create",
        }
    }

    /// The name shown in the report.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Op::Get => "getData",
            Op::Set => "setData",
            Op::Create => "create",
        }
    }
}

impl FromStr for Op {
    type Err = String;

    fn from_str(s: &str) -> Result<Op, String> {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| format!("unknown op {s:?}"))
    }
}

/// The paths one client process works on, all under its own root.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The client's root node, e.g. `/bench-zk-core`.
    pub root: String,
    /// Parent of the [`NODES`] nodes read and written.
    pub nodes_parent: String,
    /// Parent of the nodes created (and deleted again after each phase).
    pub create_parent: String,
    /// The [`NODES`] existing nodes.
    pub nodes: Vec<String>,
}

impl Layout {
    /// The layout under `root`.
    pub(crate) fn new(root: &str) -> Layout {
        let nodes_parent = format!("{root}/n");
        let nodes = (0..NODES)
            .map(|i| format!("{nodes_parent}/k-{i:04}"))
            .collect();
        Layout {
            root: root.to_string(),
            create_parent: format!("{root}/c"),
            nodes_parent,
            nodes,
        }
    }

    /// The paths one phase of `count` operations uses: the existing nodes in turn
    /// for reads and writes, new unique names (tagged by `phase`) for creates.
    /// Built before the phase starts, so the timed loop formats nothing.
    pub(crate) fn phase_paths(&self, op: Op, phase: &str, count: usize) -> Vec<String> {
        match op {
            Op::Get | Op::Set => (0..count).map(|i| self.nodes[i % NODES].clone()).collect(),
            Op::Create => (0..count)
                .map(|i| format!("{}/{phase}-{i}", self.create_parent))
                .collect(),
        }
    }
}

/// The data written by setData and create.
pub(crate) fn payload() -> Vec<u8> {
    (0..DATA_LEN).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The figures of one timed phase, as one client process reports them on a line of
/// its standard output: `RESULT impl=.. op=.. depth=.. ops=.. wall_ns=.. cpu_ns=..
/// p50_ns=.. p99_ns=..` (`-` for latencies not measured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Measurement {
    /// The client library: `zk-core`, `zookeeper-client` or `java`.
    pub client: String,
    /// The operation.
    pub op: Op,
    /// Requests in flight.
    pub depth: usize,
    /// Operations completed.
    pub ops: u64,
    /// Wall time of the phase.
    pub wall_ns: u64,
    /// CPU time (user and system) the client process spent in the phase.
    pub cpu_ns: u64,
    /// Median latency, measured at depth 1 only.
    pub p50_ns: Option<u64>,
    /// 99th percentile latency, measured at depth 1 only.
    pub p99_ns: Option<u64>,
}

impl Measurement {
    /// Operations per second.
    pub(crate) fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / (self.wall_ns.max(1) as f64 / 1e9)
    }

    /// Client CPU microseconds per operation.
    pub(crate) fn cpu_us_per_op(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.ops.max(1) as f64
    }

    /// Parses a result line; `None` for any other line.
    pub(crate) fn parse(line: &str) -> Option<Result<Measurement, String>> {
        let rest = line.trim().strip_prefix("RESULT ")?;
        Some(parse_fields(rest))
    }
}

fn parse_fields(rest: &str) -> Result<Measurement, String> {
    let mut client = None;
    let mut op = None;
    let mut depth = None;
    let mut ops = None;
    let mut wall = None;
    let mut cpu = None;
    let mut p50 = None;
    let mut p99 = None;
    for field in rest.split_whitespace() {
        let (k, v) = field
            .split_once('=')
            .ok_or_else(|| format!("field without '=': {field:?}"))?;
        let num = || v.parse::<u64>().map_err(|e| format!("{k}={v}: {e}"));
        let opt =
            || -> Result<Option<u64>, String> { if v == "-" { Ok(None) } else { num().map(Some) } };
        match k {
            "impl" => client = Some(v.to_string()),
            "op" => op = Some(v.parse::<Op>()?),
            "depth" => depth = Some(num()? as usize),
            "ops" => ops = Some(num()?),
            "wall_ns" => wall = Some(num()?),
            "cpu_ns" => cpu = Some(num()?),
            "p50_ns" => p50 = Some(opt()?),
            "p99_ns" => p99 = Some(opt()?),
            _ => return Err(format!("unknown field {k:?}")),
        }
    }
    let missing = |name: &str| format!("result line lacks {name}");
    Ok(Measurement {
        client: client.ok_or_else(|| missing("impl"))?,
        op: op.ok_or_else(|| missing("op"))?,
        depth: depth.ok_or_else(|| missing("depth"))?,
        ops: ops.ok_or_else(|| missing("ops"))?,
        wall_ns: wall.ok_or_else(|| missing("wall_ns"))?,
        cpu_ns: cpu.ok_or_else(|| missing("cpu_ns"))?,
        p50_ns: p50.unwrap_or(None),
        p99_ns: p99.unwrap_or(None),
    })
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "RESULT impl={} op={} depth={} ops={} wall_ns={} cpu_ns={} p50_ns={} p99_ns={}",
            self.client,
            self.op.name(),
            self.depth,
            self.ops,
            self.wall_ns,
            self.cpu_ns,
            opt(self.p50_ns),
            opt(self.p99_ns)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_line_reads_back_as_written() {
        let m = Measurement {
            client: "zk-core".into(),
            op: Op::Create,
            depth: 1,
            ops: 5000,
            wall_ns: 1_000_000_000,
            cpu_ns: 250_000_000,
            p50_ns: Some(80_000),
            p99_ns: None,
        };
        let back = Measurement::parse(&m.to_string()).unwrap().unwrap();
        assert_eq!(back, m);
        assert_eq!(back.ops_per_sec(), 5000.0);
        assert_eq!(back.cpu_us_per_op(), 50.0);
    }

    #[test]
    fn other_lines_are_not_results_and_bad_fields_are_errors() {
        assert!(Measurement::parse("connected").is_none());
        assert!(
            Measurement::parse("RESULT impl=x op=get depth=1")
                .unwrap()
                .is_err()
        );
        assert!(Measurement::parse("RESULT op=fly").unwrap().is_err());
    }

    #[test]
    fn create_paths_are_unique_and_reads_cycle_through_the_nodes() {
        let l = Layout::new("/b");
        let c = l.phase_paths(Op::Create, "t", 3);
        assert_eq!(c, vec!["/b/c/t-0", "/b/c/t-1", "/b/c/t-2"]);
        let g = l.phase_paths(Op::Get, "t", NODES + 1);
        assert_eq!(g[0], "/b/n/k-0000");
        assert_eq!(g[NODES], g[0]);
        assert_eq!(payload().len(), DATA_LEN);
    }
}
