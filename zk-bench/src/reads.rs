//! The `reads` command: reading every child of a large node, once with one
//! `getData` per child pipelined on the session (what the caches do), once with
//! `multiRead` batches of `getData` (ZooKeeper 3.6+), side by side on one server.
//!
//! Issue 12 asks which is faster where no per-child watch is needed (a cache on a
//! persistent recursive watch, discovery's queries): a batch costs one request
//! header and one server round per batch, but the server answers a batch as one
//! reply it must build whole before sending. Each mode runs once per round, in
//! rotating order; the report gives the wall time, the server's CPU time per node
//! read (from /proc) and this process's CPU time per node.

use std::time::Instant;

use futures::StreamExt;
use zk_core::session::Session;
use zk_core::{Client, MultiOp, OpResult};

use crate::cpu::{pid_cpu_ns, process_cpu_ns};
use crate::recipes::client::MAX_FRAME_LEN;
use crate::recipes::driver::{make_tree, tree};
use crate::server::BenchServer;
use crate::stats::median;
use zk_testing::ServerConfig;

/// What one `reads` run does.
#[derive(Debug, Clone)]
pub(crate) struct ReadsPlan {
    /// Children of the node read.
    pub(crate) children: usize,
    /// Rounds; each mode runs once per round.
    pub(crate) rounds: usize,
    /// Pipelined single reads in flight at once.
    pub(crate) window: usize,
    /// The multiRead batch sizes to try.
    pub(crate) batches: Vec<usize>,
    /// multiRead batches in flight at once.
    pub(crate) batch_window: usize,
    /// The server's settings.
    pub(crate) server: ServerConfig,
}

/// One way of reading every child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One `getData` per child, `window` in flight.
    Pipelined { window: usize },
    /// `multiRead` of `batch` `getData` each, `in_flight` batches at once.
    MultiRead { batch: usize, in_flight: usize },
}

impl Mode {
    fn describe(&self) -> String {
        match self {
            Mode::Pipelined { window } => format!("getData pipelined, {window} in flight"),
            Mode::MultiRead { batch, in_flight } => {
                format!("multiRead of {batch}, {in_flight} batches in flight")
            }
        }
    }
}

/// One mode's measurement in one round.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall_ns: f64,
    server_cpu_ns: f64,
    client_cpu_ns: f64,
}

/// Runs the comparison and returns its report, as markdown.
pub(crate) fn run(plan: &ReadsPlan) -> Result<String, String> {
    let server = BenchServer::start_announced(plan.server.clone())?;
    let addr = server.addr();
    let rt = crate::runtime::current_thread()?;
    let mut modes = vec![Mode::Pipelined {
        window: plan.window,
    }];
    modes.extend(plan.batches.iter().map(|&batch| Mode::MultiRead {
        batch,
        in_flight: plan.batch_window,
    }));
    let samples = rt.block_on(async {
        let client = Client::builder()
            .connect_string(addr.clone())
            .max_frame_len(MAX_FRAME_LEN)
            .build()
            .map_err(|e| format!("client: {e}"))?;
        client
            .block_until_connected(std::time::Duration::from_secs(15))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let started = Instant::now();
        make_tree(&client, plan.children).await?;
        eprintln!("made {} in {:.1?}", tree(plan.children), started.elapsed());
        let base = tree(plan.children);
        let names = client
            .get_children(&base)
            .await
            .map_err(|e| format!("listing {base}: {e}"))?;
        let paths: Vec<String> = names.iter().map(|n| format!("{base}/{n}")).collect();
        let session = client.session();
        // One untimed pass of each mode warms the server's JIT and caches.
        for mode in &modes {
            read_all(&session, &paths, *mode).await?;
        }
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); modes.len()];
        for round in 0..plan.rounds {
            for k in 0..modes.len() {
                let i = (round + k) % modes.len();
                let sample = measure(&session, &paths, modes[i], server.pid()).await?;
                eprintln!(
                    "round {}/{} {}: {:.1} ms, server {:.2} µs/node",
                    round + 1,
                    plan.rounds,
                    modes[i].describe(),
                    sample.wall_ns / 1e6,
                    sample.server_cpu_ns / paths.len() as f64 / 1e3,
                );
                samples[i].push(sample);
            }
        }
        client.close().await;
        Ok::<_, String>(samples)
    })?;
    Ok(markdown(plan, &modes, &samples))
}

/// Times one pass of `mode` over `paths`, with the server's and this process's CPU.
async fn measure(
    session: &Session,
    paths: &[String],
    mode: Mode,
    server_pid: u32,
) -> Result<Sample, String> {
    let server_before = pid_cpu_ns(server_pid).ok_or("the server is gone")?;
    let client_before = process_cpu_ns();
    let started = Instant::now();
    read_all(session, paths, mode).await?;
    let wall = started.elapsed();
    let server_after = pid_cpu_ns(server_pid).ok_or("the server is gone")?;
    Ok(Sample {
        wall_ns: wall.as_nanos() as f64,
        server_cpu_ns: server_after.saturating_sub(server_before) as f64,
        client_cpu_ns: process_cpu_ns().saturating_sub(client_before) as f64,
    })
}

/// Reads the data of every node of `paths` in `mode`, and checks that each read
/// answered with the node's 100 bytes.
async fn read_all(session: &Session, paths: &[String], mode: Mode) -> Result<(), String> {
    let mut bytes = 0usize;
    match mode {
        Mode::Pipelined { window } => {
            let mut reads = futures::stream::iter(paths)
                .map(|p| session.get_data(p))
                .buffer_unordered(window.max(1));
            while let Some(read) = reads.next().await {
                let (data, _) = read.map_err(|e| format!("getData: {e}"))?;
                bytes += data.len();
            }
        }
        Mode::MultiRead { batch, in_flight } => {
            let mut reads = futures::stream::iter(paths.chunks(batch.max(1)))
                .map(|chunk| async move {
                    let ops: Vec<MultiOp<'_>> =
                        chunk.iter().map(|p| MultiOp::GetData { path: p }).collect();
                    session.multi_read(&ops).await
                })
                .buffer_unordered(in_flight.max(1));
            while let Some(read) = reads.next().await {
                for result in read.map_err(|e| format!("multiRead: {e}"))? {
                    match result {
                        OpResult::GetData { data, .. } => bytes += data.len(),
                        other => return Err(format!("multiRead answered {other:?}")),
                    }
                }
            }
        }
    }
    let expected = paths.len() * crate::recipes::client::child_data().len();
    if bytes != expected {
        return Err(format!("read {bytes} bytes, {expected} expected"));
    }
    Ok(())
}

/// The report: per mode, medians of the rounds.
fn markdown(plan: &ReadsPlan, modes: &[Mode], samples: &[Vec<Sample>]) -> String {
    let n = plan.children as f64;
    let mut out = format!(
        "{} rounds over {} children of 100 bytes, one client, medians of the rounds\n\n\
         | how | wall time | reads/s | server CPU per node | client CPU per node |\n\
         |---|---:|---:|---:|---:|\n",
        plan.rounds, plan.children
    );
    for (mode, s) in modes.iter().zip(samples) {
        let pick = |f: fn(&Sample) -> f64| median(&s.iter().map(f).collect::<Vec<_>>());
        let (Some(wall), Some(server), Some(client)) = (
            pick(|s| s.wall_ns),
            pick(|s| s.server_cpu_ns),
            pick(|s| s.client_cpu_ns),
        ) else {
            continue;
        };
        out.push_str(&format!(
            "| {} | {:.1} ms | {:.0} | {:.2} µs | {:.2} µs |\n",
            mode.describe(),
            wall / 1e6,
            n / (wall / 1e9),
            server / n / 1e3,
            client / n / 1e3,
        ));
    }
    out
}
