//! The `recipes` command: starts one server, makes the cache trees once, then,
//! round after round (the order of the implementations rotating each round), runs
//! every job of [`Job::ALL`] as one process per implementation (the cache jobs once
//! per tree size, the memory job with and without data).

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use zk_core::{Client, CreateMode};
use zk_testing::ServerConfig;

use super::client::{self, Job, MAX_FRAME_LEN, child_data};
use super::lines::RecipeResult;
use crate::process::{collect, spawn};
use crate::server::BenchServer;

/// The Java implementation's name in the report.
pub(crate) const CURATOR: &str = "curator";

/// Where the benchmark's nodes live.
const ROOT: &str = "/bench-recipes";
/// Creates in flight while the trees are made.
const CREATE_WINDOW: usize = 1000;

/// Everything `recipes` needs.
#[derive(Debug, Clone)]
pub(crate) struct RecipeRunPlan {
    /// The implementations, by name: `zk-recipes`, `curator`.
    pub impls: Vec<String>,
    /// Rounds; every process runs once per round.
    pub rounds: usize,
    /// The sizes of the cache trees, in children.
    pub children: Vec<usize>,
    /// Timed cache builds per process.
    pub builds: usize,
    /// Timed expiries per process.
    pub expiries: usize,
    /// Timed latch handoffs per process.
    pub handoffs: usize,
    /// Untimed handoffs before them.
    pub handoff_warmup: usize,
    /// Timed batches of `get_instance` calls per process.
    pub batches: usize,
    /// Calls per batch.
    pub calls: usize,
    /// The bound on each client process's loops.
    pub time_limit: Duration,
    /// The longest a client process may run before it is killed.
    pub client_timeout: Duration,
    /// The java binary for Curator's processes.
    pub java: String,
    /// Curator's class path.
    pub curator_classpath: String,
    /// Directory holding the compiled `CuratorRecipeBench.class`.
    pub java_classes: Option<std::path::PathBuf>,
    /// The server's settings.
    pub server: ServerConfig,
}

/// One process to run: a job and its parameters.
#[derive(Debug, Clone, Copy)]
struct Step {
    job: Job,
    children: usize,
    data: bool,
}

impl Step {
    fn describe(&self) -> String {
        match self.job {
            Job::CacheBuild => format!("cache-build over {}", self.children),
            Job::CacheMemory => format!(
                "cache-memory over {} {} data",
                self.children,
                if self.data { "with" } else { "without" }
            ),
            other => other.name().to_string(),
        }
    }
}

/// Every process of one round, in order, before the implementations rotate.
fn steps(children: &[usize]) -> Vec<Step> {
    let mut steps = Vec::new();
    for job in Job::ALL {
        match job {
            Job::CacheBuild => steps.extend(children.iter().map(|&n| Step {
                job,
                children: n,
                data: true,
            })),
            Job::CacheMemory => {
                for &n in children {
                    for data in [true, false] {
                        steps.push(Step {
                            job,
                            children: n,
                            data,
                        });
                    }
                }
            }
            _ => steps.push(Step {
                job,
                children: 0,
                data: true,
            }),
        }
    }
    steps
}

/// The path of the tree of `n` children.
pub(crate) fn tree(n: usize) -> String {
    format!("{ROOT}/tree-{n}")
}

/// Makes the tree of `n` children of 100 bytes (once, before the rounds).
pub(crate) async fn make_tree(client: &Client, n: usize) -> Result<(), String> {
    let base = tree(n);
    client
        .create(&base, b"")
        .mode(CreateMode::Persistent)
        .create_parents()
        .await
        .map_err(|e| format!("{base}: {e}"))?;
    let data = child_data();
    let mut creates = futures::stream::iter(0..n)
        .map(|i| {
            let path = format!("{base}/c-{i:06}");
            let data = data.clone();
            async move { client.create(&path, &data).await }
        })
        .buffer_unordered(CREATE_WINDOW);
    while let Some(created) = creates.next().await {
        created.map_err(|e| format!("making {base}: {e}"))?;
    }
    Ok(())
}

/// Runs the benchmark and returns every process's results, in the order they ran.
pub(crate) fn run(plan: &RecipeRunPlan) -> Result<Vec<RecipeResult>, String> {
    let server = BenchServer::start_announced(plan.server.clone())?;
    let addr = server.addr();
    let rt = crate::runtime::current_thread()?;
    rt.block_on(async {
        let client = Client::builder()
            .connect_string(addr.clone())
            .max_frame_len(MAX_FRAME_LEN)
            .build()
            .map_err(|e| format!("client: {e}"))?;
        for &n in &plan.children {
            let started = Instant::now();
            make_tree(&client, n).await?;
            eprintln!("made {} in {:.1?}", tree(n), started.elapsed());
        }
        client.close().await;
        Ok::<(), String>(())
    })?;

    let steps = steps(&plan.children);
    let mut out = Vec::new();
    let n = plan.impls.len();
    for round in 0..plan.rounds {
        for step in &steps {
            for k in 0..n {
                let name = &plan.impls[(round + k) % n];
                let path = match step.job {
                    Job::CacheBuild | Job::CacheMemory => tree(step.children),
                    other => format!("{ROOT}/{name}-{round}-{}", other.name()),
                };
                let started = Instant::now();
                let results = run_one(plan, name, &addr, &path, *step)?;
                for r in &results {
                    eprintln!(
                        "round {}/{} {name} {}: {} {} in {:.1?}: {}",
                        round + 1,
                        plan.rounds,
                        step.describe(),
                        r.values.len(),
                        r.measure.name(),
                        started.elapsed(),
                        brief(&r.values),
                    );
                }
                out.extend(results);
            }
        }
    }
    Ok(out)
}

/// The first few values, readably.
fn brief(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().take(5).map(|v| format!("{v:.0}")).collect();
    let more = if values.len() > 5 { ", ..." } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

/// The command line of one recipe client process of `name`.
fn command(
    plan: &RecipeRunPlan,
    name: &str,
    addr: &str,
    path: &str,
    step: Step,
) -> Result<Command, String> {
    let mut cmd = match name {
        client::NAME => {
            let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
            let mut c = Command::new(exe);
            c.arg("recipe-client").args(["--impl", name]);
            c
        }
        CURATOR => {
            let classes = plan
                .java_classes
                .as_ref()
                .ok_or("curator needs --java-classes")?;
            let mut c = Command::new(&plan.java);
            c.arg(format!("-Djute.maxbuffer={MAX_FRAME_LEN}"))
                .arg("-cp")
                .arg(format!("{}:{}", classes.display(), plan.curator_classpath))
                .arg("CuratorRecipeBench");
            c
        }
        other => return Err(format!("unknown implementation {other:?}")),
    };
    cmd.args(["--addr", addr])
        .args(["--path", path])
        .args(["--job", step.job.name()])
        .args(["--children", &step.children.to_string()])
        .args(["--data", &step.data.to_string()])
        .args(["--builds", &plan.builds.to_string()])
        .args([
            "--cycles",
            &match step.job {
                Job::Latch => plan.handoffs,
                _ => plan.expiries,
            }
            .to_string(),
        ])
        .args(["--warmup", &plan.handoff_warmup.to_string()])
        .args(["--batches", &plan.batches.to_string()])
        .args(["--calls", &plan.calls.to_string()])
        .args(["--time-limit-secs", &plan.time_limit.as_secs().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Ok(cmd)
}

/// Runs one process and returns its results (echoing its other lines).
fn run_one(
    plan: &RecipeRunPlan,
    name: &str,
    addr: &str,
    path: &str,
    step: Step,
) -> Result<Vec<RecipeResult>, String> {
    let (tx, rx) = mpsc::channel();
    let cmd = command(plan, name, addr, path, step)?;
    let mut procs = [spawn(cmd, name, 0, tx)?];
    let deadline = Instant::now() + plan.client_timeout;
    let lines = collect(&mut procs, &rx, deadline, |_, _, line| {
        if RecipeResult::parse(line).is_none() {
            eprintln!("  | {line}");
        }
        Ok(())
    })?;
    let results = lines[0]
        .iter()
        .filter_map(|l| RecipeResult::parse(l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{name}: bad result line: {e}"))?;
    if results.is_empty() {
        return Err(format!("{name} {} printed no RECIPE line", step.describe()));
    }
    if let Some(r) = results.iter().find(|r| r.client != name) {
        return Err(format!("{name}'s process reported as {}", r.client));
    }
    Ok(results)
}
