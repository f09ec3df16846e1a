//! Framing: every packet is a 4-byte big-endian length followed by that many bytes.
//!
//! [`check`] looks at a read buffer and says whether a whole frame is there, without
//! allocating; a length above the limit (ZooKeeper's `jute.maxbuffer`) or below zero
//! is refused before anything is read into memory for it.
//!
//! `Splitter` cuts frames off a read buffer and passes over a frame above the
//! limit without holding it: its first bytes (a reply's header) are kept, the rest
//! is discarded as it arrives, so the one request it answers can fail alone.
//!
//! [`write()`] is the one place a frame is written: the handshake's connect request
//! goes through it directly, every other request through
//! [`write_frame`](super::write_frame), which puts a request header before the record.

use bytes::{Buf, Bytes, BytesMut};

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

/// What [`Splitter::next`] found at the front of a read buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Split {
    /// A whole frame's body.
    Frame(Bytes),
    /// A frame over the limit: its announced body length and its first bytes (up
    /// to the splitter's head length). The rest of it is being discarded.
    TooLarge {
        /// The body length the peer announced.
        len: usize,
        /// The body's first bytes.
        head: Bytes,
    },
}

/// Cuts frames off a read buffer; a frame over the limit is reported by its head
/// and then skipped as its bytes arrive, never held whole.
#[derive(Debug)]
pub(crate) struct Splitter {
    /// The largest body accepted.
    max_len: usize,
    /// How many bytes of an oversized body to keep (a reply header).
    head_len: usize,
    /// Bytes of an oversized frame still to discard.
    skip: usize,
}

impl Splitter {
    /// A splitter for bodies of at most `max_len` bytes that keeps the first
    /// `head_len` bytes of a larger one.
    pub(crate) fn new(max_len: usize, head_len: usize) -> Self {
        Splitter {
            max_len,
            head_len,
            skip: 0,
        }
    }

    /// Whether the bytes of an oversized frame are still being discarded.
    #[cfg(test)]
    pub(crate) fn is_skipping(&self) -> bool {
        self.skip > 0
    }

    /// The next frame at the front of `buf`, or `None` until more bytes arrive.
    /// Bytes of an oversized frame are dropped from `buf` first; a negative length
    /// is an error (the stream cannot be followed past it).
    pub(crate) fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Split>, FrameError> {
        if self.skip > 0 {
            let n = self.skip.min(buf.len());
            buf.advance(n);
            self.skip -= n;
            if self.skip > 0 {
                return Ok(None);
            }
        }
        match check(buf, self.max_len) {
            Ok(Some(len)) => {
                buf.advance(LENGTH_PREFIX);
                Ok(Some(Split::Frame(buf.split_to(len).freeze())))
            }
            Ok(None) => Ok(None),
            Err(FrameError::TooLarge { len, .. }) => {
                let head_len = self.head_len.min(len);
                if buf.len() < LENGTH_PREFIX + head_len {
                    return Ok(None);
                }
                buf.advance(LENGTH_PREFIX);
                let head = buf.split_to(head_len).freeze();
                self.skip = len - head_len;
                // Whatever of the rest is buffered goes now.
                let n = self.skip.min(buf.len());
                buf.advance(n);
                self.skip -= n;
                Ok(Some(Split::TooLarge { len, head }))
            }
            Err(e) => Err(e),
        }
    }
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

    /// A frame of `len` body bytes, each `fill`.
    fn framed(len: usize, fill: u8) -> Vec<u8> {
        let mut v = (len as i32).to_be_bytes().to_vec();
        v.extend(std::iter::repeat_n(fill, len));
        v
    }

    #[test]
    fn an_oversized_frame_is_reported_by_its_head_and_skipped_as_it_arrives() {
        let mut split = Splitter::new(8, 4);
        let mut stream = framed(3, 1);
        stream.extend(framed(1000, 7));
        stream.extend(framed(2, 9));
        let mut buf = BytesMut::new();
        let mut seen = Vec::new();
        let mut most_held = 0;
        // Fed 10 bytes at a time, as reads would bring them.
        for chunk in stream.chunks(10) {
            buf.extend_from_slice(chunk);
            while let Some(item) = split.next(&mut buf).unwrap() {
                seen.push(item);
            }
            most_held = most_held.max(buf.len());
        }
        assert_eq!(
            seen,
            vec![
                Split::Frame(Bytes::from_static(&[1, 1, 1])),
                Split::TooLarge {
                    len: 1000,
                    head: Bytes::from_static(&[7; 4])
                },
                Split::Frame(Bytes::from_static(&[9, 9])),
            ]
        );
        assert!(most_held < 10, "the big frame was never held: {most_held}");
        assert!(!split.is_skipping() && buf.is_empty());
    }

    #[test]
    fn an_oversized_frame_waits_for_its_head_and_a_negative_length_is_refused() {
        let mut split = Splitter::new(8, 4);
        let mut buf = BytesMut::from(&framed(100, 5)[..6]);
        assert_eq!(split.next(&mut buf), Ok(None), "two head bytes of four");
        buf.extend_from_slice(&[5; 2]);
        assert!(matches!(
            split.next(&mut buf),
            Ok(Some(Split::TooLarge { len: 100, .. }))
        ));
        assert!(split.is_skipping());
        buf.extend_from_slice(&[5; 96]);
        buf.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(split.next(&mut buf), Err(FrameError::NegativeLength(-1)));
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
