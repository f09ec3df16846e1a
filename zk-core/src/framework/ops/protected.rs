//! Protected names: `_c_<uuid>-` before a node's name, so a create retried after
//! ConnectionLoss can find the node its first attempt may have made.

use crate::error::{Error, Result};
use crate::proto::{Code, path};
use crate::session::Session;

/// Curator's prefix for protected names.
pub const PROTECTED_PREFIX: &str = "_c_";

/// The name prefix for protection id `id`: `_c_<id>-`.
pub fn protected_prefix(id: &str) -> String {
    format!("{PROTECTED_PREFIX}{id}-")
}

/// `path` with its last segment protected by `id`: `/a/b-` becomes `/a/_c_<id>-b-`.
pub fn protected_path(path: &str, id: &str) -> String {
    let (parent, name) = split(path);
    let prefix = protected_prefix(id);
    if parent == "/" {
        format!("/{prefix}{name}")
    } else {
        format!("{parent}/{prefix}{name}")
    }
}

/// A node name without its protection prefix, if it has one (Curator's
/// `ZKPaths.fixForNamespace`-side helper `adjustedNodeName`): `_c_<36-char uuid>-x`
/// gives `x`.
pub fn strip_protected_prefix(name: &str) -> &str {
    match protection_prefix_of(name) {
        Some(prefix) => &name[prefix.len()..],
        None => name,
    }
}

/// The protection prefix a node name starts with (`_c_<36-char uuid>-`), if any.
/// Only one create ever makes names with a given prefix.
pub fn protection_prefix_of(name: &str) -> Option<&str> {
    // `_c_` + 36 uuid chars + `-`
    const LEN: usize = 3 + 36 + 1;
    (name.starts_with(PROTECTED_PREFIX) && name.len() >= LEN && name.as_bytes()[LEN - 1] == b'-')
        .then(|| &name[..LEN])
}

/// Splits `/a/b` into (`/a`, `b`); the parent of a top-level node is `/`. A path with
/// a trailing slash (sequential create of an unnamed node) has an empty name.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    }
}

/// Looks for the node a protected create with `id` made under the parent of
/// `protected`. For ephemeral nodes, a node owned by another (expired) session is
/// deleted and not returned, so the caller creates a fresh one for its own session.
///
/// The lookup starts with a `sync` of the parent, because it decides what an
/// earlier attempt did, and that attempt's reply was lost: the client's last-seen
/// zxid does not cover it, so the server it reconnected to may not have applied
/// it yet and would answer without the node (and the retry would make a second
/// one). After the sync the server has applied every write the leader had
/// accepted, and any write of the old connection the leader had not yet accepted
/// is refused as SessionMoved (the reconnection moved the session's owner), so
/// the listing is the final word. It costs one round trip, on this retry path only.
pub(crate) async fn find_protected_node(
    session: &Session,
    protected: &str,
    id: &str,
    ephemeral: bool,
) -> Result<Option<(String, crate::proto::Stat)>> {
    let (parent, _) = split(protected);
    let prefix = protected_prefix(id);
    match session.sync(parent).await {
        Ok(())
        | Err(Error::Server {
            code: Code::NoNode, ..
        }) => {}
        Err(e) => return Err(e),
    }
    let children = match session.get_children(parent).await {
        Ok(c) => c,
        Err(Error::Server {
            code: Code::NoNode, ..
        }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(name) = children.into_iter().find(|c| c.starts_with(&prefix)) else {
        return Ok(None);
    };
    let found = path::join(parent, &name);
    let Some(stat) = session.exists(&found).await? else {
        return Ok(None);
    };
    if ephemeral && stat.ephemeral_owner != session.session_id() {
        tracing::info!(path = %found, "protected node belongs to an old session; replacing it");
        match session.delete(&found, None).await {
            Ok(())
            | Err(Error::Server {
                code: Code::NoNode, ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some((found, stat)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_names_follow_curator() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(
            protected_path("/workers/w-", id),
            format!("/workers/_c_{id}-w-")
        );
        assert_eq!(protected_path("/top", id), format!("/_c_{id}-top"));
        assert_eq!(protected_path("/e/", id), format!("/e/_c_{id}-"));
        assert_eq!(
            strip_protected_prefix(&format!("_c_{id}-latch-0000000001")),
            "latch-0000000001"
        );
        assert_eq!(
            strip_protected_prefix("latch-0000000001"),
            "latch-0000000001"
        );
        assert_eq!(strip_protected_prefix("_c_short-x"), "_c_short-x");
    }
}
