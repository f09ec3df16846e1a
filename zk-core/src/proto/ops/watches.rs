//! Managing watches by request: addWatch (persistent watches), removeWatches and
//! checkWatches. None of the replies has a body.

use bytes::{BufMut, BytesMut};

use crate::proto::jute::{Encode, write_string};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;
use crate::proto::watch_records::{AddWatchMode, WatcherType};

/// Sets a persistent (optionally recursive) watch on a path (op `addWatch`, 3.6+).
///
/// The server's reply carries a 4-byte ErrorResponse body (always 0) that the
/// Java client reads and drops: `Response` is `()`, so the session must not treat
/// bytes left after decoding as an error for this op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddWatchRequest<'a> {
    /// Server path to watch; the node need not exist.
    pub path: &'a str,
    /// Persistent or persistent recursive.
    pub mode: AddWatchMode,
}

impl Encode for AddWatchRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        buf.put_i32(self.mode.as_i32());
    }
}

impl Request for AddWatchRequest<'_> {
    const OP: OpCode = OpCode::AddWatch;
    type Response = ();
}

/// Removes this session's watches of a kind from a path on the server (op
/// `removeWatches`). The server answers `NoWatcher` if there was none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveWatchesRequest<'a> {
    /// Server path of the watches.
    pub path: &'a str,
    /// Which watches.
    pub watcher_type: WatcherType,
}

impl Encode for RemoveWatchesRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        buf.put_i32(self.watcher_type.as_i32());
    }
}

impl Request for RemoveWatchesRequest<'_> {
    const OP: OpCode = OpCode::RemoveWatches;
    type Response = ();
}

/// Asks whether this session has watches of a kind on a path (op `checkWatches`):
/// success if so, `NoWatcher` if not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckWatchesRequest<'a> {
    /// Server path of the watches.
    pub path: &'a str,
    /// Which watches.
    pub watcher_type: WatcherType,
}

impl Encode for CheckWatchesRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, self.path);
        buf.put_i32(self.watcher_type.as_i32());
    }
}

impl Request for CheckWatchesRequest<'_> {
    const OP: OpCode = OpCode::CheckWatches;
    type Response = ();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jute::tests::encoded;

    #[test]
    fn watch_requests_write_path_then_int() {
        assert_eq!(
            encoded(&AddWatchRequest {
                path: "/w",
                mode: AddWatchMode::PersistentRecursive
            }),
            vec![0, 0, 0, 2, b'/', b'w', 0, 0, 0, 1]
        );
        assert_eq!(
            encoded(&RemoveWatchesRequest {
                path: "/w",
                watcher_type: WatcherType::Data
            }),
            vec![0, 0, 0, 2, b'/', b'w', 0, 0, 0, 2]
        );
        assert_eq!(
            encoded(&CheckWatchesRequest {
                path: "/w",
                watcher_type: WatcherType::Any
            }),
            vec![0, 0, 0, 2, b'/', b'w', 0, 0, 0, 3]
        );
        assert_eq!(AddWatchRequest::OP.as_i32(), 106);
        assert_eq!(RemoveWatchesRequest::OP.as_i32(), 18);
        assert_eq!(CheckWatchesRequest::OP.as_i32(), 17);
    }
}
