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
//! - [`locks`]: the lock benchmark (issue 11), `zk-bench locks` and
//!   `zk-bench lock-client`, beside Curator's `InterProcessMutex`.
//! - [`recipes`]: the recipe benchmark (issue 12), `zk-bench recipes` and
//!   `zk-bench recipe-client`, beside Curator's caches, discovery and latch.
//! - [`process`]: the client processes of the recipe benchmarks.
//! - [`runtime`](mod@runtime): the runtime and the Curator-like client every command builds.
//! - [`reads`]: `zk-bench reads`, pipelined `getData` against `multiRead` batches.

mod args;
mod client;
mod cpu;
mod driver;
mod floor;
mod locks;
mod process;
mod reads;
mod recipes;
mod report;
mod runner;
mod runtime;
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
               [--tls false] [--netty false] [--markdown FILE]
      --tls true serves the clients on the server's TLS port (a CA made for the run,
      no client certificates) and runs every client but the floor by default; zk-bench
      must be built with its `tls` feature (scripts/bench does). A TLS server serves
      through Netty (NettyServerCnxnFactory); --netty true serves plain TCP through
      Netty too, to compare with it (the default is ZooKeeper's NIO factory).
      --java and --zk-classpath run the Java client. The server is zk-testing's:
      $JAVA_HOME/bin/java or java on PATH, jars from $ZK_TESTING_JARS or
      /usr/share/java; --server-heap (like 256m or 1g) is its -Xms and -Xmx.
  zk-bench client --impl zk-core|zookeeper-client|floor --addr HOST:PORT --root PATH
               [--tls-ca PEM-FILE] [--depth 1000] [--serial-ops 5000] [--pipelined-ops 20000] [--warmup 1.0]
               [--runtime current|multi]
  zk-bench locks [--impls zk-recipes,curator] [--rounds 3] [--cycles 2000] [--warmup 500]
               [--handoffs 1000] [--handoff-warmup 100] [--hold-ms 2]
               [--time-limit-secs 120] [--client-timeout-secs 300] [--java java]
               [--curator-classpath CP] [--java-classes DIR] [--server-heap 1g]
               [--markdown FILE]
      Uncontended acquire+release and contended handoff latency of zk-recipes'
      InterProcessMutex and Curator's (bench/java/CuratorLockBench.java, compiled
      into --java-classes; --curator-classpath defaults to Debian's jars).
  zk-bench lock-client --impl zk-recipes --addr HOST:PORT --path PATH
               --mode uncontended|contended [--cycles 2000] [--warmup 500]
               [--hold-ms 2] [--time-limit-secs 120]
  zk-bench recipes [--impls zk-recipes,curator] [--rounds 3] [--children 10000,100000]
               [--builds 5] [--expiries 5] [--handoffs 50] [--handoff-warmup 10]
               [--batches 5] [--calls 1000000] [--time-limit-secs 300]
               [--client-timeout-secs 600] [--java java] [--curator-classpath CP]
               [--java-classes DIR] [--server-heap 1g] [--markdown FILE]
      Cache initial build and memory per child, expiry to removal and back, latch
      handoff and get_instance of zk-recipes and Curator 5.4
      (bench/java/CuratorRecipeBench.java, compiled into --java-classes).
  zk-bench recipe-client --impl zk-recipes --addr HOST:PORT --path PATH
               --job cache-build|cache-memory|expiry|latch|get-instance [--children N]
               [--data true] [--builds 5] [--cycles 5] [--warmup 10] [--batches 5]
               [--calls 1000000] [--time-limit-secs 300]
  zk-bench reads [--children 10000] [--rounds 5] [--window 1000] [--batches 100,1000]
               [--batch-window 8] [--server-heap 1g] [--markdown FILE]
      Reads every child of a node with pipelined getData and with multiRead batches
      of each size given; wall time, server and client CPU per node.";

/// Debian's jars that run Curator's recipes, quietly.
const CURATOR_CLASSPATH: &str = "/usr/share/java/curator-recipes.jar:\
/usr/share/java/curator-framework.jar:/usr/share/java/curator-client.jar:\
/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/guava.jar:\
/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar";

/// Debian's jars that run Curator's discovery too (its JSON through Jackson).
const CURATOR_DISCOVERY_CLASSPATH: &str = "/usr/share/java/curator-x-discovery.jar:\
/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:\
/usr/share/java/jackson-annotations.jar";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let cmd = argv.next();
    let result = Args::parse(argv).and_then(|args| match cmd.as_deref() {
        Some("run") => run(args),
        Some("client") => client(args),
        Some("locks") => lock_run(args),
        Some("lock-client") => lock_client(args),
        Some("recipes") => recipe_run(args),
        Some("recipe-client") => recipe_client(args),
        Some("reads") => reads_run(args),
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
        tls_ca: None,
    })
}

fn run(mut args: Args) -> Result<(), String> {
    let tls: bool = args.get("tls", false)?;
    let default_clients = if tls {
        "zk-core,zookeeper-client,java"
    } else {
        "zk-core,zookeeper-client,java,floor"
    };
    let clients: String = args.get("clients", default_clients.to_string())?;
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
        server: {
            let heap = args.get("server-heap", HeapSize::from_mb(1024))?;
            if tls {
                server::tls_config(heap)?
            } else if args.get("netty", false)? {
                server::netty_config(heap)?
            } else {
                server::config(heap)?
            }
        },
        tls,
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
    let tls_ca: String = args.get("tls-ca", String::new())?;
    plan.tls_ca = (!tls_ca.is_empty()).then_some(tls_ca);
    let runtime: String = args.get("runtime", "current".to_string())?;
    args.finish()?;
    if which == floor::NAME {
        if plan.tls_ca.is_some() {
            return Err("the floor speaks plain TCP only".into());
        }
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

fn lock_run(mut args: Args) -> Result<(), String> {
    let impls: String = args.get("impls", "zk-recipes,curator".to_string())?;
    let java_classes: String = args.get("java-classes", String::new())?;
    let markdown: String = args.get("markdown", String::new())?;
    let plan = locks::driver::LockRunPlan {
        impls: impls.split(',').map(str::to_string).collect(),
        rounds: args.get("rounds", 3)?,
        cycles: args.get("cycles", 2000)?,
        warmup: args.get("warmup", 500)?,
        handoffs: args.get("handoffs", 1000)?,
        handoff_warmup: args.get("handoff-warmup", 100)?,
        hold: Duration::from_millis(args.get("hold-ms", 2)?),
        time_limit: Duration::from_secs(args.get("time-limit-secs", 120)?),
        client_timeout: Duration::from_secs(args.get("client-timeout-secs", 300)?),
        java: args.get("java", "java".to_string())?,
        curator_classpath: args.get("curator-classpath", CURATOR_CLASSPATH.to_string())?,
        java_classes: (!java_classes.is_empty()).then(|| java_classes.into()),
        server: server::config(args.get("server-heap", HeapSize::from_mb(1024))?)?,
    };
    args.finish()?;
    let rounds = locks::driver::run(&plan)?;
    let text = format!(
        "{} rounds (median of each round's percentile shown); uncontended: {} timed \
         acquire+release cycles after {} untimed; contended: two processes, {} timed \
         handoffs wanted after {} untimed acquisitions each, holding {} ms\n\n{}",
        plan.rounds,
        plan.cycles,
        plan.warmup,
        plan.handoffs,
        plan.handoff_warmup,
        plan.hold.as_millis(),
        locks::report::markdown(&rounds, &plan.impls),
    );
    println!("{text}");
    if !markdown.is_empty() {
        std::fs::write(&markdown, &text).map_err(|e| format!("{markdown}: {e}"))?;
    }
    Ok(())
}

fn lock_client(mut args: Args) -> Result<(), String> {
    let which = args.require("impl")?;
    if which != locks::client::NAME {
        return Err(format!(
            "unknown lock implementation {which:?} (the Java one is CuratorLockBench)"
        ));
    }
    let plan = locks::client::LockPlan {
        addr: args.require("addr")?,
        path: args.require("path")?,
        mode: args.require("mode")?.parse()?,
        cycles: args.get("cycles", 2000)?,
        warmup: args.get("warmup", 500)?,
        hold: Duration::from_millis(args.get("hold-ms", 2)?),
        time_limit: Duration::from_secs(args.get("time-limit-secs", 120)?),
    };
    args.finish()?;
    let rt = crate::runtime::current_thread()?;
    // As in `client`: the work runs as a spawned task.
    rt.block_on(async { tokio::spawn(async move { locks::client::run(&plan).await }).await })
        .map_err(|e| format!("lock client task: {e}"))?
}

fn recipe_run(mut args: Args) -> Result<(), String> {
    let impls: String = args.get("impls", "zk-recipes,curator".to_string())?;
    let children: String = args.get("children", "10000,100000".to_string())?;
    let java_classes: String = args.get("java-classes", String::new())?;
    let markdown: String = args.get("markdown", String::new())?;
    let heap = args.get("server-heap", HeapSize::from_mb(1024))?;
    let plan = recipes::driver::RecipeRunPlan {
        impls: impls.split(',').map(str::to_string).collect(),
        rounds: args.get("rounds", 3)?,
        children: children
            .split(',')
            .map(|n| n.parse().map_err(|e| format!("--children {n}: {e}")))
            .collect::<Result<_, String>>()?,
        builds: args.get("builds", 5)?,
        expiries: args.get("expiries", 5)?,
        handoffs: args.get("handoffs", 50)?,
        handoff_warmup: args.get("handoff-warmup", 10)?,
        batches: args.get("batches", 5)?,
        calls: args.get("calls", 1_000_000)?,
        time_limit: Duration::from_secs(args.get("time-limit-secs", 300)?),
        client_timeout: Duration::from_secs(args.get("client-timeout-secs", 600)?),
        java: args.get("java", "java".to_string())?,
        curator_classpath: args.get(
            "curator-classpath",
            format!("{CURATOR_CLASSPATH}:{CURATOR_DISCOVERY_CLASSPATH}"),
        )?,
        java_classes: (!java_classes.is_empty()).then(|| java_classes.into()),
        server: server::recipes_config(heap)?,
    };
    args.finish()?;
    let rounds = recipes::driver::run(&plan)?;
    let text = format!(
        "{} rounds; every value of every round pooled; cache builds: {} per process over \
         trees of {:?} children of 100 bytes; {} expiries, {} handoffs after {} untimed, \
         {} batches of {} calls per process\n\n{}",
        plan.rounds,
        plan.builds,
        plan.children,
        plan.expiries,
        plan.handoffs,
        plan.handoff_warmup,
        plan.batches,
        plan.calls,
        recipes::report::markdown(&rounds, &plan.impls),
    );
    println!("{text}");
    if !markdown.is_empty() {
        std::fs::write(&markdown, &text).map_err(|e| format!("{markdown}: {e}"))?;
    }
    Ok(())
}

fn recipe_client(mut args: Args) -> Result<(), String> {
    let which = args.require("impl")?;
    if which != recipes::client::NAME {
        return Err(format!(
            "unknown recipe implementation {which:?} (the Java one is CuratorRecipeBench)"
        ));
    }
    let plan = recipes::client::RecipePlan {
        addr: args.require("addr")?,
        path: args.require("path")?,
        job: args.require("job")?.parse()?,
        children: args.get("children", 0)?,
        builds: args.get("builds", 5)?,
        data: args.get("data", true)?,
        cycles: args.get("cycles", 5)?,
        warmup: args.get("warmup", 10)?,
        batches: args.get("batches", 5)?,
        calls: args.get("calls", 1_000_000)?,
        time_limit: Duration::from_secs(args.get("time-limit-secs", 300)?),
    };
    args.finish()?;
    let rt = crate::runtime::current_thread()?;
    // As in `client`: the work runs as a spawned task.
    rt.block_on(async { tokio::spawn(async move { recipes::client::run(&plan).await }).await })
        .map_err(|e| format!("recipe client task: {e}"))?
}

fn reads_run(mut args: Args) -> Result<(), String> {
    let batches: String = args.get("batches", "100,1000".to_string())?;
    let markdown: String = args.get("markdown", String::new())?;
    let heap = args.get("server-heap", HeapSize::from_mb(1024))?;
    let plan = reads::ReadsPlan {
        children: args.get("children", 10_000)?,
        rounds: args.get("rounds", 5)?,
        window: args.get("window", 1000)?,
        batches: batches
            .split(',')
            .map(|n| n.parse().map_err(|e| format!("--batches {n}: {e}")))
            .collect::<Result<_, String>>()?,
        batch_window: args.get("batch-window", 8)?,
        server: server::recipes_config(heap)?,
    };
    args.finish()?;
    let text = reads::run(&plan)?;
    println!("{text}");
    if !markdown.is_empty() {
        std::fs::write(&markdown, &text).map_err(|e| format!("{markdown}: {e}"))?;
    }
    Ok(())
}
