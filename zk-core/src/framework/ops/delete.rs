//! `client.delete(path)`: versioned, quiet, recursive and guaranteed deletes.

use std::future::IntoFuture;

use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::framework::ops::create::BACKGROUND_BACKOFF;
use crate::proto::{Code, path};
use crate::session::Session;

/// Builds a delete.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct DeleteBuilder<'a> {
    client: &'a Client,
    path: &'a str,
    version: Option<i32>,
    guaranteed: bool,
    quietly: bool,
    children: bool,
}

impl<'a> DeleteBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str) -> Self {
        DeleteBuilder {
            client,
            path,
            version: None,
            guaranteed: false,
            quietly: false,
            children: false,
        }
    }

    /// Only if the node's data version is `version`.
    pub fn version(mut self, version: i32) -> Self {
        self.version = Some(version);
        self
    }

    /// If the delete fails with a retryable error (its outcome unknown), keep
    /// trying in the background while the client is open. The caller still gets
    /// that first error. It decides by deleting again, never by reading: a delete
    /// goes through the leader, so its NoNode is the final word even from a server
    /// that lags, and no `sync` is needed.
    pub fn guaranteed(mut self) -> Self {
        self.guaranteed = true;
        self
    }

    /// A missing node is not an error.
    pub fn quietly(mut self) -> Self {
        self.quietly = true;
        self
    }

    /// Deletes the node's descendants first.
    pub fn deleting_children_if_needed(mut self) -> Self {
        self.children = true;
        self
    }

    /// Starts the delete as a guaranteed one on the client's background tasks and
    /// returns at once, for code that cannot wait, a `Drop` above all. It keeps
    /// trying while the client is open, as [`DeleteBuilder::guaranteed`] does after
    /// its first attempt; a missing node counts as deleted. Fails only on an
    /// invalid path, sending nothing.
    pub fn in_background(self) -> Result<()> {
        let full = self.client.inner.namespace.apply(self.path, false)?;
        delete_in_background(self.client, full, self.version, self.children);
        Ok(())
    }
}

impl<'a> IntoFuture for DeleteBuilder<'a> {
    type Output = Result<()>;
    type IntoFuture = OpFuture<'a, ()>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let full = self.client.inner.namespace.apply(self.path, false)?;
            let (full_ref, version, children) = (&full, self.version, self.children);
            let result = self
                .client
                .with_retry(|s| async move { delete_once(&s, full_ref, version, children).await })
                .await;
            match result {
                Err(Error::Server {
                    code: Code::NoNode, ..
                }) if self.quietly => Ok(()),
                Err(e) if self.guaranteed && e.is_retryable() => {
                    delete_in_background(self.client, full, version, children);
                    Err(e)
                }
                other => other,
            }
        })
    }
}

/// One delete, recursing into children first when asked.
async fn delete_once(s: &Session, full: &str, version: Option<i32>, children: bool) -> Result<()> {
    match s.delete(full, version).await {
        Err(Error::Server {
            code: Code::NotEmpty,
            ..
        }) if children => {
            delete_children(s, full).await?;
            s.delete(full, version).await
        }
        other => other,
    }
}

/// Deletes every descendant of `full`, deepest first; nodes that vanish meanwhile
/// are fine.
async fn delete_children(s: &Session, full: &str) -> Result<()> {
    let mut stack = vec![(full.to_string(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            if node != full {
                match s.delete(&node, None).await {
                    Ok(())
                    | Err(Error::Server {
                        code: Code::NoNode, ..
                    }) => {}
                    Err(e) => return Err(e),
                }
            }
            continue;
        }
        let kids = match s.get_children(&node).await {
            Ok(k) => k,
            Err(Error::Server {
                code: Code::NoNode, ..
            }) => continue,
            Err(e) => return Err(e),
        };
        stack.push((node.clone(), true));
        for k in kids {
            stack.push((path::join(&node, &k), false));
        }
    }
    Ok(())
}

/// The background half of a guaranteed delete (and all of a delete started with
/// [`DeleteBuilder::in_background`]): retries until the node is gone,
/// a non-retryable error says it can't be, or the client closes.
fn delete_in_background(client: &Client, full: String, version: Option<i32>, children: bool) {
    let weak = client.downgrade();
    info!(path = %full, "guaranteed delete continues in the background");
    client.spawn_background(async move {
        for attempt in 0u32.. {
            let Some(client) = weak.upgrade() else { return };
            let r = async {
                let s = client.connected_session().await?;
                delete_once(&s, &full, version, children).await
            }
            .await;
            match r {
                Ok(())
                | Err(Error::Server {
                    code: Code::NoNode, ..
                }) => {
                    info!(path = %full, "guaranteed delete done");
                    return;
                }
                Err(e) if e.is_retryable() => {
                    drop(client);
                    tokio::time::sleep(BACKGROUND_BACKOFF.delay_for(attempt)).await;
                }
                Err(e) => {
                    warn!(path = %full, error = %e, "guaranteed delete gave up");
                    return;
                }
            }
        }
    });
}
