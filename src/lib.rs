//! `zkit`: a Curator-style coordination framework for Apache ZooKeeper on async Rust.
//!
//! This umbrella crate re-exports the three layers:
//! - [`zk_retry`]: retry policies and the retry loop,
//! - [`zk_core`]: the native async ZooKeeper client and the framework `Client`,
//! - [`zk_recipes`]: caches, service discovery, leader election and other recipes.
//!
//! Most programs only need `use zkit::prelude::*;`.

pub use zk_core;
pub use zk_recipes;
pub use zk_retry;

/// The types most programs use, in one import.
pub mod prelude {
    pub use zk_core::*;
    pub use zk_recipes::*;
    pub use zk_retry::*;
}

// The README's Rust blocks, compiled (and `no_run` ones not run) by `cargo test --doc`, so that
// its "Using it" program keeps building as written.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
