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
// A layer with nothing public yet makes its glob unused; the allow keeps the prelude
// warning-free while the crates fill up.
#[allow(unused_imports)]
pub mod prelude {
    pub use zk_core::*;
    pub use zk_recipes::*;
    pub use zk_retry::*;
}
