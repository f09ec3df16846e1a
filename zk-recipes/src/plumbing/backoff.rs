//! How long background work waits after failing, per kind of work. Each schedule is
//! a zk-retry [`ExponentialBackoffForever`]: these loops never give up while their
//! recipe lives, and a reconnection usually cuts the wait short.

use std::time::Duration;

use zk_retry::ExponentialBackoffForever;

/// An election step (latch) or round (selector) that failed: 100 ms doubling to 5 s.
pub(crate) const ELECTION: ExponentialBackoffForever =
    ExponentialBackoffForever::new(Duration::from_millis(100), Duration::from_secs(5));

/// A node keeper's pass (PersistentNode, discovery's registrations and their
/// caches): 100 ms doubling to 10 s.
pub(crate) const NODE_KEEPER: ExponentialBackoffForever =
    ExponentialBackoffForever::new(Duration::from_millis(100), Duration::from_secs(10));

/// A cache's full re-read that failed: 500 ms doubling to 30 s.
pub(crate) const CACHE_RESYNC: ExponentialBackoffForever =
    ExponentialBackoffForever::new(Duration::from_millis(500), Duration::from_secs(30));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedules_keep_their_values() {
        let ms = |p: ExponentialBackoffForever, n| p.delay_for(n).as_millis();
        assert_eq!(
            (ms(ELECTION, 1), ms(ELECTION, 5), ms(ELECTION, 6)),
            (200, 3200, 5000)
        );
        assert_eq!(
            (ms(NODE_KEEPER, 0), ms(NODE_KEEPER, 6), ms(NODE_KEEPER, 7)),
            (100, 6400, 10_000)
        );
        assert_eq!(
            (
                ms(CACHE_RESYNC, 0),
                ms(CACHE_RESYNC, 5),
                ms(CACHE_RESYNC, 6)
            ),
            (500, 16_000, 30_000)
        );
    }
}
