//! The stream a cache hands out: the recipes' one event fan-out
//! ([`crate::plumbing::fan_out`]), named for caches.

/// A stream of a cache's events, from the moment of subscription on. It ends when the
/// cache is closed or dropped.
pub type CacheEvents<E> = crate::plumbing::Events<E>;
