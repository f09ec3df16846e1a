//! Leadership events, delivered by the recipes' one fan-out.

use crate::plumbing::FencingToken;

/// A change of leadership for one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadershipEvent {
    /// This participant is now the leader; the token identifies this leadership.
    IsLeader(FencingToken),
    /// This participant is no longer the leader.
    NotLeader,
}

/// A stream of [`LeadershipEvent`]s from the moment it was asked for. It ends when
/// the recipe closes.
pub type LeadershipEvents = crate::plumbing::Events<LeadershipEvent>;
