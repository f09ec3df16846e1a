//! The background task of a [`ServiceCache`](super::ServiceCache).
//!
//! It follows `basePath/name` with a [`PathChildrenCache`] (one-shot watches) and
//! turns its child events into instances. A persistent recursive watch would cost
//! fewer reads, but ZooKeeper 3.8 servers keep a single watch mode per session and
//! path (ZOOKEEPER-4466): a recursive watch set on a path where the same session
//! already holds a child watch silently replaces it, so a `PathChildrenCache` and a
//! `ServiceCache` on one client would stop each other's events. One-shot watches
//! compose with every other recipe on the same client.
//!
//! The first load is retried with a backoff (100 ms doubling to 10 s) until it
//! succeeds; `start()` reports the first failure.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use tracing::warn;
use zk_core::ConnectionState;
use zk_core::path::node_name;

use super::{CacheInner, InstanceList, ServiceCacheEvent};
use crate::cache::{CacheError, ChildData, PathChildrenCache, PathChildrenCacheEvent, StartMode};
use crate::discovery::{Payload, ServiceInstance};
use crate::plumbing::backoff;

/// Node name to instance.
type Known<T> = BTreeMap<String, Arc<ServiceInstance<T>>>;

/// Runs until the cache is closed (the task is aborted) or the client closes.
pub(crate) async fn run<T: Payload>(inner: Arc<CacheInner<T>>) {
    let children = PathChildrenCache::builder(inner.client.clone(), inner.path.clone())
        .cache_data(true)
        .create_parents(true)
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = children.events();
    let mut failures: u32 = 0;
    loop {
        match children.start().await {
            Ok(()) => break,
            Err(CacheError::ZooKeeper(e)) => {
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
                let pause = backoff::NODE_KEEPER.delay_for(failures);
                failures = failures.saturating_add(1);
                warn!(path = %inner.path, error = %e, retry_in = ?pause, "service cache: could not load");
                tokio::time::sleep(pause).await;
            }
            Err(_) => return,
        }
    }
    let mut known: Known<T> = BTreeMap::new();
    for child in children.current_data() {
        put(&inner, &mut known, &child);
    }
    publish(&inner, &known);
    inner.initialized.send_replace(Some(Ok(())));
    while let Some(event) = events.next().await {
        let changed = match event {
            PathChildrenCacheEvent::ChildAdded(c) | PathChildrenCacheEvent::ChildUpdated(c) => {
                put(&inner, &mut known, &c)
            }
            PathChildrenCacheEvent::ChildRemoved(c) => known.remove(node_name(&c.path)).is_some(),
            PathChildrenCacheEvent::ConnectionSuspended => {
                state(&inner, ConnectionState::Suspended)
            }
            PathChildrenCacheEvent::ConnectionReconnected => {
                state(&inner, ConnectionState::Reconnected)
            }
            PathChildrenCacheEvent::ConnectionLost => state(&inner, ConnectionState::Lost),
            PathChildrenCacheEvent::Initialized(_) => false,
        };
        if changed {
            publish(&inner, &known);
        }
    }
}

fn state<T: Payload>(inner: &CacheInner<T>, s: ConnectionState) -> bool {
    inner.emit(ServiceCacheEvent::ConnectionStateChanged(s));
    false
}

/// Records the instance a child holds; a child that does not hold one is left out.
/// Returns whether the list changed.
fn put<T: Payload>(inner: &CacheInner<T>, known: &mut Known<T>, child: &ChildData) -> bool {
    let name = node_name(&child.path).to_string();
    let bytes = child.data.as_deref().unwrap_or_default();
    match inner.serializer.deserialize::<T>(bytes) {
        Ok(instance) => match known.get(&name) {
            Some(old) if **old == instance => false,
            _ => {
                known.insert(name, Arc::new(instance));
                true
            }
        },
        Err(e) => {
            warn!(path = %child.path, error = %e, "service cache: leaving out a node that is not a service instance");
            known.remove(&name).is_some()
        }
    }
}

/// Publishes the list; after the first load, also tells the listeners.
fn publish<T: Payload>(inner: &CacheInner<T>, known: &Known<T>) {
    let list: InstanceList<T> = Arc::new(known.values().cloned().collect());
    // The lock-free copy first: whoever is woken by the watch finds it there too.
    inner.current.store(Arc::clone(&list));
    inner.instances.send_replace(list);
    if matches!(*inner.initialized.borrow(), Some(Ok(()))) {
        inner.emit(ServiceCacheEvent::Changed);
    }
}
