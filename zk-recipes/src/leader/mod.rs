//! Leader election, compatible with Apache Curator 5's `leader` recipes: Rust and Java
//! participants can take part in the same election.
//!
//! - [`LeaderLatch`]: a participant holds a place in a queue of `latch-` nodes and
//!   leads while first; [`has_leadership`](LeaderLatch::has_leadership), awaiting,
//!   and a stream of [`LeadershipEvent`]s with a [`FencingToken`].
//! - [`LeaderSelector`]: runs an async callback while this participant leads, over
//!   Curator's `InterProcessMutex` layout (`lock-` nodes); the callback is cancelled
//!   when leadership is lost, and may run again ([`LeaderSelector::auto_requeue`]).
//! - [`Participant`]: who takes part, read from the nodes' data in queue order.
//!
//! Node layout, shared with Curator: `<path>/_c_<uuid>-latch-<seq>` for latches and
//! `<path>/_c_<uuid>-lock-<seq>` for selectors (protected, ephemeral sequential),
//! each holding the participant id as UTF-8. Order is by the text after the last
//! `latch-` / `lock-`, so the protection prefix never changes it.

mod error;
mod events;
mod latch;
mod node_cleanup;
mod participant;
mod selector;

pub use crate::plumbing::FencingToken;
pub use error::{LeaderError, Result};
pub use events::{LeadershipEvent, LeadershipEvents};
pub use latch::{AwaitLeadership, CloseMode, LeaderLatch};
pub use participant::Participant;
pub use selector::{LeaderSelector, LeaderSelectorListener, LeadershipContext};
