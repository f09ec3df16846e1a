//! What every recipe family shares, so that each piece exists once:
//! - [`Lifecycle`]: LATENT, STARTED, CLOSED, with the recipe's background task;
//! - one error shape: every family's error converts from [`LifecycleError`] and wraps
//!   zk-core's error as `ZooKeeper`;
//! - [`FanOut`]: the event fan-out; [`Events`] is the stream every recipe hands out;
//! - `backoff`: the pause schedules of background work (zk-retry policies, not
//!   hand-written doublings);
//! - `catch_up`: the `sync` before a read that decides what an earlier write did;
//! - [`lock`]: the poison-tolerant lock helper;
//! - the queue of sequential nodes that elections and locks stand in: its order
//!   (`queue_order`, Curator's), the wait on the node ahead and on one's own
//!   (`queue_wait`), and the [`FencingToken`] a holder gets.
//!
//! New families (locks, counters, queues) use these too.

pub(crate) mod backoff;
pub(crate) mod catch_up;
pub(crate) mod fan_out;
pub(crate) mod fencing;
pub(crate) mod lifecycle;
pub(crate) mod lock;
pub(crate) mod queue_order;
pub(crate) mod queue_wait;

pub(crate) use catch_up::sync_quietly;
pub use fan_out::Events;
pub(crate) use fan_out::FanOut;
pub use fencing::FencingToken;
pub(crate) use lifecycle::{Lifecycle, LifecycleError, Phase};
pub(crate) use lock::lock;
