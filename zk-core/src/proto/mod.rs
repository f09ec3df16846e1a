//! The ZooKeeper wire protocol: jute records, operation codes, error codes and
//! framing. Pure code with no I/O: the session layer feeds it bytes.
//!
//! **Internal.** This module is public only for the project's own codec tests,
//! fuzz target and benchmark floor, and is hidden from the documentation: it makes
//! no stability promise. The types a program uses are re-exported at the crate root
//! ([`Stat`](crate::Stat), [`Acl`](crate::Acl), [`CreateMode`](crate::CreateMode),
//! [`Code`](crate::Code), ...), and path helpers are [`crate::path`].
//!
//! - [`jute`]: the primitive encoding ([`Reader`], [`Encode`], [`Decode`]).
//! - [`frame`]: length-prefixed frames and their size limit.
//! - [`opcode`], [`code`]: operation codes, reserved xids, result codes.
//! - [`stat`], [`acl`], [`create_mode`]: node metadata, access control, node kinds.
//! - [`session_records`]: the connect handshake, request/reply headers, auth.
//! - [`watch_records`]: notifications, SetWatches, watch modes.
//! - [`path`]: path validation, path arithmetic, chroot mapping, data size.
//! - [`request`] and [`ops`]: the [`Request`] trait and every request record with
//!   its response.
//!
//! Paths in request records are full server paths: the session layer adds the
//! chroot before it builds a request, and strips it from paths it hands back.

pub mod acl;
pub mod code;
pub mod create_mode;
mod digest;
pub mod frame;
pub mod jute;
pub mod opcode;
pub mod ops;
pub mod path;
pub mod request;
pub mod session_records;
pub mod stat;
pub mod watch_records;

pub use acl::{Acl, Id, Perms, digest_id};
pub use code::Code;
pub use create_mode::CreateMode;
pub use jute::{Decode, DecodeError, Encode, Reader};
pub use opcode::OpCode;
pub use path::{DataTooLarge, PathError, validate_data_len, validate_path};
pub use request::{Request, write_frame, write_request};
pub use session_records::{
    AuthPacket, ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader,
};
pub use stat::Stat;
pub use watch_records::{
    AddWatchMode, EventType, KeeperState, SET_WATCHES_MAX_LEN, SetWatches, SetWatches2, WatchBatch,
    WatcherEvent, WatcherType,
};
