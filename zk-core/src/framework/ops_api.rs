//! The operations as methods of [`Client`]: each returns a builder to configure and await.

use crate::framework::Client;
use crate::framework::ops::acl::SetAclBuilder;
use crate::framework::ops::children::GetChildrenBuilder;
use crate::framework::ops::create::CreateBuilder;
use crate::framework::ops::data::{GetDataBuilder, SetDataBuilder};
use crate::framework::ops::delete::DeleteBuilder;
use crate::framework::ops::exists::ExistsBuilder;
use crate::framework::ops::transaction::TransactionBuilder;
use crate::framework::ops::watch::AddWatchBuilder;
use crate::proto::{Acl, AddWatchMode};

impl Client {
    /// Creates a node: `client.create("/a", b"data").mode(..).protected().await`.
    pub fn create<'a>(&'a self, path: &'a str, data: &'a [u8]) -> CreateBuilder<'a> {
        CreateBuilder::new(self, path, data)
    }

    /// Reads a node's data and stat; `.watched()` also sets a watch.
    pub fn get_data<'a>(&'a self, path: &'a str) -> GetDataBuilder<'a> {
        GetDataBuilder::new(self, path)
    }

    /// Sets a node's data; `.version(v)` and `.idempotent()` refine it.
    pub fn set_data<'a>(&'a self, path: &'a str, data: &'a [u8]) -> SetDataBuilder<'a> {
        SetDataBuilder::new(self, path, data)
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
}
