//! Operations on one node's data and existence: delete, exists, getData, setData,
//! check (a version check, mostly inside a multi) and sync.

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::jute::{
    Decode, DecodeError, Encode, Reader, write_bool, write_buffer, write_string,
};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::stat::Stat;

/// Deletes a node (op `delete`); the reply has no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// The expected data version, or -1 for any.
    pub version: i32,
}

impl Encode for DeleteRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        buf.put_i32(self.version);
    }
}

impl Request for DeleteRequest<'_> {
    const OP: OpCode = OpCode::Delete;
    type Response = ();
}

/// Asks for a node's stat, optionally leaving a watch (op `exists`).
///
/// A missing node is answered with `NoNode` and no body; with `watch` set, the
/// server still leaves an exist watch that fires when the node is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistsRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Whether to leave a watch.
    pub watch: bool,
}

impl Encode for ExistsRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_bool(buf, self.watch);
    }
}

impl Request for ExistsRequest<'_> {
    const OP: OpCode = OpCode::Exists;
    type Response = ExistsResponse;
}

/// The answer to `exists` when the node is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistsResponse {
    /// The node's stat.
    pub stat: Stat,
}

impl Decode for ExistsResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ExistsResponse {
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for ExistsResponse {
    fn encode(&self, buf: &mut BytesMut) {
        self.stat.encode(buf);
    }
}

/// Reads a node's data and stat, optionally leaving a data watch (op `getData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetDataRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// Whether to leave a watch.
    pub watch: bool,
}

impl Encode for GetDataRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_bool(buf, self.watch);
    }
}

impl Request for GetDataRequest<'_> {
    const OP: OpCode = OpCode::GetData;
    type Response = GetDataResponse;
}

/// The answer to `getData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetDataResponse {
    /// The node's data, sharing the memory of the received frame. A node whose
    /// data is null reads as empty.
    pub data: Bytes,
    /// The node's stat.
    pub stat: Stat,
}

impl Decode for GetDataResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(GetDataResponse {
            data: r.read_bytes("getDataResponse.data")?,
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for GetDataResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_buffer(buf, &self.data);
        self.stat.encode(buf);
    }
}

/// Replaces a node's data (op `setData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetDataRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// The new data.
    pub data: &'a [u8],
    /// The expected data version, or -1 for any.
    pub version: i32,
}

impl Encode for SetDataRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        write_buffer(buf, self.data);
        buf.put_i32(self.version);
    }
}

impl Request for SetDataRequest<'_> {
    const OP: OpCode = OpCode::SetData;
    type Response = SetDataResponse;
}

/// The answer to `setData`: the node's stat after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetDataResponse {
    /// The node's new stat.
    pub stat: Stat,
}

impl Decode for SetDataResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SetDataResponse {
            stat: Stat::decode(r)?,
        })
    }
}

impl Encode for SetDataResponse {
    fn encode(&self, buf: &mut BytesMut) {
        self.stat.encode(buf);
    }
}

/// Checks a node's data version (op `check`); the reply has no body.
///
/// Use it inside a multi ([`super::MultiOp::Check`]). A ZooKeeper 3.8 server does
/// not accept it on its own: sent alone, it gets no reply and the server drops
/// the connection (the session itself survives). Servers from 3.9 accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckVersionRequest<'a> {
    /// Server path of the node.
    pub path: &'a str,
    /// The expected data version.
    pub version: i32,
}

impl Encode for CheckVersionRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        buf.put_i32(self.version);
    }
}

impl Request for CheckVersionRequest<'_> {
    const OP: OpCode = OpCode::Check;
    type Response = ();
}

/// Waits until the server this session talks to has caught up with the leader
/// (op `sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRequest<'a> {
    /// Server path the sync is for.
    pub path: &'a str,
}

impl Encode for SyncRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
    }
}

impl Request for SyncRequest<'_> {
    const OP: OpCode = OpCode::Sync;
    type Response = SyncResponse;
}

/// The answer to `sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResponse {
    /// The server path synced.
    pub path: String,
}

impl Decode for SyncResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SyncResponse {
            path: r.read_string("syncResponse.path")?,
        })
    }
}

impl Encode for SyncResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, &self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jute::tests::encoded;
    use crate::proto::stat::tests::{sample, sample_bytes};

    #[test]
    fn request_records_have_exact_jute_bytes() {
        let path = [0, 0, 0, 2, b'/', b'n'];
        let with = |tail: &[u8]| [&path[..], tail].concat();
        assert_eq!(
            encoded(&DeleteRequest {
                path: "/n",
                version: -1
            }),
            with(&[0xff, 0xff, 0xff, 0xff])
        );
        assert_eq!(
            encoded(&ExistsRequest {
                path: "/n",
                watch: true
            }),
            with(&[1])
        );
        assert_eq!(
            encoded(&GetDataRequest {
                path: "/n",
                watch: false
            }),
            with(&[0])
        );
        assert_eq!(
            encoded(&SetDataRequest {
                path: "/n",
                data: b"v",
                version: 2
            }),
            with(&[0, 0, 0, 1, b'v', 0, 0, 0, 2])
        );
        assert_eq!(
            encoded(&CheckVersionRequest {
                path: "/n",
                version: 7
            }),
            with(&[0, 0, 0, 7])
        );
        assert_eq!(encoded(&SyncRequest { path: "/n" }), with(&[]));
    }

    #[test]
    fn op_codes_are_the_servers() {
        assert_eq!(DeleteRequest::OP.as_i32(), 2);
        assert_eq!(ExistsRequest::OP.as_i32(), 3);
        assert_eq!(GetDataRequest::OP.as_i32(), 4);
        assert_eq!(SetDataRequest::OP.as_i32(), 5);
        assert_eq!(SyncRequest::OP.as_i32(), 9);
        assert_eq!(CheckVersionRequest::OP.as_i32(), 13);
    }

    #[test]
    fn get_data_response_shares_the_frames_memory() {
        let mut bytes = vec![0, 0, 0, 3, b'a', b'b', b'c'];
        bytes.extend_from_slice(&sample_bytes());
        let frame = Bytes::from(bytes.clone());
        let start = frame.as_ptr() as usize;
        let mut r = Reader::new(frame);
        let resp = GetDataResponse::decode(&mut r).unwrap();
        assert_eq!(&resp.data[..], b"abc");
        assert_eq!(resp.data.as_ptr() as usize, start + 4, "data was copied");
        assert_eq!(resp.stat, sample());
        assert_eq!(encoded(&resp), bytes);
    }

    #[test]
    fn null_data_reads_as_empty() {
        let mut bytes = vec![0xff, 0xff, 0xff, 0xff];
        bytes.extend_from_slice(&sample_bytes());
        let mut r = Reader::new(Bytes::from(bytes));
        assert!(GetDataResponse::decode(&mut r).unwrap().data.is_empty());
    }

    #[test]
    fn stat_responses_decode_and_refuse_truncation() {
        let mut r = Reader::new(Bytes::from(sample_bytes()));
        assert_eq!(ExistsResponse::decode(&mut r).unwrap().stat, sample());
        let mut r = Reader::new(Bytes::from(sample_bytes()));
        assert_eq!(SetDataResponse::decode(&mut r).unwrap().stat, sample());
        let mut r = Reader::new(Bytes::copy_from_slice(&sample_bytes()[..60]));
        assert!(matches!(
            ExistsResponse::decode(&mut r),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn sync_response_decodes() {
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 2, b'/', b's']));
        assert_eq!(SyncResponse::decode(&mut r).unwrap().path, "/s");
    }
}
