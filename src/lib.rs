//! `zkit`: a Curator-style coordination framework for Apache ZooKeeper on async Rust.
//!
//! This umbrella crate re-exports the three layers:
//! - [`zk_retry`]: retry policies and the retry loop,
//! - [`zk_core`]: the native async ZooKeeper client and the framework `Client`,
//! - [`zk_recipes`]: caches, service discovery, leader election, locks and other recipes.
//!
//! Most programs only need `use zkit::prelude::*;`.

pub use zk_core;
pub use zk_recipes;
pub use zk_retry;

/// The types most programs use, in one import: `use zkit::prelude::*;`.
///
/// Types only, named so they cannot clash with the standard library's: no `Result`,
/// no module names, and each crate's error under its own name (`ZkError` for
/// zk-core's [`Error`](zk_core::Error)). Functions and everything else stay at their
/// crate's path.
pub mod prelude {
    pub use std::time::Duration;

    pub use zk_core::Error as ZkError;
    /// With the `sasl-digest-md5` or `sasl-gssapi` feature: a SASL login.
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub use zk_core::SaslConfig;
    pub use zk_core::{
        Acl, AddWatchMode, Client, ClientBuilder, Code, ConnectionState,
        ConnectionStateErrorPolicy, ConnectionStates, CreateMode, EventType, Id, KeeperState,
        MultiOp, OpResult, Perms, Stat, WatchStream, WatchedEvent, Watcher,
    };
    /// With the `tls` feature: what a client trusts and shows over TLS.
    #[cfg(feature = "tls")]
    pub use zk_core::{TlsConfig, TlsConfigBuilder};
    pub use zk_recipes::{
        CacheError, CacheEvents, ChildData, CloseMode, CuratorCache, CuratorCacheEvent,
        DiscoveryError, DownInstancePolicy, Events, FencingToken, InstanceFilter, InterProcessLock,
        InterProcessMultiLock, InterProcessMutex, InterProcessReadWriteLock,
        InterProcessSemaphoreMutex, InterProcessSemaphoreV2, LeaderError, LeaderLatch,
        LeaderSelector, LeaderSelectorListener, LeadershipContext, LeadershipEvent,
        LeadershipEvents, Lease, LockError, LockGuard, MultiLockGuard, NodeCache, NodeCacheEvent,
        NodeError, Participant, PathChildrenCache, PathChildrenCacheEvent, PersistentNode,
        ProviderStrategy, Random, RoundRobin, ServiceCache, ServiceCacheEvent, ServiceDiscovery,
        ServiceInstance, ServiceProvider, ServiceType, StartMode, Sticky, TreeCache,
        TreeCacheEvent, UriSpec,
    };
    pub use zk_retry::{
        BoundedExponentialBackoffRetry, ExponentialBackoffForever, ExponentialBackoffRetry,
        RetryForever, RetryNTimes, RetryOneTime, RetryPolicy, RetryUntilElapsed,
        SessionFailedRetryPolicy,
    };
}

// The README's Rust blocks, compiled (and `no_run` ones not run) by `cargo test --doc`, so that
// its "Using it" program keeps building as written.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
