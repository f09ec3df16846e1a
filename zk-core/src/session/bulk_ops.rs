//! The operations of a [`Session`] on many nodes at once: `multi` transactions,
//! `multiRead` batches, and data watches set for many nodes in a few SetWatches
//! (`watch_data_since`). Like those of `ops`, each checks its paths, encodes its
//! request and decodes the reply.

use std::borrow::Cow;

use tokio::sync::oneshot;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::proto::ops::*;
use crate::proto::{Code, Decode, OpCode, Reader, SET_WATCHES_MAX_LEN, SetWatches};
use crate::session::Session;
use crate::session::call::Reply;
use crate::session::ops::decode_reply;
use crate::watch::on_reply::OnReply;
use crate::watch::registry::{WatchKind, WatchRegistration, WatchSink};
use crate::watch::{DropNotice, OneshotWatch};

impl Session {
    /// Sets a data watch on every node of `paths` at once, as if each had been read
    /// with [`get_data_watched`](Session::get_data_watched) when the last zxid this
    /// client had seen was `since_zxid`: the server fires at once the watch of a node
    /// changed after that zxid (`NodeDataChanged`) or gone (`NodeDeleted`), and keeps
    /// the others. With the data read unwatched (a `multiRead`), this gives each node
    /// the watch a watched read would, in a few requests instead of one per node;
    /// `since_zxid` must be a zxid seen before those reads were sent (such as
    /// [`Session::last_zxid`] then).
    ///
    /// The watches are in the client's table from the moment the request is written
    /// (a notification may come before the reply). If the call fails (a
    /// ConnectionLoss, say), some may be set on the server and some not; the
    /// watches go with the error, and the caller reads those nodes again with a
    /// watch. Paths go in SetWatches requests of at most 128 KB each.
    pub async fn watch_data_since(
        &self,
        paths: &[&str],
        since_zxid: i64,
    ) -> Result<Vec<OneshotWatch>> {
        let mut watches = Vec::with_capacity(paths.len());
        let mut requests = Vec::new();
        let mut batch = SetWatches {
            relative_zxid: since_zxid,
            ..SetWatches::default()
        };
        let mut regs = Vec::new();
        for &path in paths {
            let server_path = self.server_path(path, false)?.into_owned();
            if !batch.data_watches.is_empty()
                && batch.encoded_len() + 4 + server_path.len() > SET_WATCHES_MAX_LEN
            {
                let full = std::mem::replace(
                    &mut batch,
                    SetWatches {
                        relative_zxid: since_zxid,
                        ..SetWatches::default()
                    },
                );
                requests.push((full, std::mem::take(&mut regs)));
            }
            let (tx, rx) = oneshot::channel();
            regs.push(WatchRegistration {
                kind: WatchKind::Data,
                path: path.to_string(),
                sink: WatchSink::Once(tx),
            });
            watches.push(OneshotWatch::new(
                rx,
                path.to_string(),
                DropNotice::new(&self.inner.tx),
            ));
            batch.data_watches.push(server_path);
        }
        if !batch.data_watches.is_empty() {
            requests.push((batch, regs));
        }
        let sent = requests.into_iter().map(|(req, regs)| async move {
            let reply = self
                .call(&req, OnReply::RegisterOnSend(regs))
                .instrument(tracing::debug_span!(
                    "zk_op",
                    op = ?OpCode::SetWatches,
                    paths = req.data_watches.len()
                ))
                .await?;
            decode_reply::<()>(reply, "")
        });
        futures::future::try_join_all(sent).await?;
        Ok(watches)
    }

    /// Runs `ops` as one atomic transaction. On failure the error is
    /// [`Error::Transaction`], which carries every operation's result.
    pub async fn multi(&self, ops: &[MultiOp<'_>]) -> Result<Vec<OpResult>> {
        let server_paths = self.multi_server_paths(ops, false)?;
        let server_ops = on_paths(ops, &server_paths);
        let reply = self
            .call(&MultiRequest { ops: &server_ops }, OnReply::Nothing)
            .await?;
        self.multi_results(reply)
    }

    /// Runs read operations (`GetData`, `GetChildren`) together; each has its own
    /// result, and one failing does not fail the others.
    pub async fn multi_read(&self, ops: &[MultiOp<'_>]) -> Result<Vec<OpResult>> {
        let server_paths = self.multi_server_paths(ops, true)?;
        let server_ops = on_paths(ops, &server_paths);
        let reply = self
            .call(&MultiReadRequest { ops: &server_ops }, OnReply::Nothing)
            .await?;
        if reply.code != Code::Ok {
            return Err(Error::server(reply.code, None));
        }
        let resp = MultiResponse::decode(&mut Reader::new(reply.body))?;
        Ok(resp.results)
    }

    /// The server path of every operation of a `multi` (`read_only`: a `multiRead`),
    /// once the operations pass the checks made before anything is sent.
    fn multi_server_paths<'o>(
        &self,
        ops: &'o [MultiOp<'_>],
        read_only: bool,
    ) -> Result<Vec<Cow<'o, str>>> {
        let paths = ops
            .iter()
            .map(|op| {
                let mut sequential = false;
                match op {
                    MultiOp::Create {
                        data, acl, mode, ..
                    }
                    | MultiOp::Create2 {
                        data, acl, mode, ..
                    }
                    | MultiOp::CreateTtl {
                        data, acl, mode, ..
                    } => {
                        self.check_data(data)?;
                        self.check_acl(acl)?;
                        sequential = mode.is_sequential();
                    }
                    MultiOp::SetData { data, .. } => self.check_data(data)?,
                    _ => {}
                }
                self.server_path(op.path(), sequential)
            })
            .collect::<Result<Vec<_>>>()?;
        check_multi_ops(ops, read_only).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        Ok(paths)
    }

    fn multi_results(&self, reply: Reply) -> Result<Vec<OpResult>> {
        if reply.code != Code::Ok && reply.body.is_empty() {
            return Err(Error::server(reply.code, None));
        }
        let mut resp = MultiResponse::decode(&mut Reader::new(reply.body))?;
        for r in &mut resp.results {
            if let OpResult::Create { path } | OpResult::Create2 { path, .. } = r {
                *path = self.client_path(std::mem::take(path));
            }
        }
        if let Some((index, code)) = resp.first_error() {
            return Err(Error::Transaction {
                index,
                code,
                results: resp.results,
            });
        }
        let results = resp.results;
        if reply.code != Code::Ok {
            return Err(Error::server(reply.code, None));
        }
        Ok(results)
    }
}

/// The operations on other paths (the server paths of the client's ones), in order.
fn on_paths<'a>(ops: &[MultiOp<'a>], paths: &'a [Cow<'_, str>]) -> Vec<MultiOp<'a>> {
    ops.iter()
        .zip(paths)
        .map(|(op, p)| with_path(op, p))
        .collect()
}

/// The same operation on another path (the server path of the client's one).
fn with_path<'a>(op: &MultiOp<'a>, path: &'a str) -> MultiOp<'a> {
    match *op {
        MultiOp::Create {
            data, acl, mode, ..
        } => MultiOp::Create {
            path,
            data,
            acl,
            mode,
        },
        MultiOp::Create2 {
            data, acl, mode, ..
        } => MultiOp::Create2 {
            path,
            data,
            acl,
            mode,
        },
        MultiOp::CreateTtl {
            data,
            acl,
            mode,
            ttl,
            ..
        } => MultiOp::CreateTtl {
            path,
            data,
            acl,
            mode,
            ttl,
        },
        MultiOp::Delete { version, .. } => MultiOp::Delete { path, version },
        MultiOp::SetData { data, version, .. } => MultiOp::SetData {
            path,
            data,
            version,
        },
        MultiOp::Check { version, .. } => MultiOp::Check { path, version },
        MultiOp::GetChildren { .. } => MultiOp::GetChildren { path },
        MultiOp::GetData { .. } => MultiOp::GetData { path },
    }
}
