//! What every recipe family shares, so that each piece exists once: the pause
//! schedules of background work (zk-retry policies, not hand-written doublings) and
//! one lifecycle (LATENT, STARTED, CLOSED, with the recipe's task), one error shape
//! (every family's error converts from [`LifecycleError`] and wraps zk-core's error
//! as `ZooKeeper`), the event fan-out ([`Events`] is the stream every recipe hands out) and the
//! poison-tolerant lock helper. New families (locks, counters, queues) use
//! these too.

pub(crate) mod backoff;
pub(crate) mod fan_out;
pub(crate) mod lifecycle;
pub(crate) mod sync;

pub use fan_out::Events;
pub(crate) use fan_out::FanOut;
pub(crate) use lifecycle::{Lifecycle, LifecycleError, Phase};
pub(crate) use sync::lock;
