//! Records of the session itself: the connect handshake, request and reply
//! headers, and auth packets.

use bytes::{BufMut, Bytes, BytesMut};

use super::code::Code;
use super::jute::{Decode, DecodeError, Encode, Reader, write_bool, write_buffer, write_string};
use super::opcode::OpCode;

/// The first packet of a connection: asks for a new session or resumes one.
///
/// A new session sends `session_id` 0 and a 16-byte zeroed `passwd`; a resumed one
/// sends the id and password the server handed out. The trailing `read_only` byte
/// is not part of the jute record: the Java client writes it right after, and
/// servers of 3.4 and later read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Protocol version; always 0.
    pub protocol_version: i32,
    /// The last zxid this client has seen (0 if none), so a server behind it refuses the connection.
    pub last_zxid_seen: i64,
    /// The session timeout asked for, in milliseconds; the server clamps it.
    pub timeout_ms: i32,
    /// The session to resume, or 0 for a new one.
    pub session_id: i64,
    /// The session password (16 bytes).
    pub passwd: Bytes,
    /// Whether the client accepts a read-only server.
    pub read_only: bool,
}

impl Encode for ConnectRequest {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.protocol_version);
        buf.put_i64(self.last_zxid_seen);
        buf.put_i32(self.timeout_ms);
        buf.put_i64(self.session_id);
        write_buffer(buf, &self.passwd);
        write_bool(buf, self.read_only);
    }
}

impl Decode for ConnectRequest {
    /// Reads a connect request as a server would (for scripted test servers).
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: r.read_i32("connect.protocolVersion")?,
            last_zxid_seen: r.read_i64("connect.lastZxidSeen")?,
            timeout_ms: r.read_i32("connect.timeOut")?,
            session_id: r.read_i64("connect.sessionId")?,
            passwd: r.read_bytes("connect.passwd")?,
            read_only: read_optional_bool(r, "connect.readOnly")?,
        })
    }
}

/// The server's answer to a [`ConnectRequest`].
///
/// A server that refuses to resume an expired session answers with `timeout_ms`
/// 0 (and session id 0): the session layer treats that as expiry.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Protocol version; 0.
    pub protocol_version: i32,
    /// The negotiated session timeout in milliseconds (0 means the session expired).
    pub timeout_ms: i32,
    /// The session id.
    pub session_id: i64,
    /// The session password, needed to resume the session on another server.
    pub passwd: Bytes,
    /// Whether the server is read-only. Old servers do not send this byte: false then.
    pub read_only: bool,
}

impl Decode for ConnectResponse {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: r.read_i32("connectResponse.protocolVersion")?,
            timeout_ms: r.read_i32("connectResponse.timeOut")?,
            session_id: r.read_i64("connectResponse.sessionId")?,
            passwd: r.read_bytes("connectResponse.passwd")?,
            read_only: read_optional_bool(r, "connectResponse.readOnly")?,
        })
    }
}

impl Encode for ConnectResponse {
    /// Writes a connect response as a server would (for scripted test servers).
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.protocol_version);
        buf.put_i32(self.timeout_ms);
        buf.put_i64(self.session_id);
        write_buffer(buf, &self.passwd);
        write_bool(buf, self.read_only);
    }
}

/// A trailing boolean that older peers leave out: absent reads as false.
fn read_optional_bool(r: &mut Reader, field: &'static str) -> Result<bool, DecodeError> {
    if r.remaining() == 0 {
        return Ok(false);
    }
    r.read_bool(field)
}

/// The header in front of every request after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader {
    /// The request's id, echoed in the reply (see [`super::opcode::xid`] for reserved ones).
    pub xid: i32,
    /// The operation.
    pub op: OpCode,
}

impl RequestHeader {
    /// Size of an encoded header.
    pub const ENCODED_LEN: usize = 8;
}

impl Encode for RequestHeader {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.xid);
        buf.put_i32(self.op.as_i32());
    }
}

impl Decode for RequestHeader {
    /// Reads a request header as a server would (for scripted test servers).
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let xid = r.read_i32("requestHeader.xid")?;
        let op = r.read_i32("requestHeader.type")?;
        let op = OpCode::from_i32(op).ok_or(DecodeError::UnknownValue {
            field: "requestHeader.type",
            value: op,
        })?;
        Ok(RequestHeader { xid, op })
    }
}

/// The header in front of every reply and notification after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The xid of the request answered, or a reserved xid (notification, ping, ...).
    pub xid: i32,
    /// The zxid the server had reached when it answered (-1 in notifications).
    pub zxid: i64,
    /// The result code; 0 is success. A failed request has no body after the header.
    pub err: i32,
}

impl ReplyHeader {
    /// Size of an encoded header.
    pub const ENCODED_LEN: usize = 16;

    /// The result code as a [`Code`].
    pub fn code(&self) -> Code {
        Code::from_i32(self.err)
    }
}

impl Decode for ReplyHeader {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(ReplyHeader {
            xid: r.read_i32("replyHeader.xid")?,
            zxid: r.read_i64("replyHeader.zxid")?,
            err: r.read_i32("replyHeader.err")?,
        })
    }
}

impl Encode for ReplyHeader {
    /// Writes a reply header as a server would (for scripted test servers).
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.xid);
        buf.put_i64(self.zxid);
        buf.put_i32(self.err);
    }
}

/// Adds an identity to the session (`addauth`), sent with xid
/// [`super::opcode::xid::AUTH`] and op [`OpCode::Auth`].
///
/// For the digest scheme `auth` is `user:password` in clear; the server hashes it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthPacket {
    /// Always 0.
    pub auth_type: i32,
    /// The scheme, e.g. `digest`.
    pub scheme: String,
    /// The credentials, in the scheme's format.
    pub auth: Bytes,
}

impl Encode for AuthPacket {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.auth_type);
        write_string(buf, &self.scheme);
        write_buffer(buf, &self.auth);
    }
}

impl Decode for AuthPacket {
    /// Reads an auth packet as a server would (for scripted test servers).
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(AuthPacket {
            auth_type: r.read_i32("auth.type")?,
            scheme: r.read_string("auth.scheme")?,
            auth: r.read_bytes("auth.auth")?,
        })
    }
}

// Debug output leaves out the session password and the auth data.
impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("protocol_version", &self.protocol_version)
            .field("last_zxid_seen", &self.last_zxid_seen)
            .field("timeout_ms", &self.timeout_ms)
            .field("session_id", &format_args!("{:#x}", self.session_id))
            .field("passwd", &crate::redact::Redacted(!self.passwd.is_empty()))
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl std::fmt::Debug for ConnectResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectResponse")
            .field("protocol_version", &self.protocol_version)
            .field("timeout_ms", &self.timeout_ms)
            .field("session_id", &format_args!("{:#x}", self.session_id))
            .field("passwd", &crate::redact::Redacted(!self.passwd.is_empty()))
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl std::fmt::Debug for AuthPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthPacket")
            .field("auth_type", &self.auth_type)
            .field("scheme", &self.scheme)
            .field("auth", &crate::redact::Redacted(!self.auth.is_empty()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jute::tests::encoded;

    #[test]
    fn connect_request_has_jute_layout_and_trailing_read_only_byte() {
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0x0102,
            timeout_ms: 30_000,
            session_id: 0x0A0B,
            passwd: Bytes::from_static(&[0xAA, 0xBB]),
            read_only: true,
        };
        let expected: Vec<u8> = [
            &[0, 0, 0, 0][..],               // protocolVersion
            &[0, 0, 0, 0, 0, 0, 0x01, 0x02], // lastZxidSeen
            &[0, 0, 0x75, 0x30],             // timeOut 30000
            &[0, 0, 0, 0, 0, 0, 0x0A, 0x0B], // sessionId
            &[0, 0, 0, 2, 0xAA, 0xBB],       // passwd
            &[1],                            // readOnly
        ]
        .concat();
        assert_eq!(encoded(&req), expected);
        let mut r = Reader::new(Bytes::from(expected));
        assert_eq!(ConnectRequest::decode(&mut r).unwrap(), req);
    }

    fn connect_response_bytes(read_only: Option<u8>) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0, 0, 0, 0x27, 0x10]; // version 0, timeout 10000
        v.extend_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 16]);
        v.extend_from_slice(&[7; 16]);
        v.extend(read_only);
        v
    }

    #[test]
    fn connect_response_decodes_with_and_without_read_only_byte() {
        let mut r = Reader::new(Bytes::from(connect_response_bytes(Some(1))));
        let resp = ConnectResponse::decode(&mut r).unwrap();
        assert_eq!(resp.timeout_ms, 10_000);
        assert_eq!(resp.session_id, 0x1234_5678_9abc_def0u64 as i64);
        assert_eq!(&resp.passwd[..], &[7; 16]);
        assert!(resp.read_only);
        assert_eq!(r.remaining(), 0);

        let mut r = Reader::new(Bytes::from(connect_response_bytes(None)));
        let old = ConnectResponse::decode(&mut r).unwrap();
        assert!(!old.read_only);
        assert_eq!(old.passwd, resp.passwd);
        assert_eq!(encoded(&resp), connect_response_bytes(Some(1)));
    }

    #[test]
    fn truncated_connect_response_is_an_error() {
        let bytes = connect_response_bytes(Some(0));
        let mut r = Reader::new(Bytes::copy_from_slice(&bytes[..20]));
        assert!(matches!(
            ConnectResponse::decode(&mut r),
            Err(DecodeError::Truncated {
                field: "connectResponse.passwd",
                ..
            })
        ));
    }

    #[test]
    fn request_header_writes_xid_then_op() {
        let h = RequestHeader {
            xid: 7,
            op: OpCode::GetData,
        };
        assert_eq!(encoded(&h), vec![0, 0, 0, 7, 0, 0, 0, 4]);
        let ping = RequestHeader {
            xid: super::super::opcode::xid::PING,
            op: OpCode::Ping,
        };
        assert_eq!(encoded(&ping), vec![0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
        let mut r = Reader::new(Bytes::from(encoded(&ping)));
        assert_eq!(RequestHeader::decode(&mut r).unwrap(), ping);
    }

    #[test]
    fn reply_header_decodes_and_names_its_code() {
        let mut bytes = vec![0, 0, 0, 9];
        bytes.extend_from_slice(&42i64.to_be_bytes());
        bytes.extend_from_slice(&(-101i32).to_be_bytes());
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let h = ReplyHeader::decode(&mut r).unwrap();
        assert_eq!(
            h,
            ReplyHeader {
                xid: 9,
                zxid: 42,
                err: -101
            }
        );
        assert_eq!(h.code(), Code::NoNode);
        assert_eq!(encoded(&h), bytes);
        let mut short = Reader::new(Bytes::copy_from_slice(&bytes[..15]));
        assert!(ReplyHeader::decode(&mut short).is_err());
    }

    #[test]
    fn auth_packet_layout() {
        let p = AuthPacket {
            auth_type: 0,
            scheme: "digest".into(),
            auth: Bytes::from_static(b"u:p"),
        };
        let mut expected = vec![0, 0, 0, 0, 0, 0, 0, 6];
        expected.extend_from_slice(b"digest");
        expected.extend_from_slice(&[0, 0, 0, 3]);
        expected.extend_from_slice(b"u:p");
        assert_eq!(encoded(&p), expected);
        let mut r = Reader::new(Bytes::from(expected));
        assert_eq!(AuthPacket::decode(&mut r).unwrap(), p);
    }
}
