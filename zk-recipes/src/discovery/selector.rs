//! `InstanceSelector`: everything a service provider does with its cached instance list,
//! without the cache: filters, down-instance tracking and the strategy.

use std::sync::Arc;
use std::time::Instant;

use super::{
    DownInstanceManager, DownInstancePolicy, EnabledFilter, InstanceFilter, ProviderStrategy,
    RoundRobin, ServiceInstance,
};

/// Picks instances from a list the caller holds, the way Curator's `ServiceProviderImpl` does.
///
/// The list is filtered first by the user's filters (in the order added), then by the
/// [`DownInstanceManager`], then by [`EnabledFilter`]; the strategy picks from what remains.
/// Nothing here does I/O, so a provider can keep its list in an `RwLock<Arc<Vec<..>>>` (or an
/// `ArcSwap`) and call [`select`](Self::select) on every request.
///
/// ```
/// use std::sync::Arc;
/// use zk_recipes::{InstanceSelector, RoundRobin, ServiceInstance};
///
/// let selector = InstanceSelector::new(RoundRobin::new())
///     .with_filter(|i: &ServiceInstance| i.port().is_some());
/// let list = vec![
///     Arc::new(ServiceInstance::builder().name("s").id("a").port(80).build()?),
///     Arc::new(ServiceInstance::builder().name("s").id("b").build()?),
///     Arc::new(ServiceInstance::builder().name("s").id("c").port(81).enabled(false).build()?),
/// ];
/// assert_eq!(selector.select(&list).unwrap().id(), "a");
/// assert_eq!(selector.filtered(&list).len(), 1);
/// # Ok::<(), zk_recipes::ServiceInstanceError>(())
/// ```
pub struct InstanceSelector<T> {
    strategy: Box<dyn ProviderStrategy<T>>,
    filters: Vec<Box<dyn InstanceFilter<T>>>,
    down: DownInstanceManager<T>,
}

impl<T: PartialEq + Clone + Send + Sync + 'static> InstanceSelector<T> {
    /// A selector with `strategy`, no extra filters and the default [`DownInstancePolicy`].
    pub fn new(strategy: impl ProviderStrategy<T> + 'static) -> Self {
        Self::with_policy_at(strategy, DownInstancePolicy::default(), Instant::now())
    }

    /// A selector with the given down-instance policy, whose purge clock starts at `now`.
    pub fn with_policy_at(
        strategy: impl ProviderStrategy<T> + 'static,
        policy: DownInstancePolicy,
        now: Instant,
    ) -> Self {
        InstanceSelector {
            strategy: Box::new(strategy),
            filters: Vec::new(),
            down: DownInstanceManager::new_at(policy, now),
        }
    }

    /// Replaces the down-instance policy (forgetting any errors noted so far).
    #[must_use]
    pub fn with_down_instance_policy(mut self, policy: DownInstancePolicy) -> Self {
        self.down = DownInstanceManager::new(policy);
        self
    }

    /// Adds a filter, applied after the ones added before it.
    #[must_use]
    pub fn with_filter(mut self, filter: impl InstanceFilter<T> + 'static) -> Self {
        self.filters.push(Box::new(filter));
        self
    }

    /// The instances that pass every filter now, in list order (Curator's `getAllInstances`).
    pub fn filtered(&self, instances: &[Arc<ServiceInstance<T>>]) -> Vec<Arc<ServiceInstance<T>>> {
        self.filtered_at(instances, Instant::now())
    }

    /// As [`filtered`](Self::filtered), at `now`.
    pub fn filtered_at(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
        now: Instant,
    ) -> Vec<Arc<ServiceInstance<T>>> {
        instances
            .iter()
            .filter(|instance| {
                self.filters.iter().all(|f| f.accepts(instance))
                    && !self.down.is_down_at(instance, now)
                    && EnabledFilter.accepts(instance)
            })
            .cloned()
            .collect()
    }

    /// Filters `instances` and lets the strategy pick one (Curator's `getInstance`).
    pub fn select(&self, instances: &[Arc<ServiceInstance<T>>]) -> Option<Arc<ServiceInstance<T>>> {
        self.select_at(instances, Instant::now())
    }

    /// As [`select`](Self::select), at `now`.
    pub fn select_at(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
        now: Instant,
    ) -> Option<Arc<ServiceInstance<T>>> {
        self.strategy
            .get_instance(&self.filtered_at(instances, now))
    }

    /// The instances that pass the user's filters and are enabled: what the down
    /// check and the strategy then work on. A provider computes it once per list.
    pub(crate) fn usable(
        &self,
        instances: &[Arc<ServiceInstance<T>>],
    ) -> Vec<Arc<ServiceInstance<T>>> {
        instances
            .iter()
            .filter(|instance| {
                self.filters.iter().all(|f| f.accepts(instance)) && EnabledFilter.accepts(instance)
            })
            .cloned()
            .collect()
    }

    /// Lets the strategy pick from `usable` (from [`InstanceSelector::usable`]),
    /// leaving out the instances that are down. While no error is tracked, that costs
    /// nothing: no clock, no lock, no list.
    pub(crate) fn pick_usable(
        &self,
        usable: &[Arc<ServiceInstance<T>>],
    ) -> Option<Arc<ServiceInstance<T>>> {
        if !self.down.is_tracking() {
            return self.strategy.get_instance(usable);
        }
        let now = Instant::now();
        let up: Vec<_> = usable
            .iter()
            .filter(|instance| !self.down.is_down_at(instance, now))
            .cloned()
            .collect();
        self.strategy.get_instance(&up)
    }

    /// Reports a failed call to `instance` (Curator's `noteError`).
    pub fn note_error(&self, instance: &ServiceInstance<T>) {
        self.down.note_error(instance);
    }

    /// As [`note_error`](Self::note_error), at `now`.
    pub fn note_error_at(&self, instance: &ServiceInstance<T>, now: Instant) {
        self.down.note_error_at(instance, now);
    }

    /// The down-instance bookkeeping.
    pub fn down_instances(&self) -> &DownInstanceManager<T> {
        &self.down
    }
}

impl<T: PartialEq + Clone + Send + Sync + 'static> Default for InstanceSelector<T> {
    /// Curator's provider defaults: round robin, default down-instance policy.
    fn default() -> Self {
        InstanceSelector::new(RoundRobin::new())
    }
}

impl<T> std::fmt::Debug for InstanceSelector<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceSelector")
            .field("filters", &self.filters.len())
            .field("down", &self.down)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::discovery::Sticky;

    fn list(specs: &[(&str, bool)]) -> Vec<Arc<ServiceInstance>> {
        specs
            .iter()
            .map(|(id, enabled)| {
                Arc::new(
                    ServiceInstance::builder()
                        .name("svc")
                        .id(*id)
                        .address("h")
                        .registration_time_utc(1)
                        .enabled(*enabled)
                        .build()
                        .unwrap(),
                )
            })
            .collect()
    }

    fn ids(instances: &[Arc<ServiceInstance>]) -> Vec<&str> {
        instances.iter().map(|i| i.id()).collect()
    }

    #[test]
    fn disabled_instances_are_never_selected() {
        let selector = InstanceSelector::default();
        let instances = list(&[("a", false), ("b", true), ("c", false)]);
        assert_eq!(ids(&selector.filtered(&instances)), ["b"]);
        for _ in 0..3 {
            assert_eq!(selector.select(&instances).unwrap().id(), "b");
        }
        assert!(selector.select(&list(&[("x", false)])).is_none());
    }

    #[test]
    fn user_filters_all_apply() {
        let selector = InstanceSelector::new(RoundRobin::new())
            .with_filter(|i: &ServiceInstance| i.id() != "a")
            .with_filter(|i: &ServiceInstance| i.id() != "c");
        let instances = list(&[("a", true), ("b", true), ("c", true), ("d", true)]);
        assert_eq!(ids(&selector.filtered(&instances)), ["b", "d"]);
    }

    #[test]
    fn noted_errors_hide_an_instance_until_the_policy_expires_it() {
        let t0 = Instant::now();
        let selector = InstanceSelector::with_policy_at(
            RoundRobin::new(),
            DownInstancePolicy::new(Duration::from_secs(30), 2),
            t0,
        );
        let instances = list(&[("a", true), ("b", true)]);
        selector.note_error_at(&instances[0], t0);
        assert_eq!(ids(&selector.filtered_at(&instances, t0)), ["a", "b"]);
        selector.note_error_at(&instances[0], t0);
        assert_eq!(ids(&selector.filtered_at(&instances, t0)), ["b"]);
        for _ in 0..3 {
            assert_eq!(selector.select_at(&instances, t0).unwrap().id(), "b");
        }
        let later = t0 + Duration::from_secs(30);
        assert_eq!(ids(&selector.filtered_at(&instances, later)), ["a", "b"]);
    }

    #[test]
    fn sticky_moves_off_an_instance_that_goes_down() {
        let t0 = Instant::now();
        let selector = InstanceSelector::with_policy_at(
            Sticky::new(RoundRobin::new()),
            DownInstancePolicy::new(Duration::from_secs(30), 1),
            t0,
        );
        let instances = list(&[("a", true), ("b", true)]);
        assert_eq!(selector.select_at(&instances, t0).unwrap().id(), "a");
        assert_eq!(selector.select_at(&instances, t0).unwrap().id(), "a");
        selector.note_error_at(&instances[0], t0);
        assert_eq!(selector.select_at(&instances, t0).unwrap().id(), "b");
        assert_eq!(selector.down_instances().tracked_count(), 1);
    }

    #[test]
    fn works_on_a_list_shared_behind_a_lock() {
        let shared = std::sync::RwLock::new(Arc::new(list(&[("a", true)])));
        let selector: InstanceSelector<serde_json::Value> = InstanceSelector::default();
        let snapshot = shared.read().unwrap().clone();
        assert_eq!(selector.select(&snapshot).unwrap().id(), "a");
        *shared.write().unwrap() = Arc::new(list(&[("b", true)]));
        let snapshot = shared.read().unwrap().clone();
        assert_eq!(selector.select(&snapshot).unwrap().id(), "b");
    }
}
