//! What every recipe family shares, so that each piece exists once: the pause
//! schedules of background work (zk-retry policies, not hand-written doublings) and
//! the event fan-out ([`Events`] is the stream every recipe hands out) and the
//! poison-tolerant lock helper. New families (locks, counters, queues) use
//! these too.

pub(crate) mod backoff;
pub(crate) mod fan_out;
pub(crate) mod sync;

pub use fan_out::Events;
pub(crate) use fan_out::FanOut;
pub(crate) use sync::lock;
