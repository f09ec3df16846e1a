//! `client.get_acl(path)`, `client.set_acl(path, acl)`, `client.sync(path)`, and
//! `client.who_am_i()`: who the server says the client is (what ACLs are checked
//! against).

use std::future::IntoFuture;

use crate::error::Result;
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::proto::ops::ClientInfo;
use crate::proto::{Acl, Stat};

/// Builds a setACL. Await it for the node's new stat.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct SetAclBuilder<'a> {
    client: &'a Client,
    path: &'a str,
    acl: Vec<Acl>,
    version: Option<i32>,
}

impl<'a> SetAclBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str, acl: Vec<Acl>) -> Self {
        SetAclBuilder {
            client,
            path,
            acl,
            version: None,
        }
    }

    /// Only if the node's ACL version is `version`.
    pub fn version(mut self, version: i32) -> Self {
        self.version = Some(version);
        self
    }
}

impl<'a> IntoFuture for SetAclBuilder<'a> {
    type Output = Result<Stat>;
    type IntoFuture = OpFuture<'a, Stat>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let full = self.client.inner.namespace.apply(self.path, false)?;
            let (full, acl, version) = (&full, &self.acl, self.version);
            self.client
                .with_retry(|s| async move { s.set_acl(full, acl, version).await })
                .await
        })
    }
}

impl Client {
    /// The node's ACL and stat.
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        self.with_retry_at(path, async |s, full| s.get_acl(full).await)
            .await
    }

    /// Waits until the connected server has caught up with the leader for `path`.
    pub async fn sync(&self, path: &str) -> Result<()> {
        self.with_retry_at(path, async |s, full| s.sync(full).await)
            .await
    }

    /// Who the server says this client is: one entry per identity its connection
    /// holds (`ip`, `digest`, the `x509` subject of its TLS certificate, ...), the
    /// identities ACLs are checked against. Needs ZooKeeper 3.7 or later.
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        self.with_retry(|s| async move { s.who_am_i().await }).await
    }
}
