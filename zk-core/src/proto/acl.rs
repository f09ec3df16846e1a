//! Access control: permission bits, identities and ACL entries (ZooDefs.Perms, ZooDefs.Ids).

use bytes::{BufMut, BytesMut};

use super::digest;
use super::jute::{Decode, DecodeError, Encode, Reader, write_string};

/// A set of permissions on a znode, as a bit mask.
///
/// ```
/// use zk_core::proto::Perms;
/// let rw = Perms::READ | Perms::WRITE;
/// assert!(rw.contains(Perms::READ));
/// assert!(!rw.contains(Perms::ADMIN));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Perms(pub u32);

impl Perms {
    /// No permission.
    pub const NONE: Perms = Perms(0);
    /// Read the node's data and list its children.
    pub const READ: Perms = Perms(1);
    /// Set the node's data.
    pub const WRITE: Perms = Perms(2);
    /// Create children.
    pub const CREATE: Perms = Perms(4);
    /// Delete children.
    pub const DELETE: Perms = Perms(8);
    /// Set the node's ACL.
    pub const ADMIN: Perms = Perms(16);
    /// Every permission.
    pub const ALL: Perms = Perms(31);

    /// The raw bit mask.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Perms {
    type Output = Perms;
    fn bitor(self, rhs: Perms) -> Perms {
        Perms(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Perms {
    fn bitor_assign(&mut self, rhs: Perms) {
        self.0 |= rhs.0;
    }
}

impl std::ops::BitAnd for Perms {
    type Output = Perms;
    fn bitand(self, rhs: Perms) -> Perms {
        Perms(self.0 & rhs.0)
    }
}

/// An identity under an authentication scheme, e.g. `world:anyone` or `digest:bob:<hash>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id {
    /// The scheme: `world`, `auth`, `digest`, `ip`, `sasl`, `x509`, ...
    pub scheme: String,
    /// The identity within the scheme.
    pub id: String,
}

impl Id {
    /// An identity from its scheme and id.
    pub fn new(scheme: impl Into<String>, id: impl Into<String>) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    /// `world:anyone`: every client.
    pub fn anyone() -> Id {
        Id::new("world", "anyone")
    }

    /// `auth:` (empty id): whichever identities the creating session has authenticated.
    pub fn authenticated() -> Id {
        Id::new("auth", "")
    }
}

impl Encode for Id {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, &self.scheme);
        write_string(buf, &self.id);
    }
}

impl Decode for Id {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Id {
            scheme: r.read_string("id.scheme")?,
            id: r.read_string("id.id")?,
        })
    }
}

/// One ACL entry: the permissions granted to one identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// What the identity may do.
    pub perms: Perms,
    /// Who the entry applies to.
    pub id: Id,
}

impl Acl {
    /// Smallest encoding of an ACL entry: perms plus two empty strings.
    pub const MIN_ENCODED_LEN: usize = 4 + 4 + 4;

    /// An entry granting `perms` to `id`.
    pub fn new(perms: Perms, id: Id) -> Acl {
        Acl { perms, id }
    }

    /// Every permission for everyone (`world:anyone`, ALL): ZooKeeper's `OPEN_ACL_UNSAFE`.
    pub fn open_unsafe() -> Acl {
        Acl::new(Perms::ALL, Id::anyone())
    }

    /// Every permission for the creator's authenticated identities (`auth:`, ALL):
    /// ZooKeeper's `CREATOR_ALL_ACL`. The server refuses it from a session with no auth.
    pub fn creator_all() -> Acl {
        Acl::new(Perms::ALL, Id::authenticated())
    }

    /// Read-only for everyone (`world:anyone`, READ): ZooKeeper's `READ_ACL_UNSAFE`.
    pub fn read_unsafe() -> Acl {
        Acl::new(Perms::READ, Id::anyone())
    }

    /// Every permission for one digest user. `password_hash` is the id part as
    /// [`digest_id`] computes it, i.e. `user:base64(sha1(user:password))`.
    ///
    /// ```
    /// use zk_core::proto::{Acl, digest_id};
    /// let acl = Acl::digest("bob", &digest_id("bob", "secret"));
    /// assert_eq!(acl.id.scheme, "digest");
    /// assert!(acl.id.id.starts_with("bob:"));
    /// ```
    pub fn digest(user: &str, password_hash: &str) -> Acl {
        // Accept both the full `user:hash` form and a bare hash.
        let id = if password_hash.contains(':') {
            password_hash.to_string()
        } else {
            format!("{user}:{password_hash}")
        };
        Acl::new(Perms::ALL, Id::new("digest", id))
    }

    /// `[Acl::open_unsafe()]` as a vector, the usual default for a create.
    pub fn open_unsafe_list() -> Vec<Acl> {
        vec![Acl::open_unsafe()]
    }
}

impl Encode for Acl {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.perms.0 as i32);
        self.id.encode(buf);
    }
}

impl Decode for Acl {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let perms = Perms(r.read_i32("acl.perms")? as u32);
        let id = Id::decode(r)?;
        Ok(Acl { perms, id })
    }
}

/// Writes a jute `vector<ACL>`.
pub(crate) fn write_acl_vec(buf: &mut BytesMut, acl: &[Acl]) {
    super::jute::write_vec(buf, acl, |b, a| a.encode(b));
}

/// Reads a jute `vector<ACL>`.
pub(crate) fn read_acl_vec(r: &mut Reader, field: &'static str) -> Result<Vec<Acl>, DecodeError> {
    r.read_vec(field, Acl::MIN_ENCODED_LEN, Acl::decode)
}

/// The id of a `digest` identity: `user:base64(sha1("user:password"))`, exactly as
/// ZooKeeper's DigestAuthenticationProvider computes it.
///
/// The session authenticates with `addAuth("digest", "user:password")`; nodes are
/// protected with `Acl::digest(user, &digest_id(user, password))`.
///
/// ```
/// assert_eq!(
///     zk_core::proto::digest_id("super", "superpw"),
///     "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="
/// );
/// ```
pub fn digest_id(user: &str, password: &str) -> String {
    let hash = digest::sha1(format!("{user}:{password}").as_bytes());
    format!("{user}:{}", digest::base64(&hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn digest_id_matches_zookeepers_generate_digest() {
        // Both values printed by ZooKeeper 3.8's DigestAuthenticationProvider main().
        assert_eq!(
            digest_id("super", "superpw"),
            "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="
        );
        // The user ends at the first ':'; the password may hold more.
        assert_eq!(digest_id("bob", "p:w"), "bob:c9E8gjtVdLtMPTfBBukKZD37tig=");
    }

    #[test]
    fn well_known_acls_have_zookeepers_values() {
        assert_eq!(Acl::open_unsafe().perms.bits(), 31);
        assert_eq!(Acl::open_unsafe().id, Id::new("world", "anyone"));
        assert_eq!(Acl::creator_all().id, Id::new("auth", ""));
        assert_eq!(Acl::read_unsafe().perms, Perms::READ);
        let d = Acl::digest("bob", "HASH");
        assert_eq!(d.id, Id::new("digest", "bob:HASH"));
        assert_eq!(Acl::digest("bob", "bob:HASH"), d);
    }

    #[test]
    fn perms_combine_as_bits() {
        let p = Perms::READ | Perms::WRITE | Perms::CREATE | Perms::DELETE | Perms::ADMIN;
        assert_eq!(p, Perms::ALL);
        assert!(p.contains(Perms::ADMIN));
        assert_eq!((Perms::READ | Perms::WRITE) & Perms::WRITE, Perms::WRITE);
        assert!(!Perms::READ.contains(Perms::WRITE));
    }

    #[test]
    fn acl_encodes_perms_then_scheme_then_id() {
        let mut buf = BytesMut::new();
        Acl::open_unsafe().encode(&mut buf);
        let mut expected = vec![0, 0, 0, 31, 0, 0, 0, 5];
        expected.extend_from_slice(b"world");
        expected.extend_from_slice(&[0, 0, 0, 6]);
        expected.extend_from_slice(b"anyone");
        assert_eq!(&buf[..], &expected[..]);
        let mut r = Reader::new(Bytes::from(expected));
        assert_eq!(Acl::decode(&mut r).unwrap(), Acl::open_unsafe());
    }

    #[test]
    fn acl_vector_round_trips_and_refuses_absurd_counts() {
        let acls = vec![Acl::open_unsafe(), Acl::digest("u", "u:h")];
        let mut buf = BytesMut::new();
        write_acl_vec(&mut buf, &acls);
        let mut r = Reader::new(buf.freeze());
        assert_eq!(read_acl_vec(&mut r, "acl").unwrap(), acls);

        let mut r = Reader::new(Bytes::from_static(&[0, 1, 0, 0, 0, 0, 0, 0]));
        assert!(matches!(
            read_acl_vec(&mut r, "acl"),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
