//! Framing: every packet is a 4-byte big-endian length followed by that many bytes.
//!
//! [`check`] looks at a read buffer and says whether a whole frame is there, without
//! allocating; a length above the limit (ZooKeeper's `jute.maxbuffer`) or below zero
//! is refused before anything is read into memory for it.
//!
//! [`write()`] is the one place a frame is written: the handshake's connect request
//! goes through it directly, every other request through
//! [`write_frame`](super::write_frame), which puts a request header before the record.

use bytes::BytesMut;

use super::jute::Encode;

/// The default frame limit: ZooKeeper's default `jute.maxbuffer`, 0xfffff bytes.
pub const DEFAULT_MAX_FRAME_LEN: usize = 0xfffff;

/// Length of the prefix that carries a frame's size.
pub const LENGTH_PREFIX: usize = 4;

/// A frame header the client refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame claims more bytes than the limit allows.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The length the peer announced.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The frame length is negative.
    #[error("negative frame length {0}")]
    NegativeLength(i32),
}

/// If `buf` starts with a whole frame, returns its body length (without the prefix).
/// Returns `Ok(None)` when more bytes are needed.
pub fn check(buf: &[u8], max_len: usize) -> Result<Option<usize>, FrameError> {
    let Some(prefix) = buf.get(..LENGTH_PREFIX) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if len < 0 {
        return Err(FrameError::NegativeLength(len));
    }
    let len = len as usize;
    if len > max_len {
        return Err(FrameError::TooLarge { len, max: max_len });
    }
    if buf.len() - LENGTH_PREFIX < len {
        return Ok(None);
    }
    Ok(Some(len))
}

/// Appends one whole frame to `buf`: the length prefix, then `body` encoded in
/// place (no copy). Returns the body's length, which the caller can check against
/// the server's limit before sending.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use zk_core::proto::{ConnectRequest, frame};
/// let mut buf = BytesMut::new();
/// let request = ConnectRequest {
///     protocol_version: 0,
///     last_zxid_seen: 0,
///     timeout_ms: 30_000,
///     session_id: 0,
///     passwd: Bytes::from_static(&[0; 16]),
///     read_only: false,
/// };
/// let len = frame::write(&mut buf, &request);
/// assert_eq!(frame::check(&buf, frame::DEFAULT_MAX_FRAME_LEN), Ok(Some(len)));
/// ```
pub fn write(buf: &mut BytesMut, body: &impl Encode) -> usize {
    let at = start(buf);
    body.encode(buf);
    finish(buf, at)
}

/// Starts a frame in `buf`: reserves the length prefix and returns its offset,
/// to be filled by [`finish`] once the body is written.
fn start(buf: &mut BytesMut) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[0; LENGTH_PREFIX]);
    at
}

/// Writes the length of the frame begun at `at` into its prefix and returns it.
fn finish(buf: &mut BytesMut, at: usize) -> usize {
    let len = buf.len() - at - LENGTH_PREFIX;
    buf[at..at + LENGTH_PREFIX].copy_from_slice(&(len as i32).to_be_bytes());
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_prefix_and_partial_body_need_more() {
        assert_eq!(check(&[0, 0], 100), Ok(None));
        assert_eq!(check(&[0, 0, 0, 3, 1, 2], 100), Ok(None));
        assert_eq!(check(&[0, 0, 0, 3, 1, 2, 3, 9], 100), Ok(Some(3)));
    }

    #[test]
    fn oversized_and_negative_lengths_are_refused_from_the_prefix_alone() {
        assert_eq!(
            check(&[0, 0x10, 0, 0], DEFAULT_MAX_FRAME_LEN),
            Err(FrameError::TooLarge {
                len: 0x100000,
                max: DEFAULT_MAX_FRAME_LEN
            })
        );
        assert_eq!(
            check(&[0xff, 0xff, 0xff, 0xff], 100),
            Err(FrameError::NegativeLength(-1))
        );
    }

    #[test]
    fn start_and_finish_write_the_body_length() {
        let mut buf = BytesMut::new();
        let at = start(&mut buf);
        buf.extend_from_slice(b"hello");
        finish(&mut buf, at);
        assert_eq!(&buf[..4], &[0, 0, 0, 5]);
        assert_eq!(check(&buf, 100), Ok(Some(5)));
    }
}
