//! `client.transaction()`: several writes and checks applied atomically.

use std::future::IntoFuture;

use crate::error::{Error, Result};
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::proto::ops::{MultiOp, OpResult};
use crate::proto::{Acl, CreateMode};

/// One operation of a transaction, with owned inputs.
#[derive(Debug, Clone)]
enum TxOp {
    Create {
        path: String,
        data: Vec<u8>,
        mode: CreateMode,
        /// `None`: the client's ACL provider's.
        acl: Option<Vec<Acl>>,
    },
    Delete {
        path: String,
        version: i32,
    },
    SetData {
        path: String,
        data: Vec<u8>,
        version: i32,
    },
    Check {
        path: String,
        version: i32,
    },
}

/// Builds a transaction. Await it for one [`OpResult`] per operation, in order. If
/// any operation fails, nothing is applied and the error is [`Error::Transaction`],
/// which names the failing operation and carries every result.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct TransactionBuilder<'a> {
    client: &'a Client,
    ops: Vec<TxOp>,
}

impl<'a> TransactionBuilder<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        TransactionBuilder {
            client,
            ops: Vec::new(),
        }
    }

    /// Fails the transaction unless `path` has data version `version`.
    pub fn check(mut self, path: impl Into<String>, version: i32) -> Self {
        self.ops.push(TxOp::Check {
            path: path.into(),
            version,
        });
        self
    }

    /// Creates a persistent node, with the ACL the client's
    /// [`AclProvider`](crate::AclProvider) gives its path.
    pub fn create(self, path: impl Into<String>, data: impl AsRef<[u8]>) -> Self {
        self.create_with_mode(path, data, CreateMode::Persistent)
    }

    /// Creates a node of the given mode, with the ACL the client's
    /// [`AclProvider`](crate::AclProvider) gives its path.
    pub fn create_with_mode(
        mut self,
        path: impl Into<String>,
        data: impl AsRef<[u8]>,
        mode: CreateMode,
    ) -> Self {
        let op = TxOp::Create {
            path: path.into(),
            data: data.as_ref().to_vec(),
            mode,
            acl: None,
        };
        self.ops.push(op);
        self
    }

    /// Deletes a node, whatever its version.
    pub fn delete(self, path: impl Into<String>) -> Self {
        self.delete_version(path, -1)
    }

    /// Deletes a node if its data version is `version`.
    pub fn delete_version(mut self, path: impl Into<String>, version: i32) -> Self {
        self.ops.push(TxOp::Delete {
            path: path.into(),
            version,
        });
        self
    }

    /// Sets a node's data, whatever its version.
    pub fn set_data(self, path: impl Into<String>, data: impl AsRef<[u8]>) -> Self {
        self.set_data_version(path, data, -1)
    }

    /// Sets a node's data if its data version is `version`.
    pub fn set_data_version(
        mut self,
        path: impl Into<String>,
        data: impl AsRef<[u8]>,
        version: i32,
    ) -> Self {
        self.ops.push(TxOp::SetData {
            path: path.into(),
            data: data.as_ref().to_vec(),
            version,
        });
        self
    }
}

impl<'a> IntoFuture for TransactionBuilder<'a> {
    type Output = Result<Vec<OpResult>>;
    type IntoFuture = OpFuture<'a, Vec<OpResult>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let ns = &self.client.inner.namespace;
            let mut full = Vec::with_capacity(self.ops.len());
            for op in &self.ops {
                let (path, sequential) = match op {
                    TxOp::Create { path, mode, .. } => (path, mode.is_sequential()),
                    TxOp::Delete { path, .. }
                    | TxOp::SetData { path, .. }
                    | TxOp::Check { path, .. } => (path, false),
                };
                full.push(ns.apply(path, sequential)?);
            }
            // Each create's ACL: its own, or what the client's provider gives its path.
            let acls = self.client.inner.config.acl_provider.as_ref();
            let create_acls: Vec<Vec<Acl>> = self
                .ops
                .iter()
                .zip(&full)
                .map(|(op, path)| match op {
                    TxOp::Create { acl: Some(acl), .. } => acl.clone(),
                    TxOp::Create { acl: None, .. } => acls.acl_for_path(path),
                    _ => Vec::new(),
                })
                .collect();
            let ops: Vec<MultiOp<'_>> = self
                .ops
                .iter()
                .zip(&full)
                .zip(&create_acls)
                .map(|((op, path), acl)| match op {
                    TxOp::Create { data, mode, .. } => MultiOp::Create {
                        path,
                        data,
                        acl,
                        mode: *mode,
                    },
                    TxOp::Delete { version, .. } => MultiOp::Delete {
                        path,
                        version: *version,
                    },
                    TxOp::SetData { data, version, .. } => MultiOp::SetData {
                        path,
                        data,
                        version: *version,
                    },
                    TxOp::Check { version, .. } => MultiOp::Check {
                        path,
                        version: *version,
                    },
                })
                .collect();
            let ops = &ops;
            let strip = |mut results: Vec<OpResult>| {
                for r in &mut results {
                    if let OpResult::Create { path } | OpResult::Create2 { path, .. } = r {
                        *path = ns.strip(path);
                    }
                }
                results
            };
            match self
                .client
                .with_retry(|s| async move { s.multi(ops).await })
                .await
            {
                Ok(results) => Ok(strip(results)),
                Err(Error::Transaction {
                    index,
                    code,
                    results,
                }) => Err(Error::Transaction {
                    index,
                    code,
                    results: strip(results),
                }),
                Err(e) => Err(e),
            }
        })
    }
}
