//! The churn runs: one client through many short outages (cut and heal, the same session) or
//! many session expiries (and the new sessions after them), with the process's resources read
//! at the start, every few cycles and at the end. A leak of anything per outage shows as
//! growth here long before it shows in production.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;
use zk_core::{Client, ConnectionState, CreateMode};
use zk_testing::{Proxy, ServerConfig, TestingServer, expire_session};

use crate::clients::{connected_client, wait_for_state};
use crate::error::{SoakError, SoakResult};
use crate::resources::{ResourceBound, Resources};

/// The session timeout of the churned client: long enough that a short cut never expires it.
pub const CHURN_SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// How long one step of a cycle (a state, an operation) may take.
const STEP_DEADLINE: Duration = Duration::from_secs(30);
/// The node every cycle writes, to prove the client works again.
const CHURN_NODE: &str = "/churn";

/// Which outage a churn run repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChurnKind {
    /// The client's proxy is cut and healed: SUSPENDED, then RECONNECTED on the same session.
    Cuts,
    /// The client's session is expired on the server: LOST, then RECONNECTED on a new session.
    Expiries,
}

impl ChurnKind {
    fn name(self) -> &'static str {
        match self {
            ChurnKind::Cuts => "cuts",
            ChurnKind::Expiries => "expiries",
        }
    }
}

/// What a churn run measured.
#[derive(Debug, Clone)]
pub struct ChurnReport {
    /// Which outage was repeated.
    pub kind: ChurnKind,
    /// Cycles run.
    pub cycles: u64,
    /// Wall time of the cycles.
    pub elapsed: Duration,
    /// The readings: `(cycles done, resources)`, from 0 to the end.
    pub samples: Vec<(u64, Resources)>,
    /// The reading the bound is measured from (after the warm-up cycles).
    pub baseline: Resources,
    /// What grew past [`ResourceBound::CHURN`], if anything.
    pub excess: Vec<String>,
}

impl ChurnReport {
    /// The one summary line of the run.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "churn {}: {} cycles in {:.1} s, baseline {}, end {}",
            self.kind.name(),
            self.cycles,
            self.elapsed.as_secs_f64(),
            self.baseline,
            self.samples.last().map_or(self.baseline, |s| s.1),
        );
        if self.excess.is_empty() {
            line.push_str(", within bound");
        } else {
            let _ = write!(line, ", LEAK: {}", self.excess.join("; "));
        }
        line
    }
}

/// Runs `cycles` outages of `kind` against a standalone server, reading resources every
/// `report_every` cycles and writing a line for each reading to `out`. The baseline is the
/// reading after `min(100, cycles / 10)` cycles, once connection buffers and the allocator have
/// warmed up.
pub async fn run_churn(
    kind: ChurnKind,
    cycles: u64,
    report_every: u64,
    out: &mut dyn Write,
) -> SoakResult<ChurnReport> {
    let config = ServerConfig::builder()
        .tick_time(Duration::from_millis(100))
        .session_timeouts(Duration::from_millis(200), Duration::from_secs(60))
        .build()?;
    let server = TestingServer::start_with(config).await?;
    let proxy = Proxy::start(server.addr()).await?;
    let client = connected_client(
        &proxy.connect_string(),
        CHURN_SESSION_TIMEOUT,
        STEP_DEADLINE,
    )
    .await?;
    client
        .create(CHURN_NODE, b"")
        .mode(CreateMode::Persistent)
        .await
        .map_err(|e| SoakError::setup("creating the churn node", e))?;

    let warmup = (cycles / 10).min(100);
    let report_every = report_every.max(1);
    let mut samples = vec![(0, Resources::sample())];
    let mut baseline = samples[0].1;
    report(out, kind, 0, samples[0].1);
    let started = Instant::now();
    for cycle in 1..=cycles {
        match kind {
            ChurnKind::Cuts => cut_and_heal(&client, &proxy).await,
            ChurnKind::Expiries => expire_and_rebuild(&client, &server).await,
        }
        .map_err(|e| SoakError::Stuck(format!("cycle {cycle}: {e}")))?;
        write_cycle(&client, cycle).await?;
        if cycle == warmup || cycle % report_every == 0 || cycle == cycles {
            let now = Resources::sample();
            if cycle == warmup {
                baseline = now;
            }
            if cycle % report_every == 0 || cycle == cycles {
                samples.push((cycle, now));
                report(out, kind, cycle, now);
            }
        }
    }
    let elapsed = started.elapsed();
    let end = samples.last().map_or(baseline, |s| s.1);
    let excess = ResourceBound::CHURN.excess(baseline, end);
    client.close().await;
    Ok(ChurnReport {
        kind,
        cycles,
        elapsed,
        samples,
        baseline,
        excess,
    })
}

fn report(out: &mut dyn Write, kind: ChurnKind, cycle: u64, now: Resources) {
    let _ = writeln!(out, "churn {}: cycle {cycle}: {now}", kind.name());
}

/// One short outage: the connection is cut, the client says SUSPENDED, the link heals and it
/// says RECONNECTED, on the session it had.
async fn cut_and_heal(client: &Client, proxy: &Proxy) -> SoakResult<()> {
    let session = client.session_id();
    let mut states = client.connection_states();
    proxy.cut().await;
    wait_for_state(&mut states, ConnectionState::Suspended, step_deadline()).await?;
    proxy.heal().await?;
    wait_for_state(&mut states, ConnectionState::Reconnected, step_deadline()).await?;
    if client.session_id() != session {
        return Err(SoakError::Stuck(format!(
            "a short cut changed the session from {session:#x} to {:#x}",
            client.session_id()
        )));
    }
    Ok(())
}

/// One expiry: the server ends the session, the client says LOST, builds a new session and
/// says RECONNECTED.
async fn expire_and_rebuild(client: &Client, server: &TestingServer) -> SoakResult<()> {
    let session = client.session();
    let old = session.session_id();
    let mut states = client.connection_states();
    expire_session(&server.connect_string(), old, &session.session_password()).await?;
    wait_for_state(&mut states, ConnectionState::Lost, step_deadline()).await?;
    wait_for_state(&mut states, ConnectionState::Reconnected, step_deadline()).await?;
    if client.session_id() == old {
        return Err(SoakError::Stuck(format!(
            "RECONNECTED after expiry on the expired session {old:#x}"
        )));
    }
    Ok(())
}

/// Proves the client works after a cycle: one write, bounded.
async fn write_cycle(client: &Client, cycle: u64) -> SoakResult<()> {
    match tokio::time::timeout(
        STEP_DEADLINE,
        client.set_data(CHURN_NODE, &cycle.to_be_bytes()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SoakError::Stuck(format!(
            "cycle {cycle}: the write after healing failed: {e}"
        ))),
        Err(_) => Err(SoakError::Stuck(format!(
            "cycle {cycle}: the write after healing took over {STEP_DEADLINE:?}"
        ))),
    }
}

fn step_deadline() -> Instant {
    Instant::now() + STEP_DEADLINE
}
