//! Instance filters: predicates a provider applies to its instance list before the strategy.

use super::ServiceInstance;

/// Decides whether an instance may be handed out, as Curator's `InstanceFilter`.
///
/// Any `Fn(&ServiceInstance<T>) -> bool + Send + Sync` is a filter:
///
/// ```
/// use zk_recipes::{InstanceFilter, ServiceInstance};
///
/// let only_tls = |i: &ServiceInstance| i.ssl_port().is_some();
/// let plain = ServiceInstance::builder().name("s").port(80).build()?;
/// assert!(!only_tls.accepts(&plain));
/// # Ok::<(), zk_recipes::ServiceInstanceError>(())
/// ```
pub trait InstanceFilter<T>: Send + Sync {
    /// `true` to keep the instance.
    fn accepts(&self, instance: &ServiceInstance<T>) -> bool;
}

impl<T, F> InstanceFilter<T> for F
where
    F: Fn(&ServiceInstance<T>) -> bool + Send + Sync,
{
    fn accepts(&self, instance: &ServiceInstance<T>) -> bool {
        self(instance)
    }
}

/// Keeps only instances whose [`enabled`](ServiceInstance::enabled) flag is set.
///
/// Curator's service provider always applies this filter, after the user's filters and the
/// down-instance filter.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnabledFilter;

impl<T> InstanceFilter<T> for EnabledFilter {
    fn accepts(&self, instance: &ServiceInstance<T>) -> bool {
        instance.enabled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_filter_drops_disabled_instances() {
        let on = ServiceInstance::builder().name("s").build().unwrap();
        let off = ServiceInstance::builder()
            .name("s")
            .enabled(false)
            .build()
            .unwrap();
        assert!(EnabledFilter.accepts(&on));
        assert!(!EnabledFilter.accepts(&off));
    }

    #[test]
    fn closures_are_filters_and_box_into_trait_objects() {
        let filters: Vec<Box<dyn InstanceFilter<serde_json::Value>>> = vec![
            Box::new(|i: &ServiceInstance| i.port() == Some(80)),
            Box::new(EnabledFilter),
        ];
        let good = ServiceInstance::builder()
            .name("s")
            .port(80)
            .build()
            .unwrap();
        let wrong_port = ServiceInstance::builder()
            .name("s")
            .port(81)
            .build()
            .unwrap();
        assert!(filters.iter().all(|f| f.accepts(&good)));
        assert!(!filters.iter().all(|f| f.accepts(&wrong_port)));
    }
}
