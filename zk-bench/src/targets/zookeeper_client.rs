//! The `zookeeper-client` crate (0.11), the Rust peer.

use std::time::Duration;

use zookeeper_client as zk;

use super::{Action, Target};
use crate::workload::Op;

/// Why this peer has no TLS row: its `tls` feature brings rustls with its default
/// provider, aws-lc-rs, whose C library the workspace's other builds would then have
/// to compile too (feature unification); zk-core uses ring.
pub(crate) const TLS_NOT_BUILT: &str =
    "the zookeeper-client crate is built without its tls feature here (see BENCHMARKS.md)";

/// A zookeeper-client session.
pub(crate) struct ZookeeperClient {
    client: zk::Client,
}

impl Target for ZookeeperClient {
    const NAME: &'static str = "zookeeper-client";

    async fn connect(addr: &str, tls_ca: Option<&str>, timeout: Duration) -> Result<Self, String> {
        if tls_ca.is_some() {
            return Err(TLS_NOT_BUILT.into());
        }
        let connect = zk::Client::connector()
            .with_session_timeout(Duration::from_secs(30))
            .connect(addr);
        let client = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| format!("not connected within {timeout:?}"))?
            .map_err(|e| e.to_string())?;
        Ok(ZookeeperClient { client })
    }

    async fn act(&self, action: Action, path: &str, data: &[u8]) -> Result<(), String> {
        let c = &self.client;
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        let r = match action {
            Action::Op(Op::Get) => c.get_data(path).await.map(drop),
            Action::Op(Op::Set) => c.set_data(path, data, None).await.map(drop),
            Action::Op(Op::Create) => c.create(path, data, &options).await.map(drop),
            Action::Ensure => match c.create(path, data, &options).await {
                Err(zk::Error::NodeExists) => Ok(()),
                r => r.map(drop),
            },
            Action::Delete => match c.delete(path, None).await {
                Err(zk::Error::NoNode) => Ok(()),
                r => r,
            },
        };
        r.map_err(|e| format!("{action:?} {path}: {e}"))
    }

    async fn close(self) {
        drop(self.client);
    }
}
