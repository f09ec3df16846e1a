//! Creating nodes: create, create2 (returns the stat), container and TTL creates.
//!
//! All four share the CreateRequest layout (path, data, acl, flags); the TTL form
//! adds the TTL in milliseconds. The Java client sends `create2` for every create
//! that wants the stat back, and `create` otherwise.

use bytes::{BufMut, BytesMut};

use crate::proto::acl::{Acl, write_acl_vec};
use crate::proto::jute::{Decode, DecodeError, Encode, Reader, write_buffer, write_string};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::stat::Stat;

fn encode_create(buf: &mut BytesMut, path: &str, data: &[u8], acl: &[Acl], flags: i32) {
    write_string(buf, path);
    write_buffer(buf, data);
    write_acl_vec(buf, acl);
    buf.put_i32(flags);
}

/// Creates a node and answers with its actual path (op `create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateRequest<'a> {
    /// Server path of the node (the parent for a sequential node's name prefix).
    pub path: &'a str,
    /// Initial data.
    pub data: &'a [u8],
    /// The node's ACL; must not be empty.
    pub acl: &'a [Acl],
    /// The [`crate::proto::CreateMode`] flag.
    pub flags: i32,
}

impl Encode for CreateRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_create(buf, self.path, self.data, self.acl, self.flags);
    }
}

impl Request for CreateRequest<'_> {
    const OP: OpCode = OpCode::Create;
    type Response = CreateResponse;
}

/// Like [`CreateRequest`], and the reply carries the new node's stat (op `create2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Create2Request<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Initial data.
    pub data: &'a [u8],
    /// The node's ACL; must not be empty.
    pub acl: &'a [Acl],
    /// The [`crate::proto::CreateMode`] flag.
    pub flags: i32,
}

impl Encode for Create2Request<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_create(buf, self.path, self.data, self.acl, self.flags);
    }
}

impl Request for Create2Request<'_> {
    const OP: OpCode = OpCode::Create2;
    type Response = Create2Response;
}

/// Creates a container node (op `createContainer`); `flags` must be
/// [`crate::proto::CreateMode::Container`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateContainerRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Initial data.
    pub data: &'a [u8],
    /// The node's ACL; must not be empty.
    pub acl: &'a [Acl],
    /// The [`crate::proto::CreateMode`] flag (4).
    pub flags: i32,
}

impl Encode for CreateContainerRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_create(buf, self.path, self.data, self.acl, self.flags);
    }
}

impl Request for CreateContainerRequest<'_> {
    const OP: OpCode = OpCode::CreateContainer;
    type Response = Create2Response;
}

/// Creates a node with a time to live (op `createTTL`); `flags` must be a TTL
/// mode's and the server must run with extended types enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateTtlRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Initial data.
    pub data: &'a [u8],
    /// The node's ACL; must not be empty.
    pub acl: &'a [Acl],
    /// The [`crate::proto::CreateMode`] flag (5 or 6).
    pub flags: i32,
    /// Time to live in milliseconds (greater than 0).
    pub ttl: i64,
}

impl Encode for CreateTtlRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_create(buf, self.path, self.data, self.acl, self.flags);
        buf.put_i64(self.ttl);
    }
}

impl Request for CreateTtlRequest<'_> {
    const OP: OpCode = OpCode::CreateTtl;
    type Response = Create2Response;
}

/// The answer to a `create`: the path of the node made (with its sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateResponse {
    /// Server path of the created node.
    pub path: String,
}

impl Decode for CreateResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(CreateResponse {
            path: r.read_string("createResponse.path")?,
        })
    }
}

impl Encode for CreateResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, &self.path);
    }
}

/// The answer to `create2`, `createContainer` and `createTTL`: path and stat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create2Response {
    /// Server path of the created node.
    pub path: String,
    /// The new node's stat.
    pub stat: Stat,
}

impl Decode for Create2Response {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Create2Response {
            path: r.read_string("create2Response.path")?,
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for Create2Response {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, &self.path);
        self.stat.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::CreateMode;
    use crate::proto::jute::tests::encoded;
    use crate::proto::stat::tests::{sample, sample_bytes};
    use bytes::Bytes;

    /// CreateRequest{"/a", "hi", [world:anyone ALL], EphemeralSequential}, written
    /// out field by field from the jute record.
    fn create_bytes() -> Vec<u8> {
        [
            &[0, 0, 0, 2, b'/', b'a'][..],                     // ustring path
            &[0, 0, 0, 2, b'h', b'i'],                         // buffer data
            &[0, 0, 0, 1],                                     // vector<ACL> count
            &[0, 0, 0, 31],                                    // perms ALL
            &[0, 0, 0, 5, b'w', b'o', b'r', b'l', b'd'],       // scheme
            &[0, 0, 0, 6, b'a', b'n', b'y', b'o', b'n', b'e'], // id
            &[0, 0, 0, 3],                                     // flags
        ]
        .concat()
    }

    #[test]
    fn create_request_has_exact_jute_bytes() {
        let acl = [Acl::open_unsafe()];
        let req = CreateRequest {
            path: "/a",
            data: b"hi",
            acl: &acl,
            flags: CreateMode::EphemeralSequential.flag(),
        };
        assert_eq!(encoded(&req), create_bytes());
        assert_eq!(CreateRequest::OP.as_i32(), 1);
        let req2 = Create2Request {
            path: "/a",
            data: b"hi",
            acl: &acl,
            flags: 3,
        };
        assert_eq!(encoded(&req2), create_bytes());
        assert_eq!(Create2Request::OP.as_i32(), 15);
        let container = CreateContainerRequest {
            path: "/a",
            data: b"hi",
            acl: &acl,
            flags: 3,
        };
        assert_eq!(encoded(&container), create_bytes());
        assert_eq!(CreateContainerRequest::OP.as_i32(), 19);
    }

    #[test]
    fn create_ttl_appends_the_ttl() {
        let acl = [Acl::open_unsafe()];
        let req = CreateTtlRequest {
            path: "/a",
            data: b"hi",
            acl: &acl,
            flags: 3,
            ttl: 60_000,
        };
        let mut expected = create_bytes();
        expected.extend_from_slice(&60_000i64.to_be_bytes());
        assert_eq!(encoded(&req), expected);
        assert_eq!(CreateTtlRequest::OP.as_i32(), 21);
    }

    #[test]
    fn create_responses_decode_from_hand_built_bytes() {
        let mut bytes = vec![0, 0, 0, 13];
        bytes.extend_from_slice(b"/a0000000007");
        bytes.push(b'x'); // 13 bytes of path: "/a0000000007x"
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        assert_eq!(
            CreateResponse::decode(&mut r).unwrap().path,
            "/a0000000007x"
        );

        bytes.extend_from_slice(&sample_bytes());
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let resp = Create2Response::decode(&mut r).unwrap();
        assert_eq!(resp.stat, sample());
        assert_eq!(encoded(&resp), bytes);

        let mut r = Reader::new(Bytes::copy_from_slice(&bytes[..bytes.len() - 8]));
        assert!(Create2Response::decode(&mut r).is_err());
    }
}
