//! The opening message of a ZooKeeper election connection, and the rewrite that keeps leader
//! election on the proxies.
//!
//! A server opening an election connection first sends a protocol version
//! (`-65536`, or `-65535` with multi-address), its `myid`, and its own election address as
//! `int length` + `"host:port"` (several joined by `|`). When the receiver has the higher
//! `myid` it closes that connection and opens one back *to the address in the message*, not to
//! the one its own `zoo.cfg` lists (QuorumCnxManager's `handleConnection`). The sender's own
//! address is its real port, so that connection back would bypass the proxies and a partition
//! would leave it open. The link `(i → j)` therefore rewrites the address in `i`'s opening
//! message to the link `(j → i)`, and `j` connects back through it.

use std::sync::{Arc, OnceLock};

use crate::proxy::{Opening, OpeningRewrite};

/// The protocol versions that carry an address (QuorumCnxManager's `PROTOCOL_VERSION_V1`, `_V2`).
const VERSIONS_WITH_ADDRESS: [i64; 2] = [-65536, -65535];
/// The longest address ZooKeeper accepts in the message.
const MAX_ADDRESS_BYTES: usize = 2048;
/// Version, sid, address length.
const HEADER_BYTES: usize = 8 + 8 + 4;

/// A rewrite for the election link `(i → j)` that makes the address in `i`'s opening message
/// `127.0.0.1:<back_port>`, the port of the link `(j → i)` (set once that link has started;
/// until then, and for anything unrecognised, the bytes pass unchanged).
pub(crate) fn connect_back_through(back_port: Arc<OnceLock<u16>>) -> OpeningRewrite {
    OpeningRewrite::new(move |held| match back_port.get() {
        Some(&port) => rewrite_address(held, &format!("127.0.0.1:{port}")),
        None => Opening::Replace(held.to_vec()),
    })
}

/// `held` with the address of its opening message replaced by `address`: check that the whole
/// message is there, then rebuild it; anything that is not an opening message with an
/// address goes on unchanged.
fn rewrite_address(held: &[u8], address: &str) -> Opening {
    let unchanged = || Opening::Replace(held.to_vec());
    let Some(header) = held.get(..HEADER_BYTES) else {
        // A version that is not ours is recognisable from its first eight bytes.
        return match held.get(..8) {
            Some(version) if !VERSIONS_WITH_ADDRESS.contains(&be_i64(version)) => unchanged(),
            _ => Opening::Incomplete,
        };
    };
    if !VERSIONS_WITH_ADDRESS.contains(&be_i64(&header[..8])) {
        return unchanged();
    }
    let length = i32::from_be_bytes([header[16], header[17], header[18], header[19]]);
    let Some(length) = usize::try_from(length)
        .ok()
        .filter(|&l| (1..=MAX_ADDRESS_BYTES).contains(&l))
    else {
        return unchanged();
    };
    let Some(rest) = held.get(HEADER_BYTES + length..) else {
        return Opening::Incomplete;
    };
    let address = address.as_bytes();
    let mut rewritten = Vec::with_capacity(HEADER_BYTES + address.len() + rest.len());
    rewritten.extend_from_slice(&header[..16]);
    // An address of at most a few dozen bytes always fits an i32.
    rewritten.extend_from_slice(&(address.len() as i32).to_be_bytes());
    rewritten.extend_from_slice(address);
    rewritten.extend_from_slice(rest);
    Opening::Replace(rewritten)
}

fn be_i64(bytes: &[u8]) -> i64 {
    let mut array = [0u8; 8];
    array.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opening(version: i64, sid: i64, address: &str, then: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&sid.to_be_bytes());
        bytes.extend_from_slice(&(address.len() as i32).to_be_bytes());
        bytes.extend_from_slice(address.as_bytes());
        bytes.extend_from_slice(then);
        bytes
    }

    #[test]
    fn the_senders_address_is_replaced_and_what_follows_is_kept() {
        let sent = opening(-65536, 2, "127.0.0.1:40001", b"vote");
        assert_eq!(
            rewrite_address(&sent, "127.0.0.1:5"),
            Opening::Replace(opening(-65536, 2, "127.0.0.1:5", b"vote"))
        );
    }

    #[test]
    fn a_message_cut_anywhere_waits_for_the_rest() {
        let sent = opening(-65535, 3, "127.0.0.1:40001|127.0.0.2:40001", b"");
        for cut in 0..sent.len() {
            assert_eq!(
                rewrite_address(&sent[..cut], "127.0.0.1:5"),
                Opening::Incomplete,
                "cut at {cut}"
            );
        }
        assert_eq!(
            rewrite_address(&sent, "127.0.0.1:5"),
            Opening::Replace(opening(-65535, 3, "127.0.0.1:5", b""))
        );
    }

    #[test]
    fn anything_else_passes_unchanged() {
        // An old-protocol opening: the bare sid, no address.
        let bare = 2i64.to_be_bytes();
        assert_eq!(rewrite_address(&bare, "x"), Opening::Replace(bare.to_vec()));
        let mut absurd = opening(-65536, 2, "a", b"");
        absurd[16..20].copy_from_slice(&100_000i32.to_be_bytes());
        assert_eq!(
            rewrite_address(&absurd, "x"),
            Opening::Replace(absurd.clone())
        );
    }
}
