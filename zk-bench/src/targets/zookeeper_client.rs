//! The `zookeeper-client` crate (0.11), the Rust peer.

use std::time::Duration;

use zookeeper_client as zk;

use super::{Action, Target};
use crate::workload::Op;

/// Connects with `connector` over TLS to `addr`, trusting `ca` (PEM), hostname
/// verification on, with ring as the process's rustls provider (as zk-core's).
#[cfg(feature = "tls")]
async fn secure_connect(
    connector: zk::Connector,
    ca: &str,
    addr: &str,
) -> Result<zk::Client, zk::Error> {
    // Already installed is fine: one process, one client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    connector
        .with_tls(zk::TlsOptions::new().with_pem_ca(ca)?)
        .secure_connect(addr)
        .await
}

#[cfg(not(feature = "tls"))]
async fn secure_connect(
    _connector: zk::Connector,
    _ca: &str,
    _addr: &str,
) -> Result<zk::Client, zk::Error> {
    Err(zk::Error::UnexpectedError(
        "zk-bench was built without its `tls` feature".into(),
    ))
}

/// A zookeeper-client session.
pub(crate) struct ZookeeperClient {
    client: zk::Client,
}

impl Target for ZookeeperClient {
    const NAME: &'static str = "zookeeper-client";

    async fn connect(addr: &str, tls_ca: Option<&str>, timeout: Duration) -> Result<Self, String> {
        let connector = zk::Client::connector().with_session_timeout(Duration::from_secs(30));
        let connect = async move {
            match tls_ca {
                None => connector.connect(addr).await,
                Some(ca) => secure_connect(connector, ca, addr).await,
            }
        };
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
