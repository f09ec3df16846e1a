//! The `run` command: starts one server, runs every client process against it
//! round after round (the order rotating each round), collects their result lines
//! and prints the comparison.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zk_testing::ServerConfig;

use crate::client::ClientPlan;
use crate::cpu::pid_cpu_ns;
use crate::report;
use crate::server::BenchServer;
use crate::workload::Measurement;

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    /// What each client process runs (its `addr` and `root` are filled in here).
    pub client: ClientPlan,
    /// The clients, by name: `zk-core`, `zookeeper-client`, `java`, `floor`.
    pub clients: Vec<String>,
    /// Rounds; each figure is the median across them.
    pub rounds: usize,
    /// The java binary for the Java client (the server's is zk-testing's choice).
    pub java: String,
    /// Classpath with zookeeper.jar (and an slf4j binding) for the Java client.
    pub zk_classpath: String,
    /// Directory holding the compiled `ZkBench.class`.
    pub java_classes: Option<PathBuf>,
    /// The tokio runtime flavour for the Rust clients: `current` or `multi`.
    pub runtime: String,
    /// The longest one client process may run.
    pub client_timeout: Duration,
    /// The server's settings (see [`crate::server::config`]).
    pub server: ServerConfig,
    /// Whether the clients connect over TLS (to the server's `secureClientPort`).
    pub tls: bool,
}

/// The jars the Java client needs beside zookeeper.jar for TLS, its Netty socket:
/// netty's jars of the installation the server runs from.
fn netty_classpath() -> Result<String, String> {
    let install = zk_testing::Installation::detect().map_err(|e| e.to_string())?;
    let netty: Vec<String> = install
        .classpath()
        .iter()
        .filter(|jar| {
            jar.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("netty-"))
        })
        .map(|jar| jar.display().to_string())
        .collect();
    if netty.is_empty() {
        return Err(
            "no netty jar beside the ZooKeeper server's (scripts/setup installs them)".into(),
        );
    }
    Ok(netty.join(":"))
}

/// Where the clients reach the server, and the CA file they trust over TLS.
struct Endpoint {
    addr: String,
    tls_ca: Option<String>,
}

/// Runs the benchmark and returns every result.
pub(crate) fn run(plan: &RunPlan) -> Result<Vec<Measurement>, String> {
    let server = BenchServer::start(plan.server.clone())?;
    let endpoint = endpoint(&server)?;
    eprintln!(
        "server up at {} (pid {}){}",
        endpoint.addr,
        server.pid(),
        if plan.tls { ", clients over TLS" } else { "" }
    );
    let mut results = Vec::new();
    for round in 0..plan.rounds {
        let n = plan.clients.len();
        for k in 0..n {
            let client = &plan.clients[(round + k) % n];
            let mut cp = plan.client.clone();
            cp.addr = endpoint.addr.clone();
            cp.tls_ca = endpoint.tls_ca.clone();
            cp.root = format!("/bench-{client}-{round}");
            let server_cpu0 = pid_cpu_ns(server.pid());
            let started = Instant::now();
            let ms = run_client(plan, client, &cp)?;
            let server_cpu = pid_cpu_ns(server.pid())
                .zip(server_cpu0)
                .map(|(b, a)| b - a);
            let total_ops: u64 = ms.iter().map(|m| m.ops).sum();
            eprintln!(
                "round {}/{} {client}: {:.1} s, server CPU {} (whole process run)",
                round + 1,
                plan.rounds,
                started.elapsed().as_secs_f64(),
                server_cpu.map_or("?".into(), |c| format!("{:.1} s", c as f64 / 1e9)),
            );
            for m in &ms {
                eprintln!(
                    "  {:<8} depth {:<5} {:>9.0} ops/s {:>7.1} µs CPU/op{}",
                    m.op.title(),
                    m.depth,
                    m.ops_per_sec(),
                    m.cpu_us_per_op(),
                    match (m.p50_ns, m.p99_ns) {
                        (Some(a), Some(b)) => format!(
                            "  p50 {:.0} µs p99 {:.0} µs",
                            a as f64 / 1e3,
                            b as f64 / 1e3
                        ),
                        _ => String::new(),
                    }
                );
            }
            if total_ops == 0 {
                return Err(format!("{client} reported no results"));
            }
            results.extend(ms);
        }
    }
    Ok(results)
}

/// The address the clients use: the TLS port when the server serves TLS, with the
/// server's CA written to a file next to the server's files for the clients to trust.
fn endpoint(server: &BenchServer) -> Result<Endpoint, String> {
    let Some((addr, ca_pem)) = server.tls() else {
        return Ok(Endpoint {
            addr: server.addr(),
            tls_ca: None,
        });
    };
    let file = server.dir().join("bench-ca.pem");
    std::fs::write(&file, ca_pem).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Endpoint {
        addr,
        tls_ca: Some(file.display().to_string()),
    })
}

/// Runs one client process and collects its result lines.
fn run_client(plan: &RunPlan, client: &str, cp: &ClientPlan) -> Result<Vec<Measurement>, String> {
    let mut cmd = match client {
        "zk-core" | "zookeeper-client" | "floor" => {
            let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
            let mut c = Command::new(exe);
            c.arg("client")
                .args(["--impl", client])
                .args(["--runtime", &plan.runtime]);
            if let Some(ca) = &cp.tls_ca {
                c.args(["--tls-ca", ca]);
            }
            c
        }
        "java" => {
            let classes = plan
                .java_classes
                .as_ref()
                .ok_or("the java client needs --java-classes")?;
            let mut c = Command::new(&plan.java);
            let mut classpath = format!("{}:{}", classes.display(), plan.zk_classpath);
            if let Some(ca) = &cp.tls_ca {
                // The Java client's TLS: its Netty socket, trusting the CA's PEM file
                // (ZooKeeper 3.8 reads PEM trust stores), hostname verification on.
                classpath.push(':');
                classpath.push_str(&netty_classpath()?);
                c.arg("-Dzookeeper.client.secure=true")
                    .arg("-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty")
                    .arg(format!("-Dzookeeper.ssl.trustStore.location={ca}"))
                    .arg("-Dzookeeper.ssl.trustStore.type=PEM");
            }
            c.arg("-cp").arg(classpath).arg("ZkBench");
            c
        }
        other => return Err(format!("unknown client {other:?}")),
    };
    cmd.args(["--addr", &cp.addr])
        .args(["--root", &cp.root])
        .args(["--depth", &cp.depth.to_string()])
        .args(["--serial-ops", &cp.serial_ops.to_string()])
        .args(["--pipelined-ops", &cp.pipelined_ops.to_string()])
        .args(["--warmup", &cp.warmup.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| format!("{client}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut results = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            match Measurement::parse(&line) {
                Some(r) => results.push(r),
                None => eprintln!("  | {line}"),
            }
        }
        results
    });
    let deadline = Instant::now() + plan.client_timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{client} did not finish within {:?}",
                    plan.client_timeout
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("{client}: {e}")),
        }
    };
    let lines = reader.join().map_err(|_| "stdout reader panicked")?;
    if !status.success() {
        return Err(format!("{client} failed: {status}"));
    }
    lines
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{client}: bad result line: {e}"))
}

/// Prints the comparison to standard output, headed by the settings.
pub(crate) fn print_report(plan: &RunPlan, results: &[Measurement]) -> String {
    let s = report::summarize(results);
    let mut out = format!(
        "{}{} rounds (median shown); {} ops per phase at 1 in flight, {} at {} in flight; \
         warm-up {}x; Rust runtime: tokio {}\n\n",
        if plan.tls {
            "Over TLS (rustls with ring for zk-core and zookeeper-client, the JDK's TLS \
             through Netty for Java). "
        } else {
            ""
        },
        plan.rounds,
        plan.client.serial_ops,
        plan.client.pipelined_ops,
        plan.client.depth,
        plan.client.warmup,
        if plan.runtime == "multi" {
            "multi-thread"
        } else {
            "current-thread"
        },
    );
    out.push_str(&report::markdown(&s, &plan.clients));
    out
}
