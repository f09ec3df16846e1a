//! A tiny run of the whole benchmark: one real server, all three clients (the Java
//! one compiled here from bench/java/ZkBench.java) and the raw-socket floor, a few
//! hundred operations. It
//! checks that every client reports every phase and that the report compares them;
//! the figures themselves are not judged here. With zk-bench's `tls` feature, a run
//! over TLS too.

use std::path::Path;
use std::process::Command;

const ZK_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar";

/// Compiles bench/java/ZkBench.java into `tmp`/classes.
fn compile_java_client(tmp: &Path) -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/java/ZkBench.java");
    let classes = tmp.join("classes");
    let javac = Command::new("javac")
        .arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .args(["-cp", ZK_CLASSPATH])
        .arg(&source)
        .status()
        .expect("javac runs (the JDK is needed to build the Java peer)");
    assert!(javac.success(), "ZkBench.java does not compile");
    classes
}

#[test]
fn a_tiny_run_reports_every_client_for_every_phase_with_ratios() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let classes = compile_java_client(tmp.path());
    let markdown = tmp.path().join("report.md");
    let out = Command::new(env!("CARGO_BIN_EXE_zk-bench"))
        .arg("run")
        .args(["--clients", "zk-core,zookeeper-client,java,floor"])
        .args(["--rounds", "1"])
        .args(["--depth", "50"])
        .args(["--serial-ops", "20"])
        .args(["--pipelined-ops", "300"])
        .args(["--warmup", "0.2"])
        .args(["--client-timeout-secs", "120"])
        .args(["--server-heap", "256m"])
        .args(["--zk-classpath", ZK_CLASSPATH])
        .arg("--java-classes")
        .arg(&classes)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("zk-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zk-bench failed:\n{stderr}");

    for op in ["getData", "setData", "create"] {
        for client in ["zk-core", "zookeeper-client", "java", "floor"] {
            for depth in [1, 50] {
                let prefix = format!("| {op} | {depth} | {client} | ");
                let row = stdout
                    .lines()
                    .find(|l| l.starts_with(&prefix))
                    .unwrap_or_else(|| panic!("no row {prefix:?} in:\n{stdout}"));
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                // cells: "", op, depth, client, ops/s, cpu, p50, p99, ""
                let ops: f64 = cells[4].parse().expect("ops/s is a number");
                let cpu: f64 = cells[5].parse().expect("CPU µs/op is a number");
                assert!(ops > 0.0, "{row}");
                // getrusage is precise; the JVM counts CPU in 10 ms ticks, which a
                // phase this short may not reach.
                assert!(cpu > 0.0 || client == "java", "{row}");
                // Latency is measured at depth 1 only.
                let latency_shown =
                    cells[6].parse::<f64>().is_ok() && cells[7].parse::<f64>().is_ok();
                assert_eq!(latency_shown, depth == 1, "{row}");
            }
        }
        for peer in ["java", "zookeeper-client"] {
            for depth in [1, 50] {
                let ratio = format!("| {op} | {depth} | {peer} | ");
                // Once in zk-core's table of ratios and once in the floor's.
                let rows = stdout
                    .lines()
                    .filter(|l| l.starts_with(&ratio) && l.contains("≤"))
                    .count();
                assert_eq!(rows, 2, "ratios {ratio:?} in:\n{stdout}");
            }
        }
    }
    for subject in ["zk-core", "floor"] {
        let head = format!("| operation | in flight | {subject} vs |");
        assert!(stdout.contains(&head), "no {head:?} in:\n{stdout}");
    }
    let written = std::fs::read_to_string(&markdown).expect("markdown written");
    assert_eq!(written.trim(), stdout.trim());
}

/// The same over TLS (zk-bench's `tls` feature): the three clients on the server's TLS
/// port, each reporting every phase. A client that fell back to plain TCP could not
/// connect at all: the port speaks only TLS.
#[cfg(feature = "tls")]
#[test]
fn a_tiny_run_over_tls_reports_every_client_for_every_phase() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let classes = compile_java_client(tmp.path());
    let out = Command::new(env!("CARGO_BIN_EXE_zk-bench"))
        .arg("run")
        .args(["--tls", "true"])
        .args(["--rounds", "1"])
        .args(["--depth", "20"])
        .args(["--serial-ops", "10"])
        .args(["--pipelined-ops", "100"])
        .args(["--warmup", "0.2"])
        .args(["--client-timeout-secs", "120"])
        .args(["--server-heap", "256m"])
        .args(["--zk-classpath", ZK_CLASSPATH])
        .arg("--java-classes")
        .arg(&classes)
        .output()
        .expect("zk-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zk-bench failed:\n{stderr}");
    assert!(stdout.starts_with("Over TLS"), "{stdout}");
    assert!(stderr.contains("clients over TLS"), "{stderr}");
    for op in ["getData", "setData", "create"] {
        for client in ["zk-core", "zookeeper-client", "java"] {
            for depth in [1, 20] {
                let prefix = format!("| {op} | {depth} | {client} | ");
                assert!(
                    stdout.lines().any(|l| l.starts_with(&prefix)),
                    "no row {prefix:?} in:\n{stdout}"
                );
            }
        }
    }
}
