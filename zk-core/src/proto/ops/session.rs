//! Requests about the session itself: ping, closeSession and whoAmI.

use bytes::BytesMut;

use crate::proto::jute::{Decode, DecodeError, Encode, Reader, write_string, write_vec};
use crate::proto::opcode::OpCode;
use crate::proto::request::Request;

/// Keeps the session alive (op `ping`, sent with xid [`crate::proto::opcode::xid::PING`]).
/// No body either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PingRequest;

impl Encode for PingRequest {
    fn encode(&self, _buf: &mut BytesMut) {}
}

impl Request for PingRequest {
    const OP: OpCode = OpCode::Ping;
    type Response = ();
}

/// Ends the session on the server, deleting its ephemeral nodes (op `closeSession`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloseSessionRequest;

impl Encode for CloseSessionRequest {
    fn encode(&self, _buf: &mut BytesMut) {}
}

impl Request for CloseSessionRequest {
    const OP: OpCode = OpCode::CloseSession;
    type Response = ();
}

/// Asks which identities the session is authenticated as (op `whoAmI`, 3.7+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WhoAmIRequest;

impl Encode for WhoAmIRequest {
    fn encode(&self, _buf: &mut BytesMut) {}
}

impl Request for WhoAmIRequest {
    const OP: OpCode = OpCode::WhoAmI;
    type Response = WhoAmIResponse;
}

/// One identity of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The scheme, e.g. `ip` or `digest`.
    pub auth_scheme: String,
    /// The user within the scheme.
    pub user: String,
}

impl Decode for ClientInfo {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ClientInfo {
            auth_scheme: r.read_string("clientInfo.authScheme")?,
            user: r.read_string("clientInfo.user")?,
        })
    }
}

impl Encode for ClientInfo {
    fn encode(&self, buf: &mut BytesMut) {
        write_string(buf, &self.auth_scheme);
        write_string(buf, &self.user);
    }
}

/// The answer to `whoAmI`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoAmIResponse {
    /// The session's identities.
    pub client_info: Vec<ClientInfo>,
}

impl Decode for WhoAmIResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(WhoAmIResponse {
            client_info: r.read_vec("whoAmIResponse.clientInfo", 8, ClientInfo::decode)?,
        })
    }
}

impl Encode for WhoAmIResponse {
    fn encode(&self, buf: &mut BytesMut) {
        write_vec(buf, &self.client_info, |b, c| c.encode(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn empty_requests_have_no_body_and_the_right_op() {
        let mut buf = BytesMut::new();
        PingRequest.encode(&mut buf);
        CloseSessionRequest.encode(&mut buf);
        WhoAmIRequest.encode(&mut buf);
        assert!(buf.is_empty());
        assert_eq!(PingRequest::OP.as_i32(), 11);
        assert_eq!(CloseSessionRequest::OP.as_i32(), -11);
        assert_eq!(WhoAmIRequest::OP.as_i32(), 107);
    }

    #[test]
    fn who_am_i_response_decodes_from_hand_built_bytes() {
        let mut bytes = vec![0, 0, 0, 1, 0, 0, 0, 2, b'i', b'p', 0, 0, 0, 9];
        bytes.extend_from_slice(b"127.0.0.1");
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let resp = WhoAmIResponse::decode(&mut r).unwrap();
        assert_eq!(
            resp.client_info,
            vec![ClientInfo {
                auth_scheme: "ip".into(),
                user: "127.0.0.1".into()
            }]
        );
        let mut buf = BytesMut::new();
        resp.encode(&mut buf);
        assert_eq!(&buf[..], &bytes[..]);
    }
}
