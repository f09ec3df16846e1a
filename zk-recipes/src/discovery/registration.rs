//! One instance this process registered: its current record and the persistent node
//! that keeps it in ZooKeeper.
//!
//! The node recipe does the hard part: it creates the node, creates it again after a
//! new session, after a reconnection that finds it missing and after someone deletes
//! it, exactly once per loss, and replaces a leftover ephemeral node of another session
//! at the same path. See [`PersistentNode`].

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tracing::debug;
use zk_core::path::join;
use zk_core::{Client, CreateMode};

use super::{DiscoveryError, JsonInstanceSerializer, Payload, ServiceInstance, ServiceType};
use crate::nodes::{DataHook, NodeOptions, PersistentNode};
use crate::plumbing::lock;

/// The ZooKeeper mode of an instance's node, as Curator's `internalRegisterService`.
pub(crate) fn create_mode(service_type: ServiceType) -> CreateMode {
    match service_type {
        ServiceType::Dynamic => CreateMode::Ephemeral,
        ServiceType::DynamicSequential => CreateMode::EphemeralSequential,
        ServiceType::Static | ServiceType::Permanent => CreateMode::Persistent,
    }
}

/// `basePath/name/id`.
pub(crate) fn instance_path(base_path: &str, name: &str, id: &str) -> String {
    join(&join(base_path, name), id)
}

/// A registered instance.
#[derive(Debug)]
pub(crate) struct Registration<T> {
    instance: Arc<Mutex<ServiceInstance<T>>>,
    node: PersistentNode,
}

impl<T: Payload> Registration<T> {
    /// A registration (not started) for `instance` under `base_path`.
    pub(crate) fn new(
        client: Client,
        base_path: &str,
        serializer: JsonInstanceSerializer,
        instance: ServiceInstance<T>,
        watch_instances: bool,
    ) -> Result<Self, DiscoveryError> {
        let bytes = serializer.serialize(&instance)?;
        let path = instance_path(base_path, instance.name(), instance.id());
        let service_type = instance.service_type();
        let current = Arc::new(Mutex::new(instance));
        let hook = watch_instances.then(|| adopt_hook(current.clone(), serializer));
        let options = NodeOptions {
            keep_on_close: !service_type.is_dynamic(),
            on_external_data: hook,
        };
        let node = PersistentNode::builder(client, path)
            .mode(create_mode(service_type))
            .data(Bytes::from(bytes))
            .options(options)
            .build()?;
        Ok(Registration {
            instance: current,
            node,
        })
    }

    /// The instance as registered now (with `watch_instances`, as last seen on the node).
    pub(crate) fn instance(&self) -> ServiceInstance<T> {
        lock(&self.instance).clone()
    }

    /// Starts the node and waits for the first attempt to create it.
    pub(crate) async fn start(&self) -> Result<String, DiscoveryError> {
        self.node.start()?;
        Ok(self.node.first_outcome().await?)
    }

    /// Writes a changed record to the node (and keeps it for re-creation).
    pub(crate) async fn update(
        &self,
        serializer: JsonInstanceSerializer,
        instance: ServiceInstance<T>,
    ) -> Result<(), DiscoveryError> {
        let bytes = serializer.serialize(&instance)?;
        *lock(&self.instance) = instance;
        self.node.set_data(bytes).await?;
        Ok(())
    }

    /// Stops looking after the node, deleting it if `delete`.
    pub(crate) async fn close(&self, delete: bool) -> Result<(), DiscoveryError> {
        Ok(self.node.close_deleting(delete).await?)
    }

    /// The node's path (differs from `basePath/name/id` for dynamic sequential instances).
    pub(crate) fn node_path(&self) -> Option<String> {
        self.node.actual_path()
    }
}

/// With `watch_instances`: data another client writes to our node replaces our record
/// (Curator's behaviour), if it parses and names the same instance.
fn adopt_hook<T: Payload>(
    current: Arc<Mutex<ServiceInstance<T>>>,
    serializer: JsonInstanceSerializer,
) -> DataHook {
    Arc::new(
        move |bytes: &Bytes| match serializer.deserialize::<T>(bytes) {
            Ok(changed) => {
                let mut cur = lock(&current);
                if changed.id() == cur.id() && changed.name() == cur.name() {
                    *cur = changed;
                }
            }
            Err(e) => {
                debug!(error = %e, "registered instance: ignoring unreadable data written by another client")
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_curator() {
        assert_eq!(create_mode(ServiceType::Dynamic), CreateMode::Ephemeral);
        assert_eq!(
            create_mode(ServiceType::DynamicSequential),
            CreateMode::EphemeralSequential
        );
        assert_eq!(create_mode(ServiceType::Static), CreateMode::Persistent);
        assert_eq!(create_mode(ServiceType::Permanent), CreateMode::Persistent);
    }

    #[test]
    fn instance_paths_are_base_name_id() {
        assert_eq!(
            instance_path("/services", "api", "i-1"),
            "/services/api/i-1"
        );
        assert_eq!(instance_path("/", "api", "i-1"), "/api/i-1");
    }
}
