//! The lock benchmark (issue 11): zk-recipes' `InterProcessMutex` beside Curator
//! 5.4's own, in one run against one server.
//!
//! `zk-bench locks ...` is the driver ([`driver`]); `zk-bench lock-client --impl
//! zk-recipes ...` is one Rust process ([`client`](mod@client)), and
//! `bench/java/CuratorLockBench.java` one Curator process. Both print the lines
//! of [`lines`]; [`report`] makes the tables.

pub(crate) mod client;
pub(crate) mod driver;
pub(crate) mod lines;
pub(crate) mod report;
