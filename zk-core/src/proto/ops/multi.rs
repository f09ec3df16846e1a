//! Multi-operation requests: `multi` (an atomic transaction of writes and version
//! checks) and `multiRead` (a batch of reads), with their results.
//!
//! On the wire each operation is a `MultiHeader { type, done: false, err: -1 }`
//! followed by the operation's own request record; a header `{ -1, true, -1 }`
//! ends the list. The reply is the same shape: a header per result (its type
//! names the result record, -1 for an error) and the same end marker.
//!
//! A transaction that fails still answers with error code 0 in the reply header:
//! the failure is in the results, one [`OpResult::Error`] per operation (`Ok` for
//! the operations before the one that failed, its own code for that one,
//! `RuntimeInconsistency` after it). [`MultiResponse::first_error`] finds it.

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::acl::Acl;
use crate::proto::code::Code;
use crate::proto::create_mode::CreateMode;
use crate::proto::jute::{
    Decode, DecodeError, Encode, Reader, write_bool, write_buffer, write_string, write_string_vec,
};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::stat::Stat;

use super::create::{CreateRequest, CreateTtlRequest};
use super::node::{CheckVersionRequest, DeleteRequest, SetDataRequest};

/// One operation inside a [`MultiRequest`] (writes and checks) or a
/// [`MultiReadRequest`] (reads). Paths are full server paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultiOp<'a> {
    /// Creates a node; the result is [`OpResult::Create`] (path only). A container
    /// mode is sent as `createContainer` and answered with [`OpResult::Create2`].
    /// TTL modes need [`MultiOp::CreateTtl`].
    Create {
        /// Server path of the node.
        path: &'a str,
        /// Initial data.
        data: &'a [u8],
        /// The node's ACL.
        acl: &'a [Acl],
        /// The kind of node.
        mode: CreateMode,
    },
    /// Creates a node, asking for its stat too. ZooKeeper servers (3.5 to 3.9) read
    /// a `create2` inside a transaction as a plain `create`, so the result is
    /// [`OpResult::Create`] (path only), except for a container mode, sent as
    /// `createContainer` and answered with [`OpResult::Create2`].
    Create2 {
        /// Server path of the node.
        path: &'a str,
        /// Initial data.
        data: &'a [u8],
        /// The node's ACL.
        acl: &'a [Acl],
        /// The kind of node.
        mode: CreateMode,
    },
    /// Creates a node with a time to live (a TTL `mode`); result [`OpResult::Create2`].
    CreateTtl {
        /// Server path of the node.
        path: &'a str,
        /// Initial data.
        data: &'a [u8],
        /// The node's ACL.
        acl: &'a [Acl],
        /// The kind of node ([`CreateMode::PersistentWithTtl`] or its sequential form).
        mode: CreateMode,
        /// Time to live in milliseconds.
        ttl: i64,
    },
    /// Deletes a node; result [`OpResult::Delete`].
    Delete {
        /// Server path of the node.
        path: &'a str,
        /// Expected data version, or -1 for any.
        version: i32,
    },
    /// Replaces a node's data; result [`OpResult::SetData`].
    SetData {
        /// Server path of the node.
        path: &'a str,
        /// The new data.
        data: &'a [u8],
        /// Expected data version, or -1 for any.
        version: i32,
    },
    /// Fails the transaction unless the node has this data version; result [`OpResult::Check`].
    Check {
        /// Server path of the node.
        path: &'a str,
        /// Expected data version.
        version: i32,
    },
    /// Lists a node's children (multiRead only); result [`OpResult::GetChildren`].
    GetChildren {
        /// Server path of the node.
        path: &'a str,
    },
    /// Reads a node's data (multiRead only); result [`OpResult::GetData`].
    GetData {
        /// Server path of the node.
        path: &'a str,
    },
}

impl MultiOp<'_> {
    /// The operation code written in this operation's header.
    pub fn op_code(&self) -> OpCode {
        match self {
            MultiOp::Create { mode, .. } if mode.is_container() => OpCode::CreateContainer,
            MultiOp::Create { .. } => OpCode::Create,
            MultiOp::Create2 { mode, .. } if mode.is_container() => OpCode::CreateContainer,
            MultiOp::Create2 { .. } => OpCode::Create2,
            MultiOp::CreateTtl { .. } => OpCode::CreateTtl,
            MultiOp::Delete { .. } => OpCode::Delete,
            MultiOp::SetData { .. } => OpCode::SetData,
            MultiOp::Check { .. } => OpCode::Check,
            MultiOp::GetChildren { .. } => OpCode::GetChildren,
            MultiOp::GetData { .. } => OpCode::GetData,
        }
    }

    /// Whether this is a read, allowed only in a [`MultiReadRequest`]. The server
    /// drops the connection on a request that mixes reads and writes, so the
    /// session checks with [`check_multi_ops`] before sending.
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren { .. } | MultiOp::GetData { .. })
    }

    /// The server path this operation is about.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create { path, .. }
            | MultiOp::Create2 { path, .. }
            | MultiOp::CreateTtl { path, .. }
            | MultiOp::Delete { path, .. }
            | MultiOp::SetData { path, .. }
            | MultiOp::Check { path, .. }
            | MultiOp::GetChildren { path }
            | MultiOp::GetData { path } => path,
        }
    }
}

impl Encode for MultiOp<'_> {
    /// Writes the operation's request record (without its header).
    fn encode(&self, buf: &mut BytesMut) {
        match *self {
            MultiOp::Create {
                path,
                data,
                acl,
                mode,
            }
            | MultiOp::Create2 {
                path,
                data,
                acl,
                mode,
            } => CreateRequest {
                path,
                data,
                acl,
                flags: mode.flag(),
            }
            .encode(buf),
            MultiOp::CreateTtl {
                path,
                data,
                acl,
                mode,
                ttl,
            } => CreateTtlRequest {
                path,
                data,
                acl,
                flags: mode.flag(),
                ttl,
            }
            .encode(buf),
            MultiOp::Delete { path, version } => DeleteRequest { path, version }.encode(buf),
            MultiOp::SetData {
                path,
                data,
                version,
            } => SetDataRequest {
                path,
                data,
                version,
            }
            .encode(buf),
            MultiOp::Check { path, version } => CheckVersionRequest { path, version }.encode(buf),
            // Reads inside a multiRead carry a watch flag that is always false.
            MultiOp::GetChildren { path } | MultiOp::GetData { path } => {
                write_string(buf, path);
                write_bool(buf, false);
            }
        }
    }
}

/// Why a list of operations cannot be sent as one multi request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultiOpsError {
    /// A read operation was put in a transaction.
    #[error("operation {index} ({path}) is a read; a transaction holds only writes and checks")]
    ReadInTransaction {
        /// Position of the operation.
        index: usize,
        /// Its path.
        path: String,
    },
    /// A write or check was put in a multiRead.
    #[error("operation {index} ({path}) is a write; a multiRead holds only reads")]
    WriteInRead {
        /// Position of the operation.
        index: usize,
        /// Its path.
        path: String,
    },
}

/// Checks that `ops` are all writes/checks (`read == false`, for [`MultiRequest`])
/// or all reads (`read == true`, for [`MultiReadRequest`]).
pub fn check_multi_ops(ops: &[MultiOp<'_>], read: bool) -> Result<(), MultiOpsError> {
    for (index, op) in ops.iter().enumerate() {
        if op.is_read() != read {
            let path = op.path().to_string();
            return Err(if read {
                MultiOpsError::WriteInRead { index, path }
            } else {
                MultiOpsError::ReadInTransaction { index, path }
            });
        }
    }
    Ok(())
}

fn write_multi_header(buf: &mut BytesMut, op_type: i32, done: bool, err: i32) {
    buf.put_i32(op_type);
    write_bool(buf, done);
    buf.put_i32(err);
}

fn encode_ops(buf: &mut BytesMut, ops: &[MultiOp<'_>]) {
    for op in ops {
        write_multi_header(buf, op.op_code().as_i32(), false, -1);
        op.encode(buf);
    }
    write_multi_header(buf, -1, true, -1);
}

/// An atomic transaction (op `multi`): every operation applies, or none does.
/// Holds writes and checks only: see [`check_multi_ops`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiRequest<'a> {
    /// The operations, in order.
    pub ops: &'a [MultiOp<'a>],
}

impl Encode for MultiRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_ops(buf, self.ops);
    }
}

impl Request for MultiRequest<'_> {
    const OP: OpCode = OpCode::Multi;
    type Response = MultiResponse;
}

/// A batch of reads answered together (op `multiRead`, 3.6+). Not atomic: each
/// read succeeds or fails on its own. Holds reads only: see [`check_multi_ops`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiReadRequest<'a> {
    /// The reads, in order.
    pub ops: &'a [MultiOp<'a>],
}

impl Encode for MultiReadRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        encode_ops(buf, self.ops);
    }
}

impl Request for MultiReadRequest<'_> {
    const OP: OpCode = OpCode::MultiRead;
    type Response = MultiResponse;
}

/// The result of one operation of a multi or multiRead.
///
/// Seen from a 3.8 server: `create` and `create2` give [`OpResult::Create`];
/// container and TTL creates give [`OpResult::Create2`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpResult {
    /// A `create` succeeded.
    Create {
        /// Server path of the created node.
        path: String,
    },
    /// A `create2`, `createContainer` or `createTTL` succeeded.
    Create2 {
        /// Server path of the created node.
        path: String,
        /// The new node's stat.
        stat: Stat,
    },
    /// A delete succeeded.
    Delete,
    /// A setData succeeded.
    SetData {
        /// The node's new stat.
        stat: Stat,
    },
    /// A version check passed.
    Check,
    /// A getData read (multiRead).
    GetData {
        /// The data, sharing the frame's memory.
        data: Bytes,
        /// The node's stat.
        stat: Stat,
    },
    /// A getChildren read (multiRead).
    GetChildren {
        /// The children's names.
        children: Vec<String>,
    },
    /// The operation failed, or (in a failed transaction) was rolled back: `Ok`
    /// for operations before the failing one, `RuntimeInconsistency` after it.
    Error {
        /// The operation's result code.
        code: Code,
    },
}

/// The answer to `multi` and `multiRead`: one result per operation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiResponse {
    /// The results.
    pub results: Vec<OpResult>,
}

impl MultiResponse {
    /// The first result with an error code other than `Ok`, with its index: the
    /// reason a transaction failed.
    pub fn first_error(&self) -> Option<(usize, Code)> {
        self.results.iter().enumerate().find_map(|(i, r)| match r {
            OpResult::Error { code } if *code != Code::Ok => Some((i, *code)),
            _ => None,
        })
    }
}

impl Decode for MultiResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let mut results = Vec::new();
        loop {
            // Every header takes 9 bytes, so the loop ends with the input.
            let op_type = r.read_i32("multiHeader.type")?;
            let done = r.read_bool("multiHeader.done")?;
            let _err = r.read_i32("multiHeader.err")?;
            if done {
                break;
            }
            let result = match OpCode::from_i32(op_type) {
                Some(OpCode::Create) => OpResult::Create {
                    path: r.read_string("createResponse.path")?,
                },
                Some(OpCode::Create2) => OpResult::Create2 {
                    path: r.read_string("create2Response.path")?,
                    stat: Stat::decode(r)?,
                },
                Some(OpCode::Delete) => OpResult::Delete,
                Some(OpCode::SetData) => OpResult::SetData {
                    stat: Stat::decode(r)?,
                },
                Some(OpCode::Check) => OpResult::Check,
                Some(OpCode::GetData) => OpResult::GetData {
                    data: r.read_bytes("getDataResponse.data")?,
                    stat: Stat::decode(r)?,
                },
                Some(OpCode::GetChildren) => OpResult::GetChildren {
                    children: r.read_string_vec("getChildrenResponse.children")?,
                },
                Some(OpCode::Error) => OpResult::Error {
                    code: Code::from_i32(r.read_i32("errorResponse.err")?),
                },
                _ => {
                    return Err(DecodeError::UnknownValue {
                        field: "multiHeader.type",
                        value: op_type,
                    });
                }
            };
            results.push(result);
        }
        Ok(MultiResponse { results })
    }
}

impl Encode for MultiResponse {
    /// Writes the response as a server would (for scripted test servers).
    fn encode(&self, buf: &mut BytesMut) {
        for result in &self.results {
            match result {
                OpResult::Create { path } => {
                    write_multi_header(buf, OpCode::Create.as_i32(), false, 0);
                    write_string(buf, path);
                }
                OpResult::Create2 { path, stat } => {
                    write_multi_header(buf, OpCode::Create2.as_i32(), false, 0);
                    write_string(buf, path);
                    stat.encode(buf);
                }
                OpResult::Delete => write_multi_header(buf, OpCode::Delete.as_i32(), false, 0),
                OpResult::SetData { stat } => {
                    write_multi_header(buf, OpCode::SetData.as_i32(), false, 0);
                    stat.encode(buf);
                }
                OpResult::Check => write_multi_header(buf, OpCode::Check.as_i32(), false, 0),
                OpResult::GetData { data, stat } => {
                    write_multi_header(buf, OpCode::GetData.as_i32(), false, 0);
                    write_buffer(buf, data);
                    stat.encode(buf);
                }
                OpResult::GetChildren { children } => {
                    write_multi_header(buf, OpCode::GetChildren.as_i32(), false, 0);
                    write_string_vec(buf, children);
                }
                OpResult::Error { code } => {
                    write_multi_header(buf, OpCode::Error.as_i32(), false, code.as_i32());
                    buf.put_i32(code.as_i32());
                }
            }
        }
        write_multi_header(buf, -1, true, -1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jute::tests::encoded;
    use crate::proto::stat::tests::{sample, sample_bytes};

    fn header(op_type: i32, done: bool, err: i32) -> Vec<u8> {
        let mut v = op_type.to_be_bytes().to_vec();
        v.push(done as u8);
        v.extend_from_slice(&err.to_be_bytes());
        v
    }

    #[test]
    fn multi_request_has_exact_jute_bytes() {
        let acl = [Acl::open_unsafe()];
        let ops = [
            MultiOp::Check {
                path: "/a",
                version: 3,
            },
            MultiOp::Create {
                path: "/b",
                data: b"",
                acl: &acl,
                mode: CreateMode::Persistent,
            },
            MultiOp::Delete {
                path: "/c",
                version: -1,
            },
            MultiOp::SetData {
                path: "/d",
                data: b"x",
                version: 1,
            },
        ];
        let expected: Vec<u8> = [
            header(13, false, -1),
            vec![0, 0, 0, 2, b'/', b'a', 0, 0, 0, 3],
            header(1, false, -1),
            vec![0, 0, 0, 2, b'/', b'b', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 31],
            vec![0, 0, 0, 5, b'w', b'o', b'r', b'l', b'd'],
            vec![0, 0, 0, 6, b'a', b'n', b'y', b'o', b'n', b'e', 0, 0, 0, 0],
            header(2, false, -1),
            vec![0, 0, 0, 2, b'/', b'c', 0xff, 0xff, 0xff, 0xff],
            header(5, false, -1),
            vec![0, 0, 0, 2, b'/', b'd', 0, 0, 0, 1, b'x', 0, 0, 0, 1],
            header(-1, true, -1),
        ]
        .concat();
        assert_eq!(encoded(&MultiRequest { ops: &ops }), expected);
        assert_eq!(MultiRequest::OP.as_i32(), 14);
        assert_eq!(check_multi_ops(&ops, false), Ok(()));
    }

    #[test]
    fn multi_read_request_sends_reads_without_watches() {
        let ops = [
            MultiOp::GetData { path: "/a" },
            MultiOp::GetChildren { path: "/b" },
        ];
        let expected: Vec<u8> = [
            header(4, false, -1),
            vec![0, 0, 0, 2, b'/', b'a', 0],
            header(8, false, -1),
            vec![0, 0, 0, 2, b'/', b'b', 0],
            header(-1, true, -1),
        ]
        .concat();
        assert_eq!(encoded(&MultiReadRequest { ops: &ops }), expected);
        assert_eq!(MultiReadRequest::OP.as_i32(), 22);
        assert_eq!(check_multi_ops(&ops, true), Ok(()));
    }

    #[test]
    fn create_variants_pick_the_servers_op_codes() {
        let acl = [Acl::open_unsafe()];
        let create = |mode| MultiOp::Create {
            path: "/x",
            data: b"",
            acl: &acl,
            mode,
        };
        let create2 = |mode| MultiOp::Create2 {
            path: "/x",
            data: b"",
            acl: &acl,
            mode,
        };
        assert_eq!(
            create(CreateMode::EphemeralSequential).op_code(),
            OpCode::Create
        );
        assert_eq!(
            create(CreateMode::Container).op_code(),
            OpCode::CreateContainer
        );
        assert_eq!(create2(CreateMode::Persistent).op_code(), OpCode::Create2);
        assert_eq!(
            create2(CreateMode::Container).op_code(),
            OpCode::CreateContainer
        );
        let ttl = MultiOp::CreateTtl {
            path: "/x",
            data: b"",
            acl: &acl,
            mode: CreateMode::PersistentWithTtl,
            ttl: 1000,
        };
        assert_eq!(ttl.op_code(), OpCode::CreateTtl);
        let mut expected = encoded(&create(CreateMode::PersistentWithTtl));
        expected.extend_from_slice(&1000i64.to_be_bytes());
        assert_eq!(encoded(&ttl), expected);
    }

    #[test]
    fn mixing_reads_and_writes_is_refused_with_the_offending_op() {
        let ops = [
            MultiOp::Check {
                path: "/a",
                version: 0,
            },
            MultiOp::GetData { path: "/b" },
        ];
        assert_eq!(
            check_multi_ops(&ops, false),
            Err(MultiOpsError::ReadInTransaction {
                index: 1,
                path: "/b".into()
            })
        );
        assert_eq!(
            check_multi_ops(&ops, true),
            Err(MultiOpsError::WriteInRead {
                index: 0,
                path: "/a".into()
            })
        );
    }

    #[test]
    fn multi_response_decodes_every_result_kind() {
        let bytes: Vec<u8> = [
            header(1, false, 0),
            vec![0, 0, 0, 2, b'/', b'b'],
            header(15, false, 0),
            vec![0, 0, 0, 2, b'/', b'c'],
            sample_bytes(),
            header(2, false, 0),
            header(5, false, 0),
            sample_bytes(),
            header(13, false, 0),
            header(4, false, 0),
            vec![0, 0, 0, 1, b'z'],
            sample_bytes(),
            header(8, false, 0),
            vec![0, 0, 0, 1, 0, 0, 0, 1, b'k'],
            header(-1, false, -101),
            (-101i32).to_be_bytes().to_vec(),
            header(-1, true, -1),
        ]
        .concat();
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let resp = MultiResponse::decode(&mut r).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(
            resp.results,
            vec![
                OpResult::Create { path: "/b".into() },
                OpResult::Create2 {
                    path: "/c".into(),
                    stat: sample()
                },
                OpResult::Delete,
                OpResult::SetData { stat: sample() },
                OpResult::Check,
                OpResult::GetData {
                    data: Bytes::from_static(b"z"),
                    stat: sample()
                },
                OpResult::GetChildren {
                    children: vec!["k".into()]
                },
                OpResult::Error { code: Code::NoNode },
            ]
        );
        assert_eq!(resp.first_error(), Some((7, Code::NoNode)));
        assert_eq!(encoded(&resp), bytes);
    }

    #[test]
    fn failed_transaction_reports_the_failing_op() {
        let resp = MultiResponse {
            results: vec![
                OpResult::Error { code: Code::Ok },
                OpResult::Error {
                    code: Code::BadVersion,
                },
                OpResult::Error {
                    code: Code::RuntimeInconsistency,
                },
            ],
        };
        let mut r = Reader::new(Bytes::from(encoded(&resp)));
        let decoded = MultiResponse::decode(&mut r).unwrap();
        assert_eq!(decoded, resp);
        assert_eq!(decoded.first_error(), Some((1, Code::BadVersion)));
        assert_eq!(MultiResponse::default().first_error(), None);
    }

    #[test]
    fn multi_response_without_end_marker_or_with_unknown_type_is_an_error() {
        let bytes = [header(2, false, 0), header(13, false, 0)].concat();
        let mut r = Reader::new(Bytes::from(bytes));
        assert!(matches!(
            MultiResponse::decode(&mut r),
            Err(DecodeError::Truncated { .. })
        ));
        let bytes = [header(99, false, 0), header(-1, true, -1)].concat();
        let mut r = Reader::new(Bytes::from(bytes));
        assert_eq!(
            MultiResponse::decode(&mut r),
            Err(DecodeError::UnknownValue {
                field: "multiHeader.type",
                value: 99
            })
        );
    }
}
