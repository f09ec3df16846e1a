//! `zk-soak`: the proof under faults. A seeded schedule of faults ([`zk_testing::Chaos`]) runs
//! against a workload of every recipe on a real 3-server ensemble, and after each fault heals
//! the invariants are checked against what the servers say; beside it, the churn runs repeat one
//! outage thousands of times and watch the process's resources. The `zk-soak` binary
//! (`scripts/soak`) runs both; the crate's tests run short versions of each in the default
//! test run.
//!
//! | Module | What it holds |
//! |--------|---------------|
//! | [`args`] | the command line |
//! | [`churn`] | cut/heal and expiry churn with resource readings |
//! | [`resources`] | file descriptors, tasks and resident memory, and the bound on their growth |
//! | [`clients`] | the soak's client settings and waits on connection states |
//! | [`soak`] | the chaos soak: ensemble, workload, faults, invariants, report |
//! | [`error`] | what stops a run |

pub mod args;
pub mod churn;
pub mod clients;
pub mod error;
pub mod resources;
pub mod soak;
