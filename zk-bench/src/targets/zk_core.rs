//! zk-core's native [`Session`], the client this benchmark is for.

use std::time::Duration;

use zk_core::{Acl, Code, CreateMode, Session};

use super::{Action, Target};
use crate::workload::Op;

/// A zk-core session with the open ACL every create uses.
pub(crate) struct ZkCore {
    session: Session,
    acl: [Acl; 1],
}

/// A session's settings for TLS to `addr`, trusting `ca` (PEM).
#[cfg(feature = "tls")]
fn tls_config(addr: &str, ca: &str) -> Result<zk_core::SessionConfig, String> {
    let tls = zk_core::TlsConfig::builder()
        .ca_pem(ca)
        .build()
        .map_err(|e| format!("TLS settings: {e}"))?;
    let hosts = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    Ok(zk_core::SessionConfig::new(hosts, Duration::from_secs(30)).with_tls(tls))
}

#[cfg(not(feature = "tls"))]
fn tls_config(_addr: &str, _ca: &str) -> Result<zk_core::SessionConfig, String> {
    Err("zk-bench was built without its `tls` feature".into())
}

impl Target for ZkCore {
    const NAME: &'static str = "zk-core";

    async fn connect(addr: &str, tls_ca: Option<&str>, timeout: Duration) -> Result<Self, String> {
        let session = match tls_ca {
            None => Session::connect(addr, Duration::from_secs(30)).map_err(|e| e.to_string())?,
            Some(ca) => Session::start(tls_config(addr, ca)?),
        };
        session
            .wait_connected(timeout)
            .await
            .map_err(|e| e.to_string())?;
        Ok(ZkCore {
            session,
            acl: [Acl::open_unsafe()],
        })
    }

    async fn act(&self, action: Action, path: &str, data: &[u8]) -> Result<(), String> {
        let s = &self.session;
        let r = match action {
            Action::Op(Op::Get) => s.get_data(path).await.map(drop),
            Action::Op(Op::Set) => s.set_data(path, data, None).await.map(drop),
            Action::Op(Op::Create) => s
                .create(path, data, &self.acl, CreateMode::Persistent)
                .await
                .map(drop),
            Action::Ensure => match s
                .create(path, data, &self.acl, CreateMode::Persistent)
                .await
            {
                Err(e) if e.code() == Some(Code::NodeExists) => Ok(()),
                r => r.map(drop),
            },
            Action::Delete => match s.delete(path, None).await {
                Err(e) if e.code() == Some(Code::NoNode) => Ok(()),
                r => r,
            },
        };
        r.map_err(|e| format!("{action:?} {path}: {e}"))
    }

    async fn close(self) {
        self.session.close().await;
    }
}
