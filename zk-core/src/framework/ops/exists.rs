//! `client.exists(path)`, optionally watched.

use std::future::IntoFuture;

use crate::error::Result;
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::framework::ops::watch::Watcher;
use crate::proto::Stat;

/// Builds an exists. Await it for the stat, or `None` if there is no node.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct ExistsBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> ExistsBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str) -> Self {
        ExistsBuilder { client, path }
    }

    /// Also sets a one-shot watch that fires when the node is created, changed or deleted.
    pub fn watched(self) -> ExistsWatchedBuilder<'a> {
        ExistsWatchedBuilder {
            client: self.client,
            path: self.path,
        }
    }
}

impl<'a> IntoFuture for ExistsBuilder<'a> {
    type Output = Result<Option<Stat>>;
    type IntoFuture = OpFuture<'a, Option<Stat>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            self.client
                .with_retry_at(self.path, async |s, full| s.exists(full).await)
                .await
        })
    }
}

/// An exists that also sets a watch.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct ExistsWatchedBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> IntoFuture for ExistsWatchedBuilder<'a> {
    type Output = Result<(Option<Stat>, Watcher)>;
    type IntoFuture = OpFuture<'a, (Option<Stat>, Watcher)>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let ns = &self.client.inner.namespace;
            let full = ns.apply(self.path, false)?;
            let full = &full;
            let (stat, w) = self
                .client
                .with_retry(|s| async move { s.exists_watched(full).await })
                .await?;
            Ok((stat, Watcher::new(w, ns.len())))
        })
    }
}
