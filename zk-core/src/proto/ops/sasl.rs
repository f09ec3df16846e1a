//! The SASL exchange (op `sasl`): the client's token in a `GetSASLRequest`, the server's
//! in a `SetSASLResponse`. Tokens are opaque here; the mechanism (`crate::sasl`, behind a
//! cargo feature) reads and writes them.

use bytes::{Bytes, BytesMut};

use crate::proto::jute::{Decode, DecodeError, Encode, Reader, write_buffer};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;

/// One client token of a SASL exchange (may be empty: DIGEST-MD5 starts with nothing).
/// Its `Debug` output shows only the token's length.
#[derive(Clone, Copy)]
pub struct GetSaslRequest<'a> {
    /// The mechanism's token.
    pub token: &'a [u8],
}

impl std::fmt::Debug for GetSaslRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetSaslRequest")
            .field("token_len", &self.token.len())
            .finish()
    }
}

impl Encode for GetSaslRequest<'_> {
    fn encode(&self, buf: &mut BytesMut) {
        write_buffer(buf, self.token);
    }
}

impl Request for GetSaslRequest<'_> {
    const OP: OpCode = OpCode::Sasl;
    type Response = SetSaslResponse;
}

/// The server's answer to one SASL token: its own token (none when it has nothing to say).
/// Its `Debug` output shows only the token's length.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SetSaslResponse {
    /// The server's token; a null buffer is `None`.
    pub token: Option<Bytes>,
}

impl std::fmt::Debug for SetSaslResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetSaslResponse")
            .field("token_len", &self.token.as_ref().map(Bytes::len))
            .finish()
    }
}

impl Decode for SetSaslResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SetSaslResponse {
            token: r.read_buffer("setSASLResponse.token")?,
        })
    }
}

impl Encode for SetSaslResponse {
    fn encode(&self, buf: &mut BytesMut) {
        match &self.token {
            Some(token) => write_buffer(buf, token),
            None => crate::proto::jute::write_null(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::write_request;

    #[test]
    fn a_sasl_token_is_one_buffer_under_op_102() {
        let mut buf = BytesMut::new();
        write_request(&mut buf, 7, &GetSaslRequest { token: b"ab" });
        assert_eq!(
            &buf[..],
            &[
                0, 0, 0, 14, 0, 0, 0, 7, 0, 0, 0, 102, 0, 0, 0, 2, b'a', b'b'
            ][..]
        );
    }

    #[test]
    fn the_servers_token_may_be_null_and_a_short_one_is_refused() {
        let null = SetSaslResponse::decode(&mut Reader::new(Bytes::from_static(&[
            0xff, 0xff, 0xff, 0xff,
        ])))
        .expect("a null buffer");
        assert_eq!(null.token, None);
        let short = SetSaslResponse::decode(&mut Reader::new(Bytes::from_static(&[0, 0, 0, 9, 1])));
        assert!(short.is_err());
        let debug = format!(
            "{:?}",
            SetSaslResponse {
                token: Some(Bytes::from_static(b"rspauth=secret"))
            }
        );
        assert!(!debug.contains("secret"), "{debug}");
    }
}
