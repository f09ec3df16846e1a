//! Creating a cache's path when asked to (`create_parents(true)`), as Curator's
//! caches do with their ensure-path helper: the node and its missing parents become
//! container nodes, and a node that already exists is left as it is, also when its
//! parent's ACL would not let this client create it (the server checks that before it
//! looks for the node, so the create says NoAuth; Curator looks with exists first).

use zk_core::{Client, Code, CreateMode};

/// Creates `path` and its missing parents as containers; an existing node is fine.
pub(crate) async fn ensure_path(client: &Client, path: &str) -> zk_core::Result<()> {
    if path == "/" {
        return Ok(());
    }
    match client
        .create(path, b"")
        .mode(CreateMode::Container)
        .create_parent_containers()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(Code::NodeExists) => Ok(()),
        Err(e) if e.code() == Some(Code::NoAuth) => exists_or(client, path, e).await,
        Err(e) => Err(e),
    }
}

/// After a create refused with NoAuth: fine if the node is there, else that error.
/// Only on this path, so that the usual create costs no extra round trip.
pub(crate) async fn exists_or(
    client: &Client,
    path: &str,
    refused: zk_core::Error,
) -> zk_core::Result<()> {
    match client.exists(path).await? {
        Some(_) => Ok(()),
        None => Err(refused),
    }
}
