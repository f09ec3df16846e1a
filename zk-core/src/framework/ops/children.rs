//! `client.get_children(path)`, optionally with the stat or a watch.

use std::future::IntoFuture;

use crate::error::Result;
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::framework::ops::watch::Watcher;
use crate::proto::Stat;

/// Builds a getChildren. Await it for the children's names.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct GetChildrenBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> GetChildrenBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str) -> Self {
        GetChildrenBuilder { client, path }
    }

    /// Returns the parent's stat with the names.
    pub async fn with_stat(self) -> Result<(Vec<String>, Stat)> {
        self.client
            .with_retry_at(self.path, async |s, full| s.get_children2(full).await)
            .await
    }

    /// Also sets a one-shot watch that fires when a child is added or removed or the
    /// node is deleted.
    pub fn watched(self) -> GetChildrenWatchedBuilder<'a> {
        GetChildrenWatchedBuilder {
            client: self.client,
            path: self.path,
        }
    }
}

impl<'a> IntoFuture for GetChildrenBuilder<'a> {
    type Output = Result<Vec<String>>;
    type IntoFuture = OpFuture<'a, Vec<String>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            self.client
                .with_retry_at(self.path, async |s, full| s.get_children(full).await)
                .await
        })
    }
}

/// A getChildren that also sets a watch; resolves to the names, the parent's stat and the watch.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct GetChildrenWatchedBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> IntoFuture for GetChildrenWatchedBuilder<'a> {
    type Output = Result<(Vec<String>, Stat, Watcher)>;
    type IntoFuture = OpFuture<'a, (Vec<String>, Stat, Watcher)>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let ns = &self.client.inner.namespace;
            let full = ns.apply(self.path, false)?;
            let full = &full;
            let (children, stat, w) = self
                .client
                .with_retry(|s| async move { s.get_children_watched(full).await })
                .await?;
            Ok((children, stat, Watcher::new(w, ns.len())))
        })
    }
}
