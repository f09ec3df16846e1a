//! Fencing tokens: a number that grows with every new leadership or lock holder, to hand to the
//! resources a leader writes to so they can refuse a deposed leader's late writes.

use std::cmp::Ordering;

/// Identifies one leadership: the election node's sequence number and the zxid of
/// the transaction that created it.
///
/// Tokens order by `czxid` first, then by `sequence`. The czxid grows across the
/// whole ensemble with every write, so a node created later always has a larger one,
/// even when the election's parent node was removed and re-created (which restarts
/// the sequence numbers). A participant only leads once every node created before
/// its own is gone, so a later leadership always carries a larger token; the same
/// leadership confirmed again (after a reconnect) carries an equal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FencingToken {
    /// The sequence number the server appended to the node's name.
    pub sequence: i64,
    /// The zxid of the node's creation.
    pub czxid: i64,
}

impl Ord for FencingToken {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.czxid, self.sequence).cmp(&(other.czxid, other.sequence))
    }
}

impl PartialOrd for FencingToken {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_creation_zxid_orders_tokens_before_the_sequence() {
        let early = FencingToken {
            sequence: 9,
            czxid: 100,
        };
        // The parent was re-created: the sequence restarted, the zxid did not.
        let late = FencingToken {
            sequence: 0,
            czxid: 200,
        };
        assert!(late > early);
        assert_eq!(early.max(late), late);
    }
}
