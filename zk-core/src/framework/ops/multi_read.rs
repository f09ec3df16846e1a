//! `client.multi_read()`: several reads in one request (ZooKeeper 3.6+ `multiRead`).

use std::future::IntoFuture;

use crate::error::Result;
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::proto::ops::{MultiOp, OpResult};

/// One read of a batch, with an owned path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadOp {
    Data(String),
    Children(String),
}

/// Builds a batch of reads. Await it for one [`OpResult`] per read, in order:
/// [`OpResult::GetData`], [`OpResult::GetChildren`], or [`OpResult::Error`] for a
/// read that failed (a missing node is `Error { code: NoNode }`); one read failing
/// does not fail the others. The server answers the batch in one reply, which
/// costs it far less per node than one request per node, but sets no watches.
///
/// Servers before 3.6 do not know the request: they answer `Unimplemented` and
/// close the connection, so the batch fails with that code (the session itself
/// reconnects). The whole reply must fit the client's frame limit, or the batch
/// fails with [`Error::ReplyTooLarge`](crate::Error::ReplyTooLarge).
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct MultiReadBuilder<'a> {
    client: &'a Client,
    ops: Vec<ReadOp>,
}

impl<'a> MultiReadBuilder<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        MultiReadBuilder {
            client,
            ops: Vec::new(),
        }
    }

    /// Reads a node's data and stat.
    pub fn get_data(mut self, path: impl Into<String>) -> Self {
        self.ops.push(ReadOp::Data(path.into()));
        self
    }

    /// Lists a node's children.
    pub fn get_children(mut self, path: impl Into<String>) -> Self {
        self.ops.push(ReadOp::Children(path.into()));
        self
    }

    /// How many reads the batch holds so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no read yet.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl<'a> IntoFuture for MultiReadBuilder<'a> {
    type Output = Result<Vec<OpResult>>;
    type IntoFuture = OpFuture<'a, Vec<OpResult>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.ops.is_empty() {
                return Ok(Vec::new());
            }
            let ns = &self.client.inner.namespace;
            let full = self
                .ops
                .iter()
                .map(|op| match op {
                    ReadOp::Data(path) | ReadOp::Children(path) => ns.apply(path, false),
                })
                .collect::<Result<Vec<_>>>()?;
            let ops: Vec<MultiOp<'_>> = self
                .ops
                .iter()
                .zip(&full)
                .map(|(op, path)| match op {
                    ReadOp::Data(_) => MultiOp::GetData { path },
                    ReadOp::Children(_) => MultiOp::GetChildren { path },
                })
                .collect();
            let ops = &ops;
            self.client
                .with_retry(|s| async move { s.multi_read(ops).await })
                .await
        })
    }
}
