//! `Stat`: the metadata the server keeps for every znode and returns with most replies.

use bytes::{BufMut, BytesMut};

use super::jute::{Decode, DecodeError, Encode, Reader};

/// A znode's metadata (zxids, times, versions, ownership and sizes).
///
/// Times are milliseconds since the Unix epoch, as the server's clock saw them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stat {
    /// Zxid of the transaction that created the node.
    pub czxid: i64,
    /// Zxid of the transaction that last changed the node's data.
    pub mzxid: i64,
    /// Creation time.
    pub ctime: i64,
    /// Time of the last data change.
    pub mtime: i64,
    /// Number of changes to the node's data (the data version).
    pub version: i32,
    /// Number of changes to the node's children.
    pub cversion: i32,
    /// Number of changes to the node's ACL.
    pub aversion: i32,
    /// Session id of the owner if the node is ephemeral, 0 otherwise.
    pub ephemeral_owner: i64,
    /// Length of the node's data in bytes.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// Zxid of the transaction that last changed the node's children.
    pub pzxid: i64,
}

impl Stat {
    /// Size of an encoded `Stat`: six longs and five ints.
    pub const ENCODED_LEN: usize = 6 * 8 + 5 * 4;

    /// Whether the node is ephemeral (has an owner session).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral_owner != 0
    }
}

impl Encode for Stat {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i64(self.czxid);
        buf.put_i64(self.mzxid);
        buf.put_i64(self.ctime);
        buf.put_i64(self.mtime);
        buf.put_i32(self.version);
        buf.put_i32(self.cversion);
        buf.put_i32(self.aversion);
        buf.put_i64(self.ephemeral_owner);
        buf.put_i32(self.data_length);
        buf.put_i32(self.num_children);
        buf.put_i64(self.pzxid);
    }
}

impl Decode for Stat {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Stat {
            czxid: r.read_i64("stat.czxid")?,
            mzxid: r.read_i64("stat.mzxid")?,
            ctime: r.read_i64("stat.ctime")?,
            mtime: r.read_i64("stat.mtime")?,
            version: r.read_i32("stat.version")?,
            cversion: r.read_i32("stat.cversion")?,
            aversion: r.read_i32("stat.aversion")?,
            ephemeral_owner: r.read_i64("stat.ephemeralOwner")?,
            data_length: r.read_i32("stat.dataLength")?,
            num_children: r.read_i32("stat.numChildren")?,
            pzxid: r.read_i64("stat.pzxid")?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;

    /// A stat whose every field differs, so a swapped field shows up.
    pub(crate) fn sample() -> Stat {
        Stat {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: 8,
            data_length: 9,
            num_children: 10,
            pzxid: 11,
        }
    }

    /// The jute bytes of [`sample`], written out by hand from the record layout.
    pub(crate) fn sample_bytes() -> Vec<u8> {
        let mut v = Vec::new();
        for n in [1i64, 2, 3, 4] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        for n in [5i32, 6, 7] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v.extend_from_slice(&8i64.to_be_bytes());
        for n in [9i32, 10] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v.extend_from_slice(&11i64.to_be_bytes());
        v
    }

    #[test]
    fn stat_encodes_fields_in_jute_order() {
        let mut buf = BytesMut::new();
        sample().encode(&mut buf);
        assert_eq!(&buf[..], &sample_bytes()[..]);
        assert_eq!(buf.len(), Stat::ENCODED_LEN);
    }

    #[test]
    fn stat_decodes_from_hand_built_bytes() {
        let mut r = Reader::new(Bytes::from(sample_bytes()));
        assert_eq!(Stat::decode(&mut r).unwrap(), sample());
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn truncated_stat_is_an_error() {
        let bytes = sample_bytes();
        let mut r = Reader::new(Bytes::copy_from_slice(&bytes[..bytes.len() - 1]));
        assert!(matches!(
            Stat::decode(&mut r),
            Err(DecodeError::Truncated {
                field: "stat.pzxid",
                ..
            })
        ));
    }
}
