//! Deleting a participant's own election node when the recipe closes or is dropped,
//! the same way for the latch and the selector.

use tracing::warn;
use zk_core::Client;

/// Deletes `path` at close: a guaranteed delete, so after a ConnectionLoss it goes on
/// in the background. A closed client is no error: closing it ended the session, and
/// the ephemeral node went with it.
pub(crate) async fn delete_at_close(client: &Client, path: &str) -> zk_core::Result<()> {
    match client.delete(path).guaranteed().quietly().await {
        Ok(()) | Err(zk_core::Error::Closed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Starts the guaranteed delete of `path` from a `Drop` (which cannot wait), on the
/// current tokio runtime; without one, the node goes with the session. `recipe` names
/// who dropped it, for the log.
pub(crate) fn delete_after_drop(client: &Client, path: String, recipe: &'static str) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let client = client.clone();
    runtime.spawn(async move {
        if let Err(e) = client.delete(&path).guaranteed().quietly().await {
            warn!(%path, error = %e, "dropped {recipe}: could not delete its node now");
        }
    });
}
