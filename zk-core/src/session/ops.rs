//! The operations of a [`Session`]: each validates its paths, encodes its request
//! straight into a frame, sends it to the task and decodes the reply.

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::proto::frame::DEFAULT_MAX_FRAME_LEN;
use crate::proto::ops::*;
use crate::proto::path::{DEFAULT_MAX_DATA_LEN, validate_data_len};
use crate::proto::{Acl, AddWatchMode, CreateMode, Stat, WatcherType};
use crate::proto::{Code, Decode, Reader, Request};
use crate::session::Session;
use crate::session::call::{Reply, encode_request};
use crate::session::packet::{Command, Packet};
use crate::watch::WatchCounts;
use crate::watch::on_reply::OnReply;
use crate::watch::registry::{WatchKind, WatchRegistration, WatchSink};
use crate::watch::{DropNotice, OneshotWatch, PersistentWatch};

impl Session {
    /// Sends one request and waits for its reply.
    pub(super) async fn call<R: Request>(&self, req: &R, on_reply: OnReply) -> Result<Reply> {
        let (call, reply) = encode_request(R::OP, req);
        let len = call.body_len();
        if len > self.inner.max_frame_len {
            return Err(Error::RequestTooLarge {
                len,
                max: self.inner.max_frame_len,
            });
        }
        self.send(Command::Request(Packet {
            call,
            op: R::OP,
            on_reply,
        }))?;
        reply.await.unwrap_or_else(|| Err(self.ended_error()))
    }

    /// Sends one request and decodes its response, mapping a server error to
    /// [`Error::Server`] for `path`.
    async fn request<R: Request>(
        &self,
        req: &R,
        path: &str,
        on_reply: OnReply,
    ) -> Result<R::Response> {
        let reply = self
            .call(req, on_reply)
            .instrument(tracing::debug_span!("zk_op", op = ?R::OP, path))
            .await?;
        decode_reply::<R::Response>(reply, path)
    }

    /// Refuses node data the client could not read back: a reply carries the data
    /// with a header and a stat in one frame, which must fit the frame limit.
    pub(super) fn check_data(&self, data: &[u8]) -> Result<()> {
        let max = max_data_len(self.inner.max_frame_len);
        validate_data_len(data.len(), max).map_err(|e| Error::DataTooLarge {
            len: e.len,
            max: e.max,
        })
    }

    /// Refuses an ACL no request could carry: an empty one (a node needs at least
    /// one entry), or one whose encoding alone is over the data limit.
    pub(super) fn check_acl(&self, acl: &[Acl]) -> Result<()> {
        if acl.is_empty() {
            return Err(Error::InvalidAcl("an ACL needs at least one entry".into()));
        }
        let len = encoded_acl_len(acl);
        let max = max_data_len(self.inner.max_frame_len);
        if len > max {
            return Err(Error::AclTooLarge {
                entries: acl.len(),
                len,
                max,
            });
        }
        Ok(())
    }

    /// Creates a node and returns its path (with the sequence number, for sequential
    /// modes) and its stat. Container and TTL modes use their own operations.
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<(String, Stat)> {
        if mode.is_ttl() {
            return Err(Error::InvalidArgument("TTL modes need create_ttl".into()));
        }
        self.create_any(path, data, acl, mode, None).await
    }

    /// Creates a node with a time to live (`PersistentWithTtl` or
    /// `PersistentSequentialWithTtl`). The server must run with extended types enabled.
    pub async fn create_ttl(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl: std::time::Duration,
    ) -> Result<(String, Stat)> {
        if !mode.is_ttl() {
            return Err(Error::InvalidArgument(format!(
                "{mode:?} is not a TTL mode"
            )));
        }
        let ttl_ms = ttl.as_millis() as i64;
        if ttl_ms <= 0 || ttl_ms > MAX_TTL_MS {
            return Err(Error::InvalidArgument(format!("ttl {ttl:?} out of range")));
        }
        self.create_any(path, data, acl, mode, Some(ttl_ms)).await
    }

    async fn create_any(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl: Option<i64>,
    ) -> Result<(String, Stat)> {
        let server_path = self.server_path(path, mode.is_sequential())?;
        self.check_data(data)?;
        self.check_acl(acl)?;
        let flags = mode.flag();
        let resp = match (mode, ttl) {
            (_, Some(ttl)) => {
                let req = CreateTtlRequest {
                    path: &server_path,
                    data,
                    acl,
                    flags,
                    ttl,
                };
                self.request(&req, path, OnReply::Nothing).await?
            }
            (CreateMode::Container, None) => {
                let req = CreateContainerRequest {
                    path: &server_path,
                    data,
                    acl,
                    flags,
                };
                self.request(&req, path, OnReply::Nothing).await?
            }
            _ => {
                let req = Create2Request {
                    path: &server_path,
                    data,
                    acl,
                    flags,
                };
                self.request(&req, path, OnReply::Nothing).await?
            }
        };
        Ok((self.client_path(resp.path), resp.stat))
    }

    /// Deletes a node if its version matches (`None`: any version).
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        let server_path = self.server_path(path, false)?;
        let req = DeleteRequest {
            path: &server_path,
            version: version.unwrap_or(-1),
        };
        self.request(&req, path, OnReply::Nothing).await
    }

    /// The node's stat, or `None` if it does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        let server_path = self.server_path(path, false)?;
        let req = ExistsRequest {
            path: &server_path,
            watch: false,
        };
        exists_result(self.request(&req, path, OnReply::Nothing).await)
    }

    /// Like [`Session::exists`], and leaves a watch that fires when the node is
    /// created, changed or deleted.
    pub async fn exists_watched(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)> {
        let server_path = self.server_path(path, false)?;
        let (on_reply, watch) = self.oneshot_watch(WatchKind::Exists, path);
        let req = ExistsRequest {
            path: &server_path,
            watch: true,
        };
        let stat = exists_result(self.request(&req, path, on_reply).await)?;
        Ok((stat, watch))
    }

    /// The node's data and stat.
    pub async fn get_data(&self, path: &str) -> Result<(Bytes, Stat)> {
        let server_path = self.server_path(path, false)?;
        let req = GetDataRequest {
            path: &server_path,
            watch: false,
        };
        let resp = self.request(&req, path, OnReply::Nothing).await?;
        Ok((resp.data, resp.stat))
    }

    /// Like [`Session::get_data`], and leaves a watch that fires when the data
    /// changes or the node is deleted.
    pub async fn get_data_watched(&self, path: &str) -> Result<(Bytes, Stat, OneshotWatch)> {
        let server_path = self.server_path(path, false)?;
        let (on_reply, watch) = self.oneshot_watch(WatchKind::Data, path);
        let req = GetDataRequest {
            path: &server_path,
            watch: true,
        };
        let resp = self.request(&req, path, on_reply).await?;
        Ok((resp.data, resp.stat, watch))
    }

    /// Sets the node's data if its version matches (`None`: any version).
    pub async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        let server_path = self.server_path(path, false)?;
        self.check_data(data)?;
        let req = SetDataRequest {
            path: &server_path,
            data,
            version: version.unwrap_or(-1),
        };
        Ok(self.request(&req, path, OnReply::Nothing).await?.stat)
    }

    /// The node's ACL and stat.
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let server_path = self.server_path(path, false)?;
        let resp = self
            .request(
                &GetAclRequest { path: &server_path },
                path,
                OnReply::Nothing,
            )
            .await?;
        Ok((resp.acl, resp.stat))
    }

    /// Sets the node's ACL if its ACL version matches (`None`: any version).
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        let server_path = self.server_path(path, false)?;
        self.check_acl(acl)?;
        let req = SetAclRequest {
            path: &server_path,
            acl,
            version: version.unwrap_or(-1),
        };
        Ok(self.request(&req, path, OnReply::Nothing).await?.stat)
    }

    /// The names of the node's children.
    pub async fn get_children(&self, path: &str) -> Result<Vec<String>> {
        let server_path = self.server_path(path, false)?;
        let req = GetChildrenRequest {
            path: &server_path,
            watch: false,
        };
        Ok(self.request(&req, path, OnReply::Nothing).await?.children)
    }

    /// The names of the node's children and the node's stat.
    pub async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        let server_path = self.server_path(path, false)?;
        let req = GetChildren2Request {
            path: &server_path,
            watch: false,
        };
        let resp = self.request(&req, path, OnReply::Nothing).await?;
        Ok((resp.children, resp.stat))
    }

    /// Like [`Session::get_children2`], and leaves a watch that fires when a child is
    /// added or removed or the node is deleted.
    pub async fn get_children_watched(
        &self,
        path: &str,
    ) -> Result<(Vec<String>, Stat, OneshotWatch)> {
        let server_path = self.server_path(path, false)?;
        let (on_reply, watch) = self.oneshot_watch(WatchKind::Child, path);
        let req = GetChildren2Request {
            path: &server_path,
            watch: true,
        };
        let resp = self.request(&req, path, on_reply).await?;
        Ok((resp.children, resp.stat, watch))
    }

    /// Waits until the server this session is connected to has caught up with the
    /// leader for `path`.
    pub async fn sync(&self, path: &str) -> Result<()> {
        let server_path = self.server_path(path, false)?;
        self.request(&SyncRequest { path: &server_path }, path, OnReply::Nothing)
            .await?;
        Ok(())
    }

    /// The paths of this session's ephemeral nodes under `prefix` ("/" for all).
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        let server_path = self.server_path(prefix, false)?;
        let req = GetEphemeralsRequest {
            prefix_path: &server_path,
        };
        let resp = self.request(&req, prefix, OnReply::Nothing).await?;
        Ok(resp
            .ephemerals
            .into_iter()
            .map(|p| self.client_path(p))
            .collect())
    }

    /// The number of all descendants of `path`.
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        let server_path = self.server_path(path, false)?;
        let req = GetAllChildrenNumberRequest { path: &server_path };
        Ok(self.request(&req, path, OnReply::Nothing).await?.total)
    }

    /// Adds a persistent (optionally recursive) watch on `path`; its events arrive on
    /// the returned stream until it is removed or the session ends.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatch> {
        let server_path = self.server_path(path, false)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let kind = match mode {
            AddWatchMode::Persistent => WatchKind::Persistent,
            AddWatchMode::PersistentRecursive => WatchKind::PersistentRecursive,
        };
        let reg = WatchRegistration {
            kind,
            path: path.to_string(),
            sink: WatchSink::Stream(tx),
        };
        let req = AddWatchRequest {
            path: &server_path,
            mode,
        };
        self.request(&req, path, OnReply::Register(reg)).await?;
        Ok(PersistentWatch::new(
            rx,
            path.to_string(),
            DropNotice::new(&self.inner.tx),
        ))
    }

    /// Removes this session's watches of `watcher_type` on `path`, on the server and
    /// here; each removed watch gets a "watch removed" event.
    pub async fn remove_watches(&self, path: &str, watcher_type: WatcherType) -> Result<()> {
        let server_path = self.server_path(path, false)?;
        let (data, child, persistent) = match watcher_type {
            WatcherType::Data => (true, false, false),
            WatcherType::Children => (false, true, false),
            WatcherType::Persistent | WatcherType::PersistentRecursive => (false, false, true),
            WatcherType::Any => (true, true, true),
        };
        let on_reply = OnReply::RemoveLocal {
            path: path.to_string(),
            data,
            child,
            persistent,
        };
        let req = RemoveWatchesRequest {
            path: &server_path,
            watcher_type,
        };
        self.request(&req, path, on_reply).await
    }

    /// Asks the server whether this session has watches of `watcher_type` on `path`
    /// (NoWatcher if not).
    pub async fn check_watches(&self, path: &str, watcher_type: WatcherType) -> Result<()> {
        let server_path = self.server_path(path, false)?;
        let req = CheckWatchesRequest {
            path: &server_path,
            watcher_type,
        };
        self.request(&req, path, OnReply::Nothing).await
    }

    /// Who the server thinks this session is: one entry per authenticated identity.
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        Ok(self
            .request(&WhoAmIRequest, "/", OnReply::Nothing)
            .await?
            .client_info)
    }

    /// How many paths this session's local watch tables hold, once every command
    /// sent before this call (a dropped watch's notice included) has been handled.
    /// A watch dropped before it fired is forgotten here, and its server watch
    /// removed, unless another local watch on its path still needs it.
    pub async fn watch_counts(&self) -> Result<WatchCounts> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::WatchCounts { reply })?;
        rx.await.map_err(|_| self.ended_error())
    }
}

/// The largest node data for a frame limit of `max_frame_len`: the limit less the
/// room [`DEFAULT_MAX_DATA_LEN`] leaves for headers, path, ACL and stat.
fn max_data_len(max_frame_len: usize) -> usize {
    max_frame_len.saturating_sub(DEFAULT_MAX_FRAME_LEN - DEFAULT_MAX_DATA_LEN)
}

/// The longest TTL the server accepts (its TTL field has 40 bits of milliseconds).
/// The bytes an ACL takes in a request: a count, then per entry the permissions
/// and two length-prefixed strings (scheme and id).
fn encoded_acl_len(acl: &[Acl]) -> usize {
    acl.iter().fold(4usize, |n, a| {
        n.saturating_add(12 + a.id.scheme.len() + a.id.id.len())
    })
}

const MAX_TTL_MS: i64 = (1 << 40) - 1;

pub(super) fn decode_reply<T: Decode>(reply: Reply, path: &str) -> Result<T> {
    if reply.code != Code::Ok {
        return Err(Error::server(reply.code, Some(path.to_string())));
    }
    Ok(T::decode(&mut Reader::new(reply.body))?)
}

fn exists_result(r: Result<ExistsResponse>) -> Result<Option<Stat>> {
    match r {
        Ok(resp) => Ok(Some(resp.stat)),
        Err(Error::Server {
            code: Code::NoNode, ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Session {
    /// A one-shot watch of `kind` on `path` (client path): the rule that adds it when
    /// the reply comes, and the caller's half.
    fn oneshot_watch(&self, kind: WatchKind, path: &str) -> (OnReply, OneshotWatch) {
        let (tx, rx) = oneshot::channel();
        let reg = WatchRegistration {
            kind,
            path: path.to_string(),
            sink: WatchSink::Once(tx),
        };
        let notice = DropNotice::new(&self.inner.tx);
        (
            OnReply::Register(reg),
            OneshotWatch::new(rx, path.to_string(), notice),
        )
    }
}
