//! The recipe benchmark (issue 12): zk-recipes' caches, discovery and leader latch
//! beside Curator 5.4's own, in one run against one server.
//!
//! `zk-bench recipes ...` is the driver ([`driver`]); `zk-bench recipe-client
//! --impl zk-recipes ...` is one Rust process ([`client`](mod@client)), and
//! `bench/java/CuratorRecipeBench.java` one Curator process. Both print the lines
//! of [`lines`]; [`report`] makes the tables.

pub(crate) mod client;
pub(crate) mod driver;
pub(crate) mod lines;
pub(crate) mod report;
