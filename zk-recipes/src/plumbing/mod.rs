//! What every recipe family shares, so that each piece exists once: the pause
//! schedules of background work (zk-retry policies, not hand-written doublings) and
//! the poison-tolerant lock helper. New families (locks, counters, queues) use
//! these too.

pub(crate) mod backoff;
pub(crate) mod sync;

pub(crate) use sync::lock;
