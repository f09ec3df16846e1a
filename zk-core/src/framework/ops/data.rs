//! `client.get_data(path)` (optionally watched) and `client.set_data(path, data)`.

use std::future::IntoFuture;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::framework::ops::watch::Watcher;
use crate::proto::{Code, Stat};

/// Builds a getData. Await it for the data and stat.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct GetDataBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> GetDataBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str) -> Self {
        GetDataBuilder { client, path }
    }

    /// Also sets a one-shot watch: the third value resolves when the data changes or
    /// the node is deleted.
    pub fn watched(self) -> GetDataWatchedBuilder<'a> {
        GetDataWatchedBuilder {
            client: self.client,
            path: self.path,
        }
    }
}

impl<'a> IntoFuture for GetDataBuilder<'a> {
    type Output = Result<(Bytes, Stat)>;
    type IntoFuture = OpFuture<'a, (Bytes, Stat)>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            self.client
                .with_retry_at(self.path, async |s, full| s.get_data(full).await)
                .await
        })
    }
}

/// A getData that also sets a watch.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct GetDataWatchedBuilder<'a> {
    client: &'a Client,
    path: &'a str,
}

impl<'a> IntoFuture for GetDataWatchedBuilder<'a> {
    type Output = Result<(Bytes, Stat, Watcher)>;
    type IntoFuture = OpFuture<'a, (Bytes, Stat, Watcher)>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let ns = &self.client.inner.namespace;
            let full = ns.apply(self.path, false)?;
            let full = &full;
            let (data, stat, w) = self
                .client
                .with_retry(|s| async move { s.get_data_watched(full).await })
                .await?;
            Ok((data, stat, Watcher::new(w, ns.len())))
        })
    }
}

/// Builds a setData. Await it for the node's new stat.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct SetDataBuilder<'a> {
    client: &'a Client,
    path: &'a str,
    data: &'a [u8],
    version: Option<i32>,
    idempotent: bool,
}

impl<'a> SetDataBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str, data: &'a [u8]) -> Self {
        SetDataBuilder {
            client,
            path,
            data,
            version: None,
            idempotent: false,
        }
    }

    /// Only if the node's data version is `version`.
    pub fn version(mut self, version: i32) -> Self {
        self.version = Some(version);
        self
    }

    /// Curator's idempotent set: on BadVersion, succeed when the node's version is
    /// exactly one past the expected one and it holds exactly this data, which is
    /// what an earlier attempt whose reply was lost leaves behind. The read needs no
    /// `sync`: it follows the server's BadVersion answer to this attempt, which went
    /// through the leader, so the lost attempt is already applied where it reads.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

impl<'a> IntoFuture for SetDataBuilder<'a> {
    type Output = Result<Stat>;
    type IntoFuture = OpFuture<'a, Stat>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let full = self.client.inner.namespace.apply(self.path, false)?;
            let (full, data, version, idempotent) =
                (&full, self.data, self.version, self.idempotent);
            self.client
                .with_retry(|s| async move {
                    match s.set_data(full, data, version).await {
                        Err(Error::Server {
                            code: Code::BadVersion,
                            ..
                        }) if idempotent => {
                            let (current, stat) = s.get_data(full).await?;
                            let expected = version.unwrap_or(-1);
                            if expected >= 0
                                && stat.version == expected + 1
                                && current.as_ref() == data
                            {
                                Ok(stat)
                            } else {
                                Err(Error::server(Code::BadVersion, Some(full.clone())))
                            }
                        }
                        other => other,
                    }
                })
                .await
        })
    }
}
