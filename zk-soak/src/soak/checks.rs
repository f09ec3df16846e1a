//! The invariants checked after every fault heals, against what the servers say (read through
//! the checker, a fresh client straight to the ensemble, after a `sync`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;
use zk_core::framework::protection_prefix_of;
use zk_core::{Client, Code};

use super::workload::{SERVICE_NAME, SERVICES, SERVICES_BASE, WRITER, Workload, service_id};
use super::writer::epoch_parent;

/// How long a writer's create may stay unanswered once its epoch ended.
const IN_FLIGHT_DEADLINE: Duration = Duration::from_secs(60);

/// The workload's counters when a fault healed: each must move on before the run counts as
/// converged (no recipe stuck).
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    selector_rounds: u64,
    lock_acquisitions: u64,
    writes: u64,
    watched: u64,
}

impl Progress {
    /// The counters now.
    pub fn now(workload: &Workload) -> Progress {
        use std::sync::atomic::Ordering::Acquire;
        Progress {
            selector_rounds: workload.selector_rounds.load(Acquire),
            lock_acquisitions: workload.lock_acquisitions.load(Acquire),
            writes: workload.writer.acked_total(),
            watched: workload.watcher.created(),
        }
    }
}

/// What does not hold yet (empty: converged). Called again and again until it is empty or
/// the convergence deadline passes; what it returns then is the evidence.
pub async fn unconverged(workload: &Workload, checker: &Client, healed: Progress) -> Vec<String> {
    let mut failures = Vec::new();
    for participant in &workload.participants {
        if !participant.client.is_connected() {
            failures.push(format!(
                "{} not connected (last state {:?})",
                participant.name,
                participant.states.last()
            ));
        }
    }
    if let Err(e) = check_services(workload, checker, &mut failures).await {
        failures.push(format!("checker could not read the services: {e}"));
    }
    let latch_holders = workload.groups[0].holders_now();
    if latch_holders.len() != 1 {
        failures.push(format!(
            "latch: {} leaders ({latch_holders:?}), want exactly one",
            latch_holders.len()
        ));
    }
    let now = Progress::now(workload);
    for (what, before, after) in [
        (
            "selector rounds",
            healed.selector_rounds,
            now.selector_rounds,
        ),
        (
            "lock acquisitions",
            healed.lock_acquisitions,
            now.lock_acquisitions,
        ),
        ("acknowledged writes", healed.writes, now.writes),
        ("creates the watcher heard of", healed.watched, now.watched),
    ] {
        if after <= before {
            failures.push(format!("no {what} since the fault healed (still {after})"));
        }
    }
    failures
}

/// Every instance registered exactly once, owned by its service's current session, and the
/// observer's cache and provider showing the same set.
async fn check_services(
    workload: &Workload,
    checker: &Client,
    failures: &mut Vec<String>,
) -> zk_core::Result<()> {
    let service_path = format!("{SERVICES_BASE}/{SERVICE_NAME}");
    checker.sync(&service_path).await?;
    let on_servers: BTreeSet<String> = checker
        .get_children(&service_path)
        .await?
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = (0..SERVICES).map(service_id).collect();
    if on_servers != expected {
        failures.push(format!(
            "services: the servers list {on_servers:?}, want {expected:?}"
        ));
    }
    let sessions = workload.service_sessions();
    for (i, session) in sessions.iter().enumerate() {
        let path = format!("{service_path}/{}", service_id(i));
        match checker.exists(&path).await? {
            Some(stat) if stat.ephemeral_owner == *session => {}
            Some(stat) => failures.push(format!(
                "services: {path} owned by session {:#x}, but service {i} is on {session:#x}",
                stat.ephemeral_owner
            )),
            None => {}
        }
    }
    let cached: BTreeSet<String> = workload
        .observer
        .1
        .current_data()
        .into_iter()
        .filter_map(|child| child.path.rsplit('/').next().map(str::to_owned))
        .collect();
    if cached != on_servers {
        failures.push(format!(
            "observer cache: {cached:?}, the servers: {on_servers:?}"
        ));
    }
    let provided: BTreeSet<String> = workload
        .observer
        .2
        .get_all_instances()
        .iter()
        .map(|instance| instance.id().to_owned())
        .collect();
    if provided != on_servers {
        failures.push(format!(
            "service provider: {provided:?}, the servers: {on_servers:?}"
        ));
    }
    Ok(())
}

/// Ends the writer's epoch and checks it: every acknowledged create present (ephemeral ones
/// while their session lives), and no logical create written twice (two nodes of one
/// protected create's prefix).
pub async fn check_writes(workload: &Workload, checker: &Client) -> Vec<String> {
    let writer = &workload.writer;
    let epoch = writer.next_epoch();
    let deadline = Instant::now() + IN_FLIGHT_DEADLINE;
    while writer.in_flight(epoch) {
        if Instant::now() > deadline {
            return vec![format!(
                "writer: a create of epoch {epoch} still unanswered after {IN_FLIGHT_DEADLINE:?}"
            )];
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = writer.take_acked(epoch);
    let parent = epoch_parent(epoch);
    let names: BTreeSet<String> = match read_children(checker, &parent).await {
        Ok(names) => names.into_iter().collect(),
        Err(e) => return vec![format!("checker could not read {parent}: {e}")],
    };
    let mut failures = Vec::new();
    let session = workload.participants[WRITER].client.session_id();
    for write in &acked {
        let name = write.path.rsplit('/').next().unwrap_or_default();
        let must_exist = write.owner == 0 || write.owner == session;
        if must_exist && !names.contains(name) {
            failures.push(format!(
                "writer: acknowledged create {} (owner {:#x}) is not on the servers",
                write.path, write.owner
            ));
        }
    }
    let mut by_create: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for name in &names {
        if let Some(prefix) = protection_prefix_of(name) {
            by_create.entry(prefix).or_default().push(name);
        }
    }
    for (prefix, nodes) in by_create {
        if nodes.len() > 1 {
            failures.push(format!(
                "writer: one create ({prefix}) made {} nodes: {nodes:?}",
                nodes.len()
            ));
        }
    }
    failures
}

async fn read_children(checker: &Client, parent: &str) -> zk_core::Result<Vec<String>> {
    checker.sync(parent).await?;
    match checker.get_children(parent).await {
        Err(e) if e.code() == Some(Code::NoNode) => Ok(Vec::new()),
        other => other,
    }
}
