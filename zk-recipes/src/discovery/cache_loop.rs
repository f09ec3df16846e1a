//! The background task of a [`ServiceCache`](super::ServiceCache).
//!
//! It sets a persistent recursive watch on `basePath/name` first and reads the children
//! after, so no change can slip between the read and the watch. Then each event costs
//! one `getData` of the child it names. When the session ends the watch stream ends
//! too; after a reconnection events may have been missed. Either way the task sets the
//! watch again and reloads the whole list. Failures back off (100 ms doubling to 10 s),
//! and a reconnection ends the wait early.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use tracing::{debug, warn};
use zk_core::framework::WatchStream;
use zk_core::proto::path::{join, node_name, parent};
use zk_core::{AddWatchMode, Code, ConnectionStates, CreateMode, Error, EventType, WatchedEvent};

use super::service_cache::{CacheInner, ServiceCacheEvent};
use super::{Payload, ServiceInstance};
use crate::nodes::backoff;

/// Node name to instance.
type Known<T> = BTreeMap<String, Arc<ServiceInstance<T>>>;

/// Runs until the cache is closed (the task is aborted) or the client closes.
pub(crate) async fn run<T: Payload>(inner: Arc<CacheInner<T>>, mut states: ConnectionStates) {
    let mut known: Known<T> = BTreeMap::new();
    let mut failures: u32 = 0;
    let mut container_made = false;
    loop {
        let stream = match establish(&inner, &mut known, &mut container_made).await {
            Ok(stream) => {
                failures = 0;
                inner.initialized.send_if_modified(|init| {
                    let first = !matches!(init, Some(Ok(())));
                    *init = Some(Ok(()));
                    first
                });
                stream
            }
            Err(e) => {
                inner.initialized.send_if_modified(|init| {
                    let unset = init.is_none();
                    if unset {
                        *init = Some(Err(e.clone()));
                    }
                    unset
                });
                if inner.client.is_closed() {
                    return;
                }
                let pause = backoff(failures);
                failures = failures.saturating_add(1);
                warn!(path = %inner.path, error = %e, retry_in = ?pause, "service cache: could not load");
                let sleep = tokio::time::sleep(pause);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        st = states.next() => match st {
                            None => return,
                            Some(s) => {
                                inner.emit(ServiceCacheEvent::ConnectionStateChanged(s));
                                if s.is_connected() {
                                    break;
                                }
                            }
                        },
                    }
                }
                continue;
            }
        };
        if !follow(&inner, &mut known, &mut states, stream).await {
            return;
        }
    }
}

/// Applies events until the watch must be set again (returns true) or the client
/// closed (false).
async fn follow<T: Payload>(
    inner: &CacheInner<T>,
    known: &mut Known<T>,
    states: &mut ConnectionStates,
    mut stream: WatchStream,
) -> bool {
    loop {
        tokio::select! {
            ev = stream.next() => match ev {
                Some(Ok(ev)) => {
                    if let Err(e) = apply(inner, known, &ev).await {
                        debug!(path = %ev.path, error = %e, "service cache: read failed; reloading");
                        return true;
                    }
                }
                Some(Err(e)) => {
                    debug!(path = %inner.path, error = %e, "service cache: the watch's session ended; reloading");
                    return true;
                }
                None => return true,
            },
            st = states.next() => match st {
                None => return false,
                Some(s) => {
                    inner.emit(ServiceCacheEvent::ConnectionStateChanged(s));
                    if s.is_connected() {
                        debug!(path = %inner.path, state = ?s, "service cache: reloading after reconnection");
                        return true;
                    }
                }
            },
        }
    }
}

/// Sets the watch, then loads the whole list.
async fn establish<T: Payload>(
    inner: &CacheInner<T>,
    known: &mut Known<T>,
    container_made: &mut bool,
) -> Result<WatchStream, Error> {
    if !*container_made {
        match inner
            .client
            .create(&inner.path, b"")
            .mode(CreateMode::Container)
            .create_parent_containers()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some(Code::NodeExists) => {}
            Err(e) => return Err(e),
        }
        *container_made = true;
    }
    let stream = inner
        .client
        .watch(&inner.path, AddWatchMode::PersistentRecursive)
        .await?;
    reload(inner, known).await?;
    Ok(stream)
}

/// Reads every child and replaces the list.
async fn reload<T: Payload>(inner: &CacheInner<T>, known: &mut Known<T>) -> Result<(), Error> {
    let children = match inner.client.get_children(&inner.path).await {
        Ok(c) => c,
        Err(e) if e.code() == Some(Code::NoNode) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut fresh = BTreeMap::new();
    for child in children {
        let path = join(&inner.path, &child);
        if let Some(instance) = read_instance(inner, &path).await? {
            fresh.insert(child, Arc::new(instance));
        }
    }
    let changed = fresh.len() != known.len()
        || fresh
            .iter()
            .zip(known.iter())
            .any(|((k1, v1), (k2, v2))| k1 != k2 || v1 != v2);
    *known = fresh;
    if changed {
        publish(inner, known);
    }
    Ok(())
}

/// Applies one event of the recursive watch.
async fn apply<T: Payload>(
    inner: &CacheInner<T>,
    known: &mut Known<T>,
    ev: &WatchedEvent,
) -> Result<(), Error> {
    if ev.path == inner.path {
        if ev.event_type == EventType::NodeDeleted && !known.is_empty() {
            known.clear();
            publish(inner, known);
        }
        return Ok(());
    }
    if parent(&ev.path) != Some(inner.path.as_str()) {
        return Ok(()); // below an instance node: not ours to read
    }
    let name = node_name(&ev.path).to_string();
    let changed = match ev.event_type {
        EventType::NodeCreated | EventType::NodeDataChanged => {
            match read_instance(inner, &ev.path).await? {
                Some(instance) => match known.get(&name) {
                    Some(old) if **old == instance => false,
                    _ => {
                        known.insert(name, Arc::new(instance));
                        true
                    }
                },
                None => known.remove(&name).is_some(),
            }
        }
        EventType::NodeDeleted => known.remove(&name).is_some(),
        _ => false,
    };
    if changed {
        publish(inner, known);
    }
    Ok(())
}

/// The instance at `path`; `None` if the node is gone or does not hold an instance.
async fn read_instance<T: Payload>(
    inner: &CacheInner<T>,
    path: &str,
) -> Result<Option<ServiceInstance<T>>, Error> {
    match inner.client.get_data(path).await {
        Ok((bytes, _)) => match inner.serializer.deserialize(&bytes) {
            Ok(instance) => Ok(Some(instance)),
            Err(e) => {
                warn!(%path, error = %e, "service cache: leaving out a node that is not a service instance");
                Ok(None)
            }
        },
        Err(e) if e.code() == Some(Code::NoNode) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Publishes the list; after the first load, also tells the listeners.
fn publish<T: Payload>(inner: &CacheInner<T>, known: &Known<T>) {
    inner
        .instances
        .send_replace(Arc::new(known.values().cloned().collect()));
    if matches!(*inner.initialized.borrow(), Some(Ok(()))) {
        inner.emit(ServiceCacheEvent::Changed);
    }
}
