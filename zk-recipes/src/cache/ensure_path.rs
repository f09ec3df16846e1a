//! Creating a cache's path when asked to (`create_parents(true)`), as Curator's
//! caches do with their ensure-path helper: the node and its missing parents become
//! container nodes, and a node that already exists is left as it is.

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
        Err(e) => Err(e),
    }
}
