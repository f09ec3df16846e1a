//! Letting the server catch up before a read that decides what an earlier write did.

use zk_core::{Client, Code, Error};

/// `sync` on `path`, so that the server the client is on has applied every write the
/// leader accepted (our own, whose reply was lost, included) before the next read.
/// A missing path needs no sync.
pub(crate) async fn sync_quietly(client: &Client, path: &str) -> Result<(), Error> {
    match client.sync(path).await {
        Err(e) if e.code() == Some(Code::NoNode) => Ok(()),
        other => other,
    }
}
