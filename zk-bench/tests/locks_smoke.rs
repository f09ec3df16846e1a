//! A tiny run of the lock benchmark: one real server, zk-recipes' lock client and
//! Curator's (compiled here from bench/java/CuratorLockBench.java), a handful of
//! cycles and handoffs each. It checks that both report both measurements and
//! that the report compares them; the figures themselves are not judged here.

use std::path::Path;
use std::process::Command;

const JARS: [&str; 8] = [
    "curator-recipes.jar",
    "curator-framework.jar",
    "curator-client.jar",
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "guava.jar",
    "slf4j-api.jar",
    "slf4j-nop.jar",
];

#[test]
fn a_tiny_lock_run_reports_both_implementations_with_ratios() {
    let classpath = JARS.map(|j| format!("/usr/share/java/{j}")).join(":");
    let tmp = tempfile::tempdir().expect("temp dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/java/CuratorLockBench.java");
    let classes = tmp.path().join("classes");
    let javac = Command::new("javac")
        .arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .args(["-cp", &classpath])
        .arg(&source)
        .status()
        .expect("javac runs (the JDK and Debian's Curator jars are needed)");
    assert!(javac.success(), "CuratorLockBench.java does not compile");

    let markdown = tmp.path().join("locks.md");
    let out = Command::new(env!("CARGO_BIN_EXE_zk-bench"))
        .arg("locks")
        .args(["--impls", "zk-recipes,curator"])
        .args(["--rounds", "1"])
        .args(["--cycles", "20"])
        .args(["--warmup", "5"])
        .args(["--handoffs", "20"])
        .args(["--handoff-warmup", "2"])
        .args(["--hold-ms", "2"])
        .args(["--time-limit-secs", "30"])
        .args(["--client-timeout-secs", "60"])
        .args(["--server-heap", "256m"])
        .args(["--curator-classpath", &classpath])
        .arg("--java-classes")
        .arg(&classes)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("zk-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zk-bench locks failed:\n{stderr}");

    for measurement in ["uncontended acquire+release", "contended handoff"] {
        for client in ["zk-recipes", "curator"] {
            let prefix = format!("| {measurement} | {client} | ");
            let row = stdout
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no row {prefix:?} in:\n{stdout}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            // cells: "", measurement, client, p50, p99, requests and server CPU per
            // cycle, ""
            let p50: f64 = cells[3].parse().expect("p50 is a number");
            let p99: f64 = cells[4].parse().expect("p99 is a number");
            assert!(p50 > 0.0 && p99 >= p50, "{row}");
            // The server's request count is shown for the uncontended cycles only;
            // an acquire and a release take at least a create and a delete.
            match cells[5].parse::<f64>() {
                Ok(requests) => {
                    assert!(measurement.starts_with("uncontended"), "{row}");
                    assert!(requests >= 2.0, "{row}");
                    // /proc counts in 10 ms ticks, which a run this short may not reach.
                    let cpu: f64 = cells[6].parse().expect("server CPU is a number");
                    assert!(cpu >= 0.0, "{row}");
                }
                Err(_) => {
                    assert!(measurement.starts_with("contended"), "{row}");
                    assert_eq!(cells[6], "–", "{row}");
                }
            }
        }
        // And once in the table of ratios, each cell judged against the goal.
        let ratio = format!("| {measurement} | ");
        let ratios: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with(&ratio) && (l.contains(" met") || l.contains("missed")))
            .collect();
        assert_eq!(ratios.len(), 1, "ratios {ratio:?} in:\n{stdout}");
        let judged = ratios[0].matches(" met").count() + ratios[0].matches("**missed**").count();
        assert_eq!(judged, 2, "{}", ratios[0]);
    }
    assert!(
        stdout.contains("| measurement | p50 ratio zk-recipes/curator (goal ≤ 1) |"),
        "{stdout}"
    );
    // Every round's line names how many handoffs were timed.
    assert_eq!(stderr.matches(" handoffs, ").count(), 2, "{stderr}");
    let written = std::fs::read_to_string(&markdown).expect("markdown written");
    assert_eq!(written.trim(), stdout.trim());
}
