//! zk-bench: the speed benchmark of zk-core's session (issue 3), side by side with
//! the ZooKeeper Java client 3.8 and the `zookeeper-client` crate, in one run
//! against one server.
//!
//! `zk-bench run ...` is the driver: it starts a ZooKeeper server (zk-testing's,
//! with the settings in [`server`]), runs each client as its own process (so
//! getrusage counts that client alone), and prints the comparison.
//! `zk-bench client --impl zk-core|zookeeper-client ...` is one Rust client
//! process; the Java one is `bench/java/ZkBench.java`. `scripts/bench` builds
//! everything and runs the driver.
//!
//! - [`workload`]: node layout, operations, result lines (shared with Java).
//! - [`runner`]: one measured phase at a given depth.
//! - [`targets`]: the two Rust libraries behind one trait.
//! - [`floor`]: the raw-socket floor no client can go below.
//! - [`client`](mod@client): one client process's phases.
//! - [`server`], [`driver`], [`report`]: the `run` command.
//! - [`cpu`]: CPU time of this process and of the server's.

mod args;
mod client;
mod cpu;
mod driver;
mod floor;
mod report;
mod runner;
mod server;
mod stats;
mod targets;
mod workload;

use std::process::ExitCode;
use std::time::Duration;

use args::Args;
use client::ClientPlan;
use driver::RunPlan;
use server::HeapSize;
use targets::zk_core::ZkCore;
use targets::zookeeper_client::ZookeeperClient;

const USAGE: &str = "usage:
  zk-bench run [--clients zk-core,zookeeper-client,java,floor] [--rounds 3] [--depth 1000]
               [--serial-ops 5000] [--pipelined-ops 20000] [--warmup 1.0]
               [--runtime current|multi] [--java java] [--zk-classpath CP]
               [--java-classes DIR] [--client-timeout-secs 600] [--server-heap 1g]
               [--markdown FILE]
      --java and --zk-classpath run the Java client. The server is zk-testing's:
      $JAVA_HOME/bin/java or java on PATH, jars from $ZK_TESTING_JARS or
      /usr/share/java; --server-heap (like 256m or 1g) is its -Xms and -Xmx.
  zk-bench client --impl zk-core|zookeeper-client|floor --addr HOST:PORT --root PATH
               [--depth 1000] [--serial-ops 5000] [--pipelined-ops 20000] [--warmup 1.0]
               [--runtime current|multi]";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let cmd = argv.next();
    let result = Args::parse(argv).and_then(|args| match cmd.as_deref() {
        Some("run") => run(args),
        Some("client") => client(args),
        _ => Err(USAGE.to_string()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zk-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client_plan(args: &mut Args) -> Result<ClientPlan, String> {
    Ok(ClientPlan {
        addr: String::new(),
        root: String::new(),
        depth: args.get("depth", 1000)?,
        serial_ops: args.get("serial-ops", 5000)?,
        pipelined_ops: args.get("pipelined-ops", 20000)?,
        warmup: args.get("warmup", 1.0)?,
    })
}

fn run(mut args: Args) -> Result<(), String> {
    let clients: String = args.get("clients", "zk-core,zookeeper-client,java,floor".to_string())?;
    let java_classes: String = args.get("java-classes", String::new())?;
    let markdown: String = args.get("markdown", String::new())?;
    let plan = RunPlan {
        client: client_plan(&mut args)?,
        clients: clients.split(',').map(str::to_string).collect(),
        rounds: args.get("rounds", 3)?,
        java: args.get("java", "java".to_string())?,
        zk_classpath: args.get(
            "zk-classpath",
            "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar".to_string(),
        )?,
        java_classes: (!java_classes.is_empty()).then(|| java_classes.into()),
        runtime: args.get("runtime", "current".to_string())?,
        client_timeout: Duration::from_secs(args.get("client-timeout-secs", 600)?),
        server: server::config(args.get("server-heap", HeapSize::from_mb(1024))?)?,
    };
    args.finish()?;
    let results = driver::run(&plan)?;
    let text = driver::print_report(&plan, &results);
    println!("{text}");
    if !markdown.is_empty() {
        std::fs::write(&markdown, &text).map_err(|e| format!("{markdown}: {e}"))?;
    }
    Ok(())
}

fn client(mut args: Args) -> Result<(), String> {
    let which = args.require("impl")?;
    let mut plan = client_plan(&mut args)?;
    plan.addr = args.require("addr")?;
    plan.root = args.require("root")?;
    let runtime: String = args.get("runtime", "current".to_string())?;
    args.finish()?;
    if which == floor::NAME {
        return floor::run(&plan);
    }
    let rt = match runtime.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread(),
        "multi" => tokio::runtime::Builder::new_multi_thread(),
        other => return Err(format!("unknown runtime {other:?}")),
    }
    .enable_all()
    .build()
    .map_err(|e| format!("runtime: {e}"))?;
    // The client runs as a spawned task, not as the runtime's block_on future: that
    // is where application code usually runs, and on a current-thread runtime a
    // block_on future woken by I/O costs an extra poll of the driver per wake-up.
    let run = async move {
        match which.as_str() {
            "zk-core" => client::run::<ZkCore>(&plan).await,
            "zookeeper-client" => client::run::<ZookeeperClient>(&plan).await,
            other => Err(format!("unknown client {other:?}")),
        }
    };
    rt.block_on(async { tokio::spawn(run).await })
        .map_err(|e| format!("client task: {e}"))?
}
