//! The namespace: a path prefix the framework adds to every path and removes from
//! every path it returns, created on first use as Curator does.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::framework::acl_provider::AclProvider;
use crate::proto::path;
use crate::proto::{Code, CreateMode};
use crate::session::Session;

/// A client's namespace (possibly none).
#[derive(Debug)]
pub(crate) struct Namespace {
    /// `/ns`, or `None`.
    prefix: Option<String>,
    ready: AtomicBool,
}

impl Namespace {
    pub(crate) fn new(ns: Option<String>) -> Self {
        let prefix = ns.map(|n| format!("/{n}"));
        let ready = AtomicBool::new(prefix.is_none());
        Namespace { prefix, ready }
    }

    /// Checks a client path and returns the path the session sees.
    pub(crate) fn apply(&self, client_path: &str, sequential: bool) -> Result<String> {
        path::validate_path(client_path, sequential)?;
        Ok(match &self.prefix {
            None => client_path.to_string(),
            Some(p) if client_path == "/" => p.clone(),
            Some(p) => format!("{p}{client_path}"),
        })
    }

    /// The length of the prefix (0 without a namespace).
    pub(crate) fn len(&self) -> usize {
        self.prefix.as_ref().map_or(0, String::len)
    }

    /// Turns a session path back into a client path.
    pub(crate) fn strip(&self, session_path: &str) -> String {
        match &self.prefix {
            None => session_path.to_string(),
            Some(p) => match session_path.strip_prefix(p.as_str()) {
                Some("") => "/".to_string(),
                Some(rest) if rest.starts_with('/') => rest.to_string(),
                _ => session_path.to_string(),
            },
        }
    }

    /// An error with the path it names turned back into a client path.
    pub(crate) fn strip_error(&self, e: Error) -> Error {
        match e {
            Error::Server {
                code,
                path: Some(p),
            } if self.prefix.is_some() => Error::Server {
                code,
                path: Some(self.strip(&p)),
            },
            other => other,
        }
    }

    /// Creates the namespace node (and its parents) once per client, with the ACLs
    /// `acls` gives them.
    pub(crate) async fn ensure(&self, session: &Session, acls: &dyn AclProvider) -> Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(p) = &self.prefix {
            make_dirs(session, p, false, acls).await?;
        }
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Forgets that the namespace exists, so the next operation checks again.
    pub(crate) fn reset(&self) {
        if self.prefix.is_some() {
            self.ready.store(false, Ordering::Release);
        }
    }
}

/// Creates `session_path` and every missing ancestor as empty nodes (containers if
/// asked and the server supports them), as Curator's `ZKPaths.mkdirs` does: each
/// level is checked with exists first, so an existing node under a restrictive ACL
/// is not a NoAuth. Each node gets the ACL `acls` gives its path.
pub(crate) async fn make_dirs(
    session: &Session,
    session_path: &str,
    as_containers: bool,
    acls: &dyn AclProvider,
) -> Result<()> {
    let mut at = 0;
    while at < session_path.len() {
        let next = session_path[at + 1..]
            .find('/')
            .map(|i| at + 1 + i)
            .unwrap_or(session_path.len());
        let prefix = &session_path[..next];
        at = next;
        if session.exists(prefix).await?.is_some() {
            continue;
        }
        let acl = acls.acl_for_path(prefix);
        let mode = if as_containers {
            CreateMode::Container
        } else {
            CreateMode::Persistent
        };
        match session.create(prefix, b"", &acl, mode).await {
            Ok(_) => {}
            Err(Error::Server {
                code: Code::NodeExists,
                ..
            }) => {}
            Err(Error::Server {
                code: Code::Unimplemented,
                ..
            }) if as_containers => {
                match session
                    .create(prefix, b"", &acl, CreateMode::Persistent)
                    .await
                {
                    Ok(_)
                    | Err(Error::Server {
                        code: Code::NodeExists,
                        ..
                    }) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_gain_and_lose_the_prefix() {
        let ns = Namespace::new(Some("app/x".into()));
        assert_eq!(ns.apply("/a/b", false).unwrap(), "/app/x/a/b");
        assert_eq!(ns.apply("/", false).unwrap(), "/app/x");
        assert_eq!(ns.strip("/app/x/a/b"), "/a/b");
        assert_eq!(ns.strip("/app/x"), "/");
        assert_eq!(ns.strip("/app/xy"), "/app/xy");
        assert!(ns.apply("a", false).is_err());
        assert!(ns.apply("/a/", false).is_err());
        assert_eq!(ns.apply("/q/", true).unwrap(), "/app/x/q/");
    }

    #[test]
    fn no_namespace_is_identity() {
        let ns = Namespace::new(None);
        assert_eq!(ns.apply("/a", false).unwrap(), "/a");
        assert_eq!(ns.strip("/a"), "/a");
    }
}
