//! Who owns the node found at a persistent node's path, and what to do about it.
//!
//! The rules, for ephemeral modes:
//! - owned by the client's current session: it is ours, leave it;
//! - owned by a session this node created it under before (the client has since lost
//!   that session, so nobody will ever use it again): stale, replace it at once;
//! - owned by any other session, or persistent: most often a leftover of a process that
//!   died and whose session the server has not yet expired, so replace it. But if a
//!   second live owner is configured for the same path, replacing would start a fight
//!   (each side deletes the other's node on every turn). So a foreign node is replaced
//!   at most once per fight window; a second foreign node within the window means a live
//!   rival: yield, warn, and wait until its node goes away.
//!
//! For persistent modes a node that exists is adopted (its data set to ours), as
//! Curator's `PersistentNode` does: it has no owner to compare.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;
use zk_core::Stat;

/// How many past sessions are remembered; older ones are long expired.
const PAST_SESSIONS: usize = 8;

/// What to do with the node found at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It is ours: keep it.
    Ours,
    /// It is a node we did not create but may take as is (persistent modes): write our
    /// data to it and keep it.
    Adopt,
    /// Delete it and create ours.
    Replace,
    /// Another live owner holds it: leave it alone and wait until it is deleted.
    Yield,
}

/// Remembers the sessions our node lived in and when we last replaced a foreign node.
#[derive(Debug)]
pub(crate) struct Ownership {
    ephemeral: bool,
    past_sessions: VecDeque<i64>,
    /// The czxid of the node we created or adopted (persistent modes).
    our_czxid: Option<i64>,
    last_foreign_replace: Option<Instant>,
    fight_window: Duration,
}

impl Ownership {
    pub(crate) fn new(ephemeral: bool, fight_window: Duration) -> Self {
        Ownership {
            ephemeral,
            past_sessions: VecDeque::with_capacity(PAST_SESSIONS),
            our_czxid: None,
            last_foreign_replace: None,
            fight_window,
        }
    }

    /// Records that the node described by `stat` is ours (we created or kept it).
    pub(crate) fn note_ours(&mut self, stat: &Stat) {
        self.our_czxid = Some(stat.czxid);
        let owner = stat.ephemeral_owner;
        if owner != 0 && !self.past_sessions.contains(&owner) {
            if self.past_sessions.len() == PAST_SESSIONS {
                self.past_sessions.pop_front();
            }
            self.past_sessions.push_back(owner);
        }
    }

    /// Whether the node with this czxid is the one we hold.
    pub(crate) fn is_our_node(&self, stat: &Stat) -> bool {
        self.our_czxid == Some(stat.czxid)
    }

    /// Decides about the node `stat` found at our path, with `current_session` the
    /// client's session now.
    pub(crate) fn judge(&mut self, stat: &Stat, current_session: i64, now: Instant) -> Verdict {
        if !self.ephemeral {
            return if self.is_our_node(stat) {
                Verdict::Ours
            } else {
                Verdict::Adopt
            };
        }
        let owner = stat.ephemeral_owner;
        if owner != 0 && owner == current_session {
            return Verdict::Ours;
        }
        if owner != 0 && self.past_sessions.contains(&owner) {
            return Verdict::Replace;
        }
        match self.last_foreign_replace {
            Some(at) if now.duration_since(at) < self.fight_window => Verdict::Yield,
            _ => {
                self.last_foreign_replace = Some(now);
                Verdict::Replace
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(czxid: i64, owner: i64) -> Stat {
        Stat {
            czxid,
            ephemeral_owner: owner,
            ..Stat::default()
        }
    }

    #[test]
    fn ephemeral_node_of_the_current_session_is_ours() {
        let mut o = Ownership::new(true, Duration::from_secs(10));
        assert_eq!(o.judge(&stat(1, 7), 7, Instant::now()), Verdict::Ours);
    }

    #[test]
    fn node_of_a_past_session_is_always_replaced() {
        let mut o = Ownership::new(true, Duration::from_secs(10));
        o.note_ours(&stat(1, 7));
        let now = Instant::now();
        assert_eq!(o.judge(&stat(1, 7), 8, now), Verdict::Replace);
        // Still replaced right after: it is certainly stale, no fight is possible.
        assert_eq!(o.judge(&stat(1, 7), 9, now), Verdict::Replace);
    }

    #[test]
    fn foreign_node_is_replaced_once_per_fight_window_then_yielded_to() {
        let window = Duration::from_secs(10);
        let mut o = Ownership::new(true, window);
        let start = Instant::now();
        assert_eq!(o.judge(&stat(1, 100), 7, start), Verdict::Replace);
        assert_eq!(
            o.judge(&stat(2, 100), 7, start + Duration::from_secs(1)),
            Verdict::Yield
        );
        assert_eq!(
            o.judge(&stat(3, 0), 7, start + Duration::from_secs(2)),
            Verdict::Yield
        );
        assert_eq!(o.judge(&stat(4, 100), 7, start + window), Verdict::Replace);
    }

    #[test]
    fn persistent_modes_adopt_other_nodes_and_keep_their_own() {
        let mut o = Ownership::new(false, Duration::from_secs(10));
        let now = Instant::now();
        assert_eq!(o.judge(&stat(5, 0), 7, now), Verdict::Adopt);
        o.note_ours(&stat(5, 0));
        assert_eq!(o.judge(&stat(5, 0), 7, now), Verdict::Ours);
        assert_eq!(o.judge(&stat(6, 0), 7, now), Verdict::Adopt);
    }

    #[test]
    fn past_sessions_are_bounded() {
        let mut o = Ownership::new(true, Duration::from_secs(10));
        for s in 1..=20 {
            o.note_ours(&stat(s, s));
        }
        assert_eq!(o.past_sessions.len(), PAST_SESSIONS);
        assert!(o.past_sessions.contains(&20) && !o.past_sessions.contains(&1));
    }
}
