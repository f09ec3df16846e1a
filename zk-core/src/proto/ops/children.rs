//! Listing below a node: getChildren, getChildren2 (with the parent's stat),
//! getAllChildrenNumber and getEphemerals.

use bytes::{BufMut, BytesMut};

use crate::proto::jute::{
    Decode, DecodeError, Encode, Reader, write_bool, write_string, write_string_vec,
};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::stat::Stat;

/// Lists a node's children, optionally leaving a child watch (op `getChildren`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetChildrenRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Whether to leave a watch.
    pub watch: bool,
}

impl Encode for GetChildrenRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_bool(buf, self.watch);
    }
}

impl Request for GetChildrenRequest<'_> {
    const OP: OpCode = OpCode::GetChildren;
    type Response = GetChildrenResponse;
}

/// The answer to `getChildren`: child names (not paths), in no particular order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChildrenResponse {
    /// The children's names.
    pub children: Vec<String>,
}

impl Decode for GetChildrenResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetChildrenResponse {
            children: r.read_string_vec("getChildrenResponse.children")?,
        })
    }
}

impl Encode for GetChildrenResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_string_vec(buf, &self.children);
    }
}

/// Like [`GetChildrenRequest`], and the reply carries the parent's stat (op `getChildren2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetChildren2Request<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Whether to leave a watch.
    pub watch: bool,
}

impl Encode for GetChildren2Request<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_bool(buf, self.watch);
    }
}

impl Request for GetChildren2Request<'_> {
    const OP: OpCode = OpCode::GetChildren2;
    type Response = GetChildren2Response;
}

/// The answer to `getChildren2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChildren2Response {
    /// The children's names.
    pub children: Vec<String>,
    /// The parent's stat.
    pub stat: Stat,
}

impl Decode for GetChildren2Response {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetChildren2Response {
            children: r.read_string_vec("getChildren2Response.children")?,
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for GetChildren2Response {
    fn encode(&self, buf: &mut BytesMut) {
        write_string_vec(buf, &self.children);
        self.stat.encode(buf);
    }
}

/// Counts every node below a path, at any depth (op `getAllChildrenNumber`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetAllChildrenNumberRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
}

impl Encode for GetAllChildrenNumberRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
    }
}

impl Request for GetAllChildrenNumberRequest<'_> {
    const OP: OpCode = OpCode::GetAllChildrenNumber;
    type Response = GetAllChildrenNumberResponse;
}

/// The answer to `getAllChildrenNumber`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetAllChildrenNumberResponse {
    /// Number of descendants.
    pub total: i32,
}

impl Decode for GetAllChildrenNumberResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetAllChildrenNumberResponse {
            total: r.read_i32("getAllChildrenNumberResponse.totalNumber")?,
        })
    }
}

impl Encode for GetAllChildrenNumberResponse {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.total);
    }
}

/// Lists this session's ephemeral nodes whose path starts with a prefix (op `getEphemerals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetEphemeralsRequest<'a> {
    /// Server path prefix ("/" for all); a plain string prefix, not only whole segments.
    pub prefix_path: &'a str,
}

impl Encode for GetEphemeralsRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.prefix_path);
    }
}

impl Request for GetEphemeralsRequest<'_> {
    const OP: OpCode = OpCode::GetEphemerals;
    type Response = GetEphemeralsResponse;
}

/// The answer to `getEphemerals`: full server paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetEphemeralsResponse {
    /// Server paths of the session's ephemeral nodes.
    pub ephemerals: Vec<String>,
}

impl Decode for GetEphemeralsResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetEphemeralsResponse {
            ephemerals: r.read_string_vec("getEphemeralsResponse.ephemerals")?,
        })
    }
}

impl Encode for GetEphemeralsResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_string_vec(buf, &self.ephemerals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jute::tests::encoded;
    use crate::proto::stat::tests::{sample, sample_bytes};
    use bytes::Bytes;

    #[test]
    fn requests_have_exact_jute_bytes_and_op_codes() {
        let p = [0, 0, 0, 2, b'/', b'p'];
        assert_eq!(
            encoded(&GetChildrenRequest {
                path: "/p",
                watch: true
            }),
            [&p[..], &[1]].concat()
        );
        assert_eq!(
            encoded(&GetChildren2Request {
                path: "/p",
                watch: false
            }),
            [&p[..], &[0]].concat()
        );
        assert_eq!(encoded(&GetAllChildrenNumberRequest { path: "/p" }), p);
        assert_eq!(encoded(&GetEphemeralsRequest { prefix_path: "/p" }), p);
        assert_eq!(GetChildrenRequest::OP.as_i32(), 8);
        assert_eq!(GetChildren2Request::OP.as_i32(), 12);
        assert_eq!(GetEphemeralsRequest::OP.as_i32(), 103);
        assert_eq!(GetAllChildrenNumberRequest::OP.as_i32(), 104);
    }

    fn two_children() -> Vec<u8> {
        vec![0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'c']
    }

    #[test]
    fn responses_decode_from_hand_built_bytes() {
        let mut r = Reader::new(Bytes::from(two_children()));
        assert_eq!(
            GetChildrenResponse::decode(&mut r).unwrap().children,
            vec!["a", "bc"]
        );

        let bytes = [two_children(), sample_bytes()].concat();
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let resp = GetChildren2Response::decode(&mut r).unwrap();
        assert_eq!(resp.children, vec!["a", "bc"]);
        assert_eq!(resp.stat, sample());
        assert_eq!(encoded(&resp), bytes);

        let mut r = Reader::new(Bytes::from_static(&[0, 0, 1, 0]));
        assert_eq!(
            GetAllChildrenNumberResponse::decode(&mut r).unwrap().total,
            256
        );

        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 2, b'/', b'e']));
        assert_eq!(
            GetEphemeralsResponse::decode(&mut r).unwrap().ephemerals,
            vec!["/e"]
        );
    }

    #[test]
    fn truncated_children_are_an_error() {
        let bytes = two_children();
        let mut r = Reader::new(Bytes::copy_from_slice(&bytes[..bytes.len() - 1]));
        assert!(matches!(
            GetChildrenResponse::decode(&mut r),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
