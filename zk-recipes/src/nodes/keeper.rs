//! The background task of a persistent node: make sure the node exists and is ours,
//! then sleep until something says it may not be any more.
//!
//! One task does every check and create in sequence, so two triggers that arrive
//! together (the watch ending with the session, and RECONNECTED on the new one) cause
//! two checks but only one create: the second check finds the node the first made.
//! Every pass starts with `exists`, and a create happens only when that says the node
//! is missing or must be replaced.
//!
//! What wakes the task:
//! - its `exists` watch: NodeDeleted (re-create), NodeDataChanged (re-watch, and adopt
//!   the data when asked to), or the end of the session that held the watch;
//! - RECONNECTED (or the first CONNECTED): check again, as Curator does;
//! - failures: wait (100 ms doubling to 10 s) and try again; a reconnection ends the
//!   wait early. There is no busy loop: every pass either waits on the server or backs off.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, info, warn};
use zk_core::framework::Watcher;
use zk_core::{Code, ConnectionStates, CreateMode, Error, EventType, Result, WatchedEvent};

use super::ownership::{Ownership, Verdict};
use super::shared::Shared;
use crate::plumbing::{backoff, sync_quietly};

/// How many check-and-create rounds one pass may take before it counts as a failure
/// (each round is a reaction to someone else changing the node under us).
const ROUNDS_PER_PASS: u32 = 4;

/// The mode to re-create a node in once its name is fixed: the sequence number is part
/// of the name by then, so the same path is used again (as Curator does).
fn fixed_name_mode(mode: CreateMode) -> CreateMode {
    match mode {
        CreateMode::EphemeralSequential => CreateMode::Ephemeral,
        CreateMode::PersistentSequential => CreateMode::Persistent,
        other => other,
    }
}

/// Runs until shutdown or until the client closes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut states: ConnectionStates,
    mut shutdown: watch::Receiver<bool>,
) {
    let fight_window = shared.client.config().session_timeout().saturating_mul(2);
    let mut ownership = Ownership::new(shared.mode.is_ephemeral(), fight_window);
    let mut failures: u32 = 0;
    // Set when a pass follows a reconnection: it syncs before it looks.
    let mut reconnected = false;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let resync = std::mem::take(&mut reconnected);
        let watcher = match ensure(&shared, &mut ownership, resync).await {
            Ok(w) => {
                failures = 0;
                w
            }
            Err(e) => {
                // A pass that failed has not looked yet: the next one syncs too.
                reconnected = resync;
                shared.note_failure(&e);
                if shared.client.is_closed() {
                    return;
                }
                let pause = backoff::NODE_KEEPER.delay_for(failures);
                failures = failures.saturating_add(1);
                warn!(path = %shared.base_path, error = %e, retry_in = ?pause, "persistent node: could not make the node");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    gone = wait_for_connection(&mut states) => {
                        if gone { return }
                        reconnected = true;
                    },
                    _ = shutdown.changed() => return,
                }
                continue;
            }
        };
        tokio::pin!(watcher);
        loop {
            tokio::select! {
                ev = &mut watcher => {
                    on_watch_event(&shared, ev).await;
                    break;
                }
                st = states.next() => match st {
                    None => return,
                    Some(s) if s.is_connected() => {
                        debug!(path = %shared.base_path, state = ?s, "persistent node: checking after reconnection");
                        reconnected = true;
                        break;
                    }
                    Some(_) => {}
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Waits until the client is connected again; true if the client closed instead.
async fn wait_for_connection(states: &mut ConnectionStates) -> bool {
    loop {
        match states.next().await {
            None => return true,
            Some(s) if s.is_connected() => return false,
            Some(_) => {}
        }
    }
}

/// Reacts to what the watch saw; the caller checks the node again afterwards.
async fn on_watch_event(shared: &Shared, ev: Result<WatchedEvent>) {
    match ev {
        Ok(ev) if ev.event_type == EventType::NodeDeleted => {
            info!(path = %ev.path, "persistent node: the node was deleted; creating it again");
        }
        Ok(ev) if ev.event_type == EventType::NodeDataChanged => {
            if shared.options.on_external_data.is_some() {
                adopt_external_data(shared, &ev.path).await;
            }
        }
        Ok(ev) => debug!(path = %ev.path, event = ?ev.event_type, "persistent node: watch fired"),
        Err(e) => {
            debug!(path = %shared.base_path, error = %e, "persistent node: the session that held the watch ended")
        }
    }
}

/// Takes data another client wrote to our node as our own (discovery's
/// `watch_instances`), and reports it.
async fn adopt_external_data(shared: &Shared, path: &str) {
    if shared.held_path().as_deref() != Some(path) {
        return;
    }
    let _order = shared.writes.lock().await;
    let Ok((bytes, stat)) = shared.client.get_data(path).await else {
        return;
    };
    let (ours, generation) = shared.data_snapshot();
    if bytes == ours {
        shared.mark_written(generation, stat.mzxid);
        return;
    }
    info!(%path, "persistent node: adopting data another client wrote");
    let generation = shared.store_data(bytes.clone());
    shared.mark_written(generation, stat.mzxid);
    if let Some(hook) = &shared.options.on_external_data {
        hook(&bytes);
    }
}

/// One pass: makes sure the node exists and is ours (or that we yield to a rival), and
/// returns the watch that says when to look again.
///
/// After a reconnection (`resync`) the pass starts with a `sync` of the path: the
/// server reconnected to may not yet have applied writes whose replies were lost
/// (our own create, or someone's delete), and what it says decides what we do.
async fn ensure(shared: &Shared, ownership: &mut Ownership, resync: bool) -> Result<Watcher> {
    let client = &shared.client;
    let path = match shared.target() {
        Some(p) => {
            if resync {
                sync_quietly(client, &p).await?;
            }
            p
        }
        None => create_first(shared, ownership).await?,
    };
    for _ in 0..ROUNDS_PER_PASS {
        let (stat, watcher) = client.exists(&path).watched().await?;
        let Some(stat) = stat else {
            shared.set_held(&path, false);
            match create_at(shared, ownership, &path).await {
                Ok(()) => continue,
                Err(e) if e.code() == Some(Code::NodeExists) => continue,
                Err(e) => return Err(e),
            }
        };
        match ownership.judge(&stat, client.session_id(), Instant::now()) {
            Verdict::Ours => {
                ownership.note_ours(&stat);
                shared.set_held(&path, true);
                // A change made before this watch was set has fired no event.
                if shared.options.on_external_data.is_some() && shared.changed_by_others(stat.mzxid)
                {
                    adopt_external_data(shared, &path).await;
                }
                shared.write_pending(&path).await?;
                return Ok(watcher);
            }
            Verdict::Adopt => {
                info!(%path, "persistent node: a node exists at the path; writing our data to it");
                let _order = shared.writes.lock().await;
                let (bytes, generation) = shared.data_snapshot();
                match client.set_data(&path, &bytes).await {
                    Ok(stat) => {
                        shared.mark_written(generation, stat.mzxid);
                        ownership.note_ours(&stat);
                        shared.set_held(&path, true);
                    }
                    Err(e) if e.code() == Some(Code::NoNode) => {}
                    Err(e) => return Err(e),
                }
                // Our write fired the watch just set; set a fresh one.
                continue;
            }
            Verdict::Replace => {
                info!(%path, owner = format!("{:#x}", stat.ephemeral_owner), "persistent node: replacing a node another session owns");
                shared.set_held(&path, false);
                match client.delete(&path).version(stat.version).await {
                    Ok(()) => {}
                    Err(e) if matches!(e.code(), Some(Code::NoNode) | Some(Code::BadVersion)) => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            Verdict::Yield => {
                warn!(%path, owner = format!("{:#x}", stat.ephemeral_owner), "persistent node: another live session keeps creating this node; waiting until it goes away (two owners configured for one path?)");
                shared.set_held(&path, false);
                // Counts as a failed attempt, so whoever waits for the first outcome
                // hears that another session holds the path.
                shared.note_failure(&Error::server(Code::NodeExists, Some(path.clone())));
                return Ok(watcher);
            }
        }
    }
    Err(Error::InvalidArgument(format!(
        "the node at {path} kept changing under us"
    )))
}

/// The first create of a sequential or protected node, whose name the server decides.
async fn create_first(shared: &Shared, ownership: &mut Ownership) -> Result<String> {
    let _order = shared.writes.lock().await;
    let (bytes, generation) = shared.data_snapshot();
    let mut create = shared
        .client
        .create(&shared.base_path, &bytes)
        .mode(shared.mode)
        .create_parent_containers();
    if shared.protection {
        create = create.protected();
    }
    let (path, stat) = create.with_stat().await?;
    shared.mark_written(generation, stat.mzxid);
    ownership.note_ours(&stat);
    shared.set_held(&path, true);
    info!(%path, "persistent node: created");
    Ok(path)
}

/// Creates the node at its fixed path.
async fn create_at(shared: &Shared, ownership: &mut Ownership, path: &str) -> Result<()> {
    let _order = shared.writes.lock().await;
    let (bytes, generation) = shared.data_snapshot();
    let (_, stat) = shared
        .client
        .create(path, &bytes)
        .mode(fixed_name_mode(shared.mode))
        .create_parent_containers()
        .with_stat()
        .await?;
    shared.mark_written(generation, stat.mzxid);
    ownership.note_ours(&stat);
    shared.set_held(path, true);
    info!(%path, czxid = stat.czxid, "persistent node: created");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_modes_keep_their_name_on_re_creation() {
        assert_eq!(
            fixed_name_mode(CreateMode::EphemeralSequential),
            CreateMode::Ephemeral
        );
        assert_eq!(
            fixed_name_mode(CreateMode::PersistentSequential),
            CreateMode::Persistent
        );
        assert_eq!(
            fixed_name_mode(CreateMode::Ephemeral),
            CreateMode::Ephemeral
        );
        assert_eq!(
            fixed_name_mode(CreateMode::Container),
            CreateMode::Container
        );
    }
}
