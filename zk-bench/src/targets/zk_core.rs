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

impl Target for ZkCore {
    const NAME: &'static str = "zk-core";

    async fn connect(addr: &str, timeout: Duration) -> Result<Self, String> {
        let session = Session::connect(addr, Duration::from_secs(30)).map_err(|e| e.to_string())?;
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
