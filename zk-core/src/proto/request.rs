//! The [`Request`] trait ties a request record to its operation code and the
//! record the server answers with, and [`write_request`] frames one for the wire.
//! A request frame is a [`frame::write()`] of the request header and the record;
//! its xid can be rewritten in place once the frame is encoded.
//!
//! Request records borrow their inputs: they are encoded into the frame buffer as
//! soon as they are built. Paths in them are full server paths: the session adds
//! any chroot before it builds a request.

use bytes::BytesMut;

use super::frame;
use super::jute::{Decode, Encode};
use super::opcode::OpCode;
use super::session_records::RequestHeader;

/// A request the client sends after the handshake.
pub trait Request: Encode {
    /// The operation code sent in the request header.
    const OP: OpCode;
    /// The record the server answers with (`()` when the reply has no body).
    type Response: Decode;
}

/// Appends one whole frame to `buf`: length prefix, request header (`xid`,
/// `R::OP`) and the request record. Returns the length of the frame body, which
/// the caller can check against the server's limit before sending.
///
/// ```
/// use bytes::BytesMut;
/// use zk_core::proto::{write_request, ops::GetDataRequest};
/// let mut buf = BytesMut::new();
/// let len = write_request(&mut buf, 1, &GetDataRequest { path: "/a", watch: false });
/// assert_eq!(len, buf.len() - 4);
/// ```
pub fn write_request<R: Request>(buf: &mut BytesMut, xid: i32, request: &R) -> usize {
    write_frame(buf, xid, R::OP, request)
}

/// Like [`write_request`] for a record sent under an explicit operation code, as
/// for [`super::AuthPacket`] (op `Auth`) or [`super::SetWatches`] (op `SetWatches`).
/// Every request frame the client sends is written here, through [`frame::write()`].
pub fn write_frame(buf: &mut BytesMut, xid: i32, op: OpCode, record: &impl Encode) -> usize {
    frame::write(
        buf,
        &RequestBody {
            header: RequestHeader { xid, op },
            record,
        },
    )
}

/// Rewrites the xid of a frame written by [`write_frame`], so a frame can be
/// encoded before its xid is known (the session task numbers requests as it sends
/// them).
pub(crate) fn set_xid(frame: &mut [u8], xid: i32) {
    frame[frame::LENGTH_PREFIX..frame::LENGTH_PREFIX + 4].copy_from_slice(&xid.to_be_bytes());
}

/// A request frame's body: the header, then the record.
struct RequestBody<'r, R> {
    /// The xid and operation code.
    header: RequestHeader,
    /// The request record, encoded straight after the header.
    record: &'r R,
}

impl<R: Encode> Encode for RequestBody<'_, R> {
    fn encode(&self, buf: &mut BytesMut) {
        self.header.encode(buf);
        self.record.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ops::{ExistsRequest, PingRequest};

    #[test]
    fn write_request_frames_header_and_body() {
        let mut buf = BytesMut::new();
        let len = write_request(
            &mut buf,
            5,
            &ExistsRequest {
                path: "/x",
                watch: true,
            },
        );
        let expected: Vec<u8> = [
            &[0, 0, 0, 15][..],        // frame length
            &[0, 0, 0, 5, 0, 0, 0, 3], // xid 5, op exists
            &[0, 0, 0, 2, b'/', b'x'], // path
            &[1],                      // watch
        ]
        .concat();
        assert_eq!(&buf[..], &expected[..]);
        assert_eq!(len, 15);
    }

    #[test]
    fn frames_append_after_earlier_ones() {
        let mut buf = BytesMut::new();
        write_request(&mut buf, -2, &PingRequest);
        let first = buf.len();
        write_request(&mut buf, 1, &PingRequest);
        assert_eq!(first, 12);
        assert_eq!(&buf[first..first + 4], &[0, 0, 0, 8]);
        assert_eq!(&buf[first + 4..], &[0, 0, 0, 1, 0, 0, 0, 11]);
    }
}
