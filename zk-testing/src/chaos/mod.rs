//! [`Chaos`]: a seeded schedule of faults for a [`TestingCluster`](crate::TestingCluster) and
//! the clients on it, and the code that applies each fault and heals it. The same seed draws
//! the same faults in the same order, so a soak that failed can be replayed.
//!
//! `schedule` draws ([`Chaos`], [`Fault`]); `apply` breaks and heals ([`apply_fault`]).

mod apply;
mod schedule;

pub use apply::{AppliedFault, ChaosClient, apply_fault};
pub use schedule::{Chaos, Fault, FaultKind};
