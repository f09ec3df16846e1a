//! The framework's operations: the methods of [`Client`] that start them (here),
//! and one builder per operation (one file each), awaited directly (`IntoFuture`).
//! Each runs inside the client's retry policy, through `Client::with_retry`.

pub mod acl;
pub mod children;
pub mod create;
pub mod data;
pub mod delete;
pub mod exists;
pub mod multi_read;
pub mod protected;
pub mod transaction;
pub mod watch;

use std::future::Future;
use std::pin::Pin;

use self::acl::SetAclBuilder;
use self::children::GetChildrenBuilder;
use self::create::CreateBuilder;
use self::data::{GetDataBuilder, SetDataBuilder};
use self::delete::DeleteBuilder;
use self::exists::ExistsBuilder;
use self::multi_read::MultiReadBuilder;
use self::transaction::TransactionBuilder;
use self::watch::AddWatchBuilder;
use crate::framework::Client;
use crate::proto::{Acl, AddWatchMode};

/// The future every builder turns into.
pub type OpFuture<'a, T> = Pin<Box<dyn Future<Output = crate::Result<T>> + Send + 'a>>;

impl Client {
    /// Creates a node: `client.create("/a", b"data").mode(..).protected().await`. The
    /// data is anything that reads as bytes (`b"..."`, `&Vec<u8>`, `"text"`, `&Bytes`).
    pub fn create<'a>(
        &'a self,
        path: &'a str,
        data: &'a (impl AsRef<[u8]> + ?Sized),
    ) -> CreateBuilder<'a> {
        CreateBuilder::new(self, path, data.as_ref())
    }

    /// Reads a node's data and stat; `.watched()` also sets a watch.
    pub fn get_data<'a>(&'a self, path: &'a str) -> GetDataBuilder<'a> {
        GetDataBuilder::new(self, path)
    }

    /// Sets a node's data; `.version(v)` and `.idempotent()` refine it. The data is
    /// anything that reads as bytes, as for [`create`](Client::create).
    pub fn set_data<'a>(
        &'a self,
        path: &'a str,
        data: &'a (impl AsRef<[u8]> + ?Sized),
    ) -> SetDataBuilder<'a> {
        SetDataBuilder::new(self, path, data.as_ref())
    }

    /// The node's stat, or `None`; `.watched()` also sets a watch.
    pub fn exists<'a>(&'a self, path: &'a str) -> ExistsBuilder<'a> {
        ExistsBuilder::new(self, path)
    }

    /// The names of a node's children; `.with_stat()` or `.watched()` for more.
    pub fn get_children<'a>(&'a self, path: &'a str) -> GetChildrenBuilder<'a> {
        GetChildrenBuilder::new(self, path)
    }

    /// Deletes a node; `.guaranteed()`, `.quietly()`, `.version(v)` and
    /// `.deleting_children_if_needed()` refine it.
    pub fn delete<'a>(&'a self, path: &'a str) -> DeleteBuilder<'a> {
        DeleteBuilder::new(self, path)
    }

    /// Sets a node's ACL.
    pub fn set_acl<'a>(&'a self, path: &'a str, acl: Vec<Acl>) -> SetAclBuilder<'a> {
        SetAclBuilder::new(self, path, acl)
    }

    /// Adds a persistent (optionally recursive) watch; await it for a stream of events.
    ///
    /// ZooKeeper servers before 3.9 keep one watch mode per session and path
    /// (ZOOKEEPER-4466): a persistent watch added on a path where the same client
    /// holds a one-shot watch (a `.watched()` read, or a cache's) replaces that one-shot
    /// watch, which then never fires. On those servers, don't mix the two kinds on one
    /// path within one client; the recipes in zk-recipes only use one-shot watches.
    pub fn watch<'a>(&'a self, path: &'a str, mode: AddWatchMode) -> AddWatchBuilder<'a> {
        AddWatchBuilder::new(self, path, mode)
    }

    /// Starts a transaction: `client.transaction().check("/a", 3).create("/b", b"").await`.
    pub fn transaction(&self) -> TransactionBuilder<'_> {
        TransactionBuilder::new(self)
    }

    /// Starts a batch of reads answered in one reply (ZooKeeper 3.6+):
    /// `client.multi_read().get_data("/a").get_children("/b").await`.
    pub fn multi_read(&self) -> MultiReadBuilder<'_> {
        MultiReadBuilder::new(self)
    }
}
