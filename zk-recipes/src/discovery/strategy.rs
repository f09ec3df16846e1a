//! Provider strategies: how a service provider picks one instance from the current list.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rand::Rng;

use super::ServiceInstance;

/// Picks one instance, for a single use, from a list of available instances.
///
/// The list is what a provider holds in memory after filtering; a strategy does no I/O and
/// must not block. Returns `None` only when nothing can be picked (e.g. the list is empty).
/// The trait is object safe: a provider can hold a `Box<dyn ProviderStrategy<T>>`.
pub trait ProviderStrategy<T>: Send + Sync {
    /// Picks an instance from `instances`.
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>>;
}

impl<T, S: ProviderStrategy<T> + ?Sized> ProviderStrategy<T> for Box<S> {
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        (**self).get_instance(instances)
    }
}

impl<T, S: ProviderStrategy<T> + ?Sized> ProviderStrategy<T> for Arc<S> {
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        (**self).get_instance(instances)
    }
}

/// Rotates through the list: the n-th call returns `instances[n % len]`, as Curator's
/// `RoundRobinStrategy` (one shared atomic counter, so concurrent callers spread evenly).
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round robin starting at the first instance.
    pub fn new() -> Self {
        RoundRobin::default()
    }
}

impl<T> ProviderStrategy<T> for RoundRobin {
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        if instances.is_empty() {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        instances.get(index % instances.len()).cloned()
    }
}

/// Picks a uniformly random instance on every call, as Curator's `RandomStrategy`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Random;

impl Random {
    /// The random strategy.
    pub fn new() -> Self {
        Random
    }
}

impl<T> ProviderStrategy<T> for Random {
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        if instances.is_empty() {
            return None;
        }
        let index = rand::rng().random_range(0..instances.len());
        instances.get(index).cloned()
    }
}

/// Keeps returning the same instance while it is still in the list; when it is gone (compared
/// by value, as Curator's `List.contains`), picks a new one with the inner strategy.
/// As Curator's `StickyStrategy`.
///
/// ```
/// use std::sync::Arc;
/// use zk_recipes::{ProviderStrategy, RoundRobin, ServiceInstance, Sticky};
///
/// let a = Arc::new(ServiceInstance::builder().name("s").id("a").build()?);
/// let b = Arc::new(ServiceInstance::builder().name("s").id("b").build()?);
/// let sticky = Sticky::new(RoundRobin::new());
/// let both = [a.clone(), b.clone()];
/// assert_eq!(sticky.get_instance(&both).unwrap().id(), "a");
/// assert_eq!(sticky.get_instance(&both).unwrap().id(), "a");
/// assert_eq!(sticky.get_instance(&[b.clone()]).unwrap().id(), "b");
/// # Ok::<(), zk_recipes::ServiceInstanceError>(())
/// ```
pub struct Sticky<T, S> {
    inner: S,
    current: Mutex<Option<Arc<ServiceInstance<T>>>>,
    picks: AtomicU64,
}

impl<T, S> Sticky<T, S> {
    /// A sticky strategy that picks with `inner` whenever it needs a new instance.
    pub fn new(inner: S) -> Self {
        Sticky {
            inner,
            current: Mutex::new(None),
            picks: AtomicU64::new(0),
        }
    }

    /// How many times a new instance has been picked; it grows when the held instance
    /// leaves the list. (Curator's `getInstanceNumber` is this minus one; unlike Curator, a
    /// call that finds nothing to pick does not count.)
    pub fn pick_count(&self) -> u64 {
        self.picks.load(Ordering::Relaxed)
    }
}

impl<T, S> std::fmt::Debug for Sticky<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sticky")
            .field("pick_count", &self.pick_count())
            .finish_non_exhaustive()
    }
}

impl<T, S> ProviderStrategy<T> for Sticky<T, S>
where
    T: PartialEq + Send + Sync,
    S: ProviderStrategy<T>,
{
    fn get_instance(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        // A poisoned lock only means another caller panicked in the inner strategy; the held
        // value is still a valid choice, so keep using it.
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = current.as_ref() {
            let still_listed = instances
                .iter()
                .any(|candidate| Arc::ptr_eq(candidate, held) || **candidate == **held);
            if still_listed {
                return Some(held.clone());
            }
            *current = None;
        }
        let picked = self.inner.get_instance(instances)?;
        self.picks.fetch_add(1, Ordering::Relaxed);
        *current = Some(picked.clone());
        Some(picked)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn instances(ids: &[&str]) -> Vec<Arc<ServiceInstance>> {
        ids.iter()
            .map(|id| {
                Arc::new(
                    ServiceInstance::builder()
                        .name("svc")
                        .id(*id)
                        .address("h")
                        .registration_time_utc(1)
                        .build()
                        .unwrap(),
                )
            })
            .collect()
    }

    fn ids(picked: impl IntoIterator<Item = Option<Arc<ServiceInstance>>>) -> Vec<String> {
        picked
            .into_iter()
            .map(|i| i.map(|i| i.id().to_owned()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn every_strategy_returns_none_for_an_empty_list() {
        let empty: Vec<Arc<ServiceInstance>> = Vec::new();
        assert!(RoundRobin::new().get_instance(&empty).is_none());
        assert!(Random::new().get_instance(&empty).is_none());
        let sticky = Sticky::new(RoundRobin::new());
        assert!(sticky.get_instance(&empty).is_none());
        assert_eq!(sticky.pick_count(), 0);
    }

    #[test]
    fn round_robin_cycles_in_list_order() {
        let list = instances(&["a", "b", "c"]);
        let rr = RoundRobin::new();
        let picked = ids((0..7).map(|_| rr.get_instance(&list)));
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c", "a"]);
        // The counter is shared across list changes, as Curator's is.
        let shorter = instances(&["x", "y"]);
        assert_eq!(ids([rr.get_instance(&shorter)]), ["y"]); // counter 7 % 2
    }

    #[test]
    fn round_robin_spreads_evenly_across_threads() {
        let list = instances(&["a", "b", "c", "d"]);
        let rr = RoundRobin::new();
        let counts = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..1000)
                            .map(|_| rr.get_instance(&list).unwrap().id().to_owned())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut counts: HashMap<String, usize> = HashMap::new();
            for handle in handles {
                for id in handle.join().unwrap() {
                    *counts.entry(id).or_default() += 1;
                }
            }
            counts
        });
        assert_eq!(counts.len(), 4);
        assert!(counts.values().all(|&n| n == 1000), "{counts:?}");
    }

    #[test]
    fn random_picks_only_listed_instances_and_reaches_all() {
        let list = instances(&["a", "b", "c"]);
        let random = Random::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for _ in 0..600 {
            let id = random.get_instance(&list).unwrap().id().to_owned();
            *seen.entry(id).or_default() += 1;
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
        // Each has probability 1/3; fewer than 100 of 600 is astronomically unlikely.
        assert!(seen.values().all(|&n| n >= 100), "{seen:?}");
        let single = instances(&["only"]);
        assert_eq!(ids([random.get_instance(&single)]), ["only"]);
    }

    #[test]
    fn sticky_holds_its_instance_until_it_leaves_the_list() {
        let list = instances(&["a", "b", "c"]);
        let sticky = Sticky::new(RoundRobin::new());
        assert_eq!(
            ids((0..3).map(|_| sticky.get_instance(&list))),
            ["a", "a", "a"]
        );
        assert_eq!(sticky.pick_count(), 1);
        // Still listed (a fresh but equal Arc counts): kept.
        let reordered = instances(&["c", "a"]);
        assert_eq!(ids([sticky.get_instance(&reordered)]), ["a"]);
        assert_eq!(sticky.pick_count(), 1);
        // Gone: the inner round robin (now at its second call) picks anew, and that sticks.
        let without_a = instances(&["b", "c"]);
        assert_eq!(
            ids((0..3).map(|_| sticky.get_instance(&without_a))),
            ["c", "c", "c"]
        );
        assert_eq!(sticky.pick_count(), 2);
        // An empty list forgets the held instance; the next pick is the round robin's third.
        assert!(sticky.get_instance(&[]).is_none());
        assert_eq!(ids([sticky.get_instance(&list)]), ["c"]);
        assert_eq!(sticky.pick_count(), 3);
    }

    #[test]
    fn sticky_treats_a_changed_instance_as_gone() {
        let list = instances(&["a"]);
        let sticky = Sticky::new(RoundRobin::new());
        sticky.get_instance(&list);
        let changed = vec![Arc::new(list[0].to_builder().port(99).build().unwrap())];
        let picked = sticky.get_instance(&changed).unwrap();
        assert_eq!(picked.port(), Some(99));
        assert_eq!(sticky.pick_count(), 2);
    }

    #[test]
    fn strategies_work_as_trait_objects() {
        let list = instances(&["a", "b"]);
        let boxed: Vec<Box<dyn ProviderStrategy<serde_json::Value>>> = vec![
            Box::new(RoundRobin::new()),
            Box::new(Random::new()),
            Box::new(Sticky::new(
                Box::new(Random::new()) as Box<dyn ProviderStrategy<_>>
            )),
        ];
        for strategy in &boxed {
            assert!(strategy.get_instance(&list).is_some());
        }
        let shared: Arc<dyn ProviderStrategy<serde_json::Value>> = Arc::new(RoundRobin::new());
        assert_eq!(
            ids([shared.get_instance(&list), shared.get_instance(&list)]),
            ["a", "b"]
        );
    }
}
