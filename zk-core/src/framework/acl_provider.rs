//! [`AclProvider`]: the ACL of a node created without one, what Curator's
//! `ACLProvider` is. The framework asks it for every create that sets no ACL, for
//! each parent that `create_parents` makes, for the namespace node, and for a
//! transaction's creates; recipes create through the framework, so they follow it.

use std::fmt;

use crate::proto::Acl;

/// Chooses the ACL of a node created without one. Install one with
/// [`ClientBuilder::acl_provider`](crate::ClientBuilder::acl_provider); the default,
/// [`DefaultAclProvider`], opens every node to everyone, as Curator's does.
///
/// Paths are the framework's full paths: the namespace included, a connect string's
/// chroot not (as Curator passes them).
///
/// ```
/// use zk_core::{Acl, AclProvider, Id, Perms};
///
/// /// Anyone may read; only the service's own certificate may change anything.
/// #[derive(Debug)]
/// struct ServiceOwned;
///
/// impl AclProvider for ServiceOwned {
///     fn default_acl(&self) -> Vec<Acl> {
///         vec![
///             Acl::new(Perms::ALL, Id::new("x509", "CN=api,O=example")),
///             Acl::new(Perms::READ, Id::anyone()),
///         ]
///     }
///
///     fn acl_for_path(&self, path: &str) -> Vec<Acl> {
///         if path.starts_with("/public/") {
///             vec![Acl::open_unsafe()]
///         } else {
///             self.default_acl()
///         }
///     }
/// }
/// # assert_eq!(ServiceOwned.acl_for_path("/public/x"), vec![Acl::open_unsafe()]);
/// ```
pub trait AclProvider: Send + Sync + fmt::Debug {
    /// The ACL of a node the provider has nothing particular for.
    fn default_acl(&self) -> Vec<Acl>;

    /// The ACL of a new node at `path`; by default [`default_acl`](Self::default_acl).
    fn acl_for_path(&self, path: &str) -> Vec<Acl> {
        let _ = path;
        self.default_acl()
    }
}

/// Every node open to everyone (`world:anyone`, all permissions): Curator's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultAclProvider;

impl AclProvider for DefaultAclProvider {
    fn default_acl(&self) -> Vec<Acl> {
        vec![Acl::open_unsafe()]
    }
}

/// The same ACL for every node.
///
/// ```
/// use zk_core::{Acl, AclProvider, FixedAclProvider};
///
/// let provider = FixedAclProvider::new(vec![Acl::creator_all()]);
/// assert_eq!(provider.acl_for_path("/any"), vec![Acl::creator_all()]);
/// ```
#[derive(Debug, Clone)]
pub struct FixedAclProvider {
    acl: Vec<Acl>,
}

impl FixedAclProvider {
    /// A provider that gives every node `acl`.
    pub fn new(acl: Vec<Acl>) -> Self {
        FixedAclProvider { acl }
    }
}

impl AclProvider for FixedAclProvider {
    fn default_acl(&self) -> Vec<Acl> {
        self.acl.clone()
    }
}
