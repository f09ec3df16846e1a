//! Deadlines that cannot overflow: a timeout may be any `Duration` a user passes,
//! and `Instant + Duration` panics past the clock's range, so every deadline is
//! computed here and saturates at a point far enough away to mean "never".

use std::time::Duration;

use tokio::time::Instant;

/// How far away "never" is: about thirty years, well inside every platform's clock
/// range and beyond any real timeout.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `from + d`, or "never" when that is not representable.
pub(crate) fn deadline_after(from: Instant, d: Duration) -> Instant {
    // Thirty years past an instant of a running clock always fits; `from` itself is
    // only the answer of a clock at the very end of its range.
    from.checked_add(d.min(FAR_FUTURE)).unwrap_or(from)
}

/// `d` from now, or "never" when that is not representable.
pub(crate) fn deadline_in(d: Duration) -> Instant {
    deadline_after(Instant::now(), d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_timeout_saturates_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(deadline_after(now, Duration::MAX), now + FAR_FUTURE);
        assert_eq!(
            deadline_after(now, Duration::from_secs(u64::MAX)),
            now + FAR_FUTURE
        );
        assert_eq!(
            deadline_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
    }
}
