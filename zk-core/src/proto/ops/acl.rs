//! Reading and replacing a node's ACL: getACL and setACL.

use bytes::{BufMut, BytesMut};

use crate::proto::acl::{Acl, read_acl_vec, write_acl_vec};
use crate::proto::jute::{Decode, DecodeError, Encode, Reader, write_string};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::stat::Stat;

/// Reads a node's ACL (op `getACL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetAclRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
}

impl Encode for GetAclRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
    }
}

impl Request for GetAclRequest<'_> {
    const OP: OpCode = OpCode::GetAcl;
    type Response = GetAclResponse;
}

/// The answer to `getACL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAclResponse {
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// The node's stat.
    pub stat: Stat,
}

impl Decode for GetAclResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetAclResponse {
            acl: read_acl_vec(r, "getACLResponse.acl")?,
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for GetAclResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_acl_vec(buf, &self.acl);
        self.stat.encode(buf);
    }
}

/// Replaces a node's ACL (op `setACL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAclRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// The new ACL; must not be empty.
    pub acl: &'a [Acl],
    /// The expected ACL version (`aversion`), or -1 for any.
    pub version: i32,
}

impl Encode for SetAclRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_acl_vec(buf, self.acl);
        buf.put_i32(self.version);
    }
}

impl Request for SetAclRequest<'_> {
    const OP: OpCode = OpCode::SetAcl;
    type Response = SetAclResponse;
}

/// The answer to `setACL`: the node's stat after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAclResponse {
    /// The node's new stat.
    pub stat: Stat,
}

impl Decode for SetAclResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SetAclResponse {
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for SetAclResponse {
    fn encode(&self, buf: &mut BytesMut) {
        self.stat.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::acl::{Id, Perms};
    use crate::proto::jute::tests::encoded;
    use crate::proto::stat::tests::{sample, sample_bytes};
    use bytes::Bytes;

    #[test]
    fn set_acl_request_has_exact_jute_bytes() {
        let acl = [Acl::new(Perms::READ, Id::new("ip", "1"))];
        let expected: Vec<u8> = [
            &[0, 0, 0, 2, b'/', b'n'][..],
            &[0, 0, 0, 1, 0, 0, 0, 1],
            &[0, 0, 0, 2, b'i', b'p', 0, 0, 0, 1, b'1'],
            &[0, 0, 0, 4],
        ]
        .concat();
        let req = SetAclRequest {
            path: "/n",
            acl: &acl,
            version: 4,
        };
        assert_eq!(encoded(&req), expected);
        assert_eq!(SetAclRequest::OP.as_i32(), 7);
        assert_eq!(GetAclRequest::OP.as_i32(), 6);
        assert_eq!(
            encoded(&GetAclRequest { path: "/n" }),
            vec![0, 0, 0, 2, b'/', b'n']
        );
    }

    #[test]
    fn acl_responses_decode_from_hand_built_bytes() {
        let mut bytes = vec![0, 0, 0, 1, 0, 0, 0, 31];
        bytes.extend_from_slice(&[0, 0, 0, 5]);
        bytes.extend_from_slice(b"world");
        bytes.extend_from_slice(&[0, 0, 0, 6]);
        bytes.extend_from_slice(b"anyone");
        bytes.extend_from_slice(&sample_bytes());
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let resp = GetAclResponse::decode(&mut r).unwrap();
        assert_eq!(resp.acl, vec![Acl::open_unsafe()]);
        assert_eq!(resp.stat, sample());
        assert_eq!(encoded(&resp), bytes);

        let mut r = Reader::new(Bytes::from(sample_bytes()));
        assert_eq!(SetAclResponse::decode(&mut r).unwrap().stat, sample());
    }
}
