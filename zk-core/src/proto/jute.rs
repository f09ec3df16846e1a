//! Jute, ZooKeeper's record serialization: big-endian integers, length-prefixed
//! buffers and strings (length -1 means null), and count-prefixed vectors.
//!
//! Decoding reads from a [`Reader`] over a [`Bytes`] frame, so byte buffers in a
//! reply are handed out as slices of the read buffer without copying. Every read
//! checks the remaining length first and fails with a [`DecodeError`]; nothing
//! here panics on bytes from the network, and no length read from the wire is
//! trusted for an allocation before the bytes behind it are known to be there.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The record ended before a field was complete.
    #[error("truncated record: {field} needs {needed} bytes, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length or count was negative where null is not allowed, or below -1.
    #[error("invalid length {len} for {field}")]
    InvalidLength {
        /// The field being read.
        field: &'static str,
        /// The length found on the wire.
        len: i32,
    },
    /// A string was not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// An enumerated field held a value this client does not know.
    #[error("unknown value {value} for {field}")]
    UnknownValue {
        /// The field being read.
        field: &'static str,
        /// The value found on the wire.
        value: i32,
    },
}

/// A record that can be written in jute form.
pub trait Encode {
    /// Appends the record's encoding to `buf`.
    fn encode(&self, buf: &mut BytesMut);
}

/// A record that can be read from jute form.
pub trait Decode: Sized {
    /// Reads one record from the front of `r`.
    fn decode(r: &mut Reader) -> Result<Self, DecodeError>;
}

impl Encode for () {
    fn encode(&self, _buf: &mut BytesMut) {}
}

impl Decode for () {
    fn decode(_r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(())
    }
}

/// A cursor over one received frame.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    /// A reader over `buf`.
    pub fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The bytes not yet read, consuming the reader.
    pub fn into_rest(self) -> Bytes {
        self.buf
    }

    fn need(&self, field: &'static str, needed: usize) -> Result<(), DecodeError> {
        if self.buf.len() < needed {
            return Err(DecodeError::Truncated {
                field,
                needed,
                available: self.buf.len(),
            });
        }
        Ok(())
    }

    /// Reads a jute `int`.
    pub fn read_i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        self.need(field, 4)?;
        Ok(self.buf.get_i32())
    }

    /// Reads a jute `long`.
    pub fn read_i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        self.need(field, 8)?;
        Ok(self.buf.get_i64())
    }

    /// Reads a jute `boolean` (one byte, non-zero is true).
    pub fn read_bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.need(field, 1)?;
        Ok(self.buf.get_u8() != 0)
    }

    /// Reads a length that may be -1 (null); any other negative value is an error.
    fn read_len(&mut self, field: &'static str) -> Result<Option<usize>, DecodeError> {
        let len = self.read_i32(field)?;
        match len {
            -1 => Ok(None),
            n if n < 0 => Err(DecodeError::InvalidLength { field, len }),
            n => Ok(Some(n as usize)),
        }
    }

    /// Reads a jute `buffer`; null is `None`. The bytes share the frame's memory.
    pub fn read_buffer(&mut self, field: &'static str) -> Result<Option<Bytes>, DecodeError> {
        match self.read_len(field)? {
            None => Ok(None),
            Some(len) => {
                self.need(field, len)?;
                Ok(Some(self.buf.split_to(len)))
            }
        }
    }

    /// Reads a jute `buffer`, treating null as empty.
    pub fn read_bytes(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        Ok(self.read_buffer(field)?.unwrap_or_default())
    }

    /// Reads a jute `ustring`, treating null as empty.
    pub fn read_string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let bytes = self.read_bytes(field)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidUtf8 { field })
    }

    /// Reads a jute `vector` of records; null is an empty vector.
    ///
    /// `min_item_len` is the smallest encoding of one item: a count larger than the
    /// remaining bytes allow is refused before anything is allocated.
    pub fn read_vec<T>(
        &mut self,
        field: &'static str,
        min_item_len: usize,
        mut item: impl FnMut(&mut Reader) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let Some(count) = self.read_len(field)? else {
            return Ok(Vec::new());
        };
        let needed = count.saturating_mul(min_item_len.max(1));
        self.need(field, needed)?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// Reads a jute `vector<ustring>`.
    pub fn read_string_vec(&mut self, field: &'static str) -> Result<Vec<String>, DecodeError> {
        self.read_vec(field, 4, |r| r.read_string(field))
    }
}

/// Writes a jute `buffer`.
pub fn write_buffer(buf: &mut BytesMut, data: &[u8]) {
    buf.put_i32(data.len() as i32);
    buf.put_slice(data);
}

/// Writes a null jute `buffer` (length -1).
pub fn write_null(buf: &mut BytesMut) {
    buf.put_i32(-1);
}

/// Writes a jute `ustring`.
pub fn write_string(buf: &mut BytesMut, s: &str) {
    write_buffer(buf, s.as_bytes());
}

/// Writes a jute `boolean`.
pub fn write_bool(buf: &mut BytesMut, b: bool) {
    buf.put_u8(b as u8);
}

/// Writes a jute `vector` of items with `item`.
pub fn write_vec<T>(buf: &mut BytesMut, items: &[T], mut item: impl FnMut(&mut BytesMut, &T)) {
    buf.put_i32(items.len() as i32);
    for it in items {
        item(buf, it);
    }
}

/// Writes a jute `vector<ustring>`.
pub fn write_string_vec<S: AsRef<str>>(buf: &mut BytesMut, items: &[S]) {
    write_vec(buf, items, |b, s| write_string(b, s.as_ref()));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The bytes `record` encodes to.
    pub(crate) fn encoded(record: &impl Encode) -> Vec<u8> {
        let mut buf = BytesMut::new();
        record.encode(&mut buf);
        buf.to_vec()
    }

    fn reader(bytes: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn primitives_round_trip() {
        let mut buf = BytesMut::new();
        buf.put_i32(-7);
        buf.put_i64(1 << 40);
        write_bool(&mut buf, true);
        write_buffer(&mut buf, b"abc");
        write_null(&mut buf);
        write_string(&mut buf, "/a/b");
        write_string_vec(&mut buf, &["x", "yz"]);
        let mut r = Reader::new(buf.freeze());
        assert_eq!(r.read_i32("i").unwrap(), -7);
        assert_eq!(r.read_i64("l").unwrap(), 1 << 40);
        assert!(r.read_bool("b").unwrap());
        assert_eq!(r.read_buffer("buf").unwrap().unwrap(), &b"abc"[..]);
        assert_eq!(r.read_buffer("null").unwrap(), None);
        assert_eq!(r.read_string("s").unwrap(), "/a/b");
        assert_eq!(r.read_string_vec("v").unwrap(), vec!["x", "yz"]);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn truncated_fields_are_errors() {
        assert!(matches!(
            reader(&[0, 0, 1]).read_i32("f"),
            Err(DecodeError::Truncated {
                needed: 4,
                available: 3,
                ..
            })
        ));
        // A buffer claiming 10 bytes with 2 present.
        assert!(matches!(
            reader(&[0, 0, 0, 10, 1, 2]).read_buffer("f"),
            Err(DecodeError::Truncated {
                needed: 10,
                available: 2,
                ..
            })
        ));
    }

    #[test]
    fn negative_lengths_other_than_null_are_refused() {
        assert_eq!(
            reader(&[0xff, 0xff, 0xff, 0xfe]).read_buffer("f"),
            Err(DecodeError::InvalidLength {
                field: "f",
                len: -2
            })
        );
    }

    #[test]
    fn huge_vector_count_is_refused_before_allocating() {
        // i32::MAX strings claimed, 4 bytes present.
        let err = reader(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0])
            .read_string_vec("children")
            .unwrap_err();
        assert!(matches!(err, DecodeError::Truncated { .. }));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(
            reader(&[0, 0, 0, 2, 0xff, 0xfe]).read_string("path"),
            Err(DecodeError::InvalidUtf8 { field: "path" })
        );
    }
}
