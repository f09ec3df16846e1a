//! The three states every election recipe goes through: latent, started, closed.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::leader::error::{LeaderError, Result};

const LATENT: u8 = 0;
const STARTED: u8 = 1;
const CLOSED: u8 = 2;

/// A recipe's lifecycle, moved forward only: latent -> started -> closed.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle(AtomicU8);

impl Lifecycle {
    /// Latent -> started; refused from any other state.
    pub(crate) fn start(&self) -> Result<()> {
        match self
            .0
            .compare_exchange(LATENT, STARTED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(CLOSED) => Err(LeaderError::Closed),
            Err(_) => Err(LeaderError::AlreadyStarted),
        }
    }

    /// Moves to closed; returns whether the recipe was started just before (so
    /// this call is the one that must clean up).
    pub(crate) fn close(&self) -> bool {
        self.0.swap(CLOSED, Ordering::AcqRel) == STARTED
    }

    pub(crate) fn is_started(&self) -> bool {
        self.0.load(Ordering::Acquire) == STARTED
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.0.load(Ordering::Acquire) == CLOSED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_moves_forward_only() {
        let l = Lifecycle::default();
        assert!(!l.is_started() && !l.is_closed());
        l.start().unwrap();
        assert!(matches!(l.start(), Err(LeaderError::AlreadyStarted)));
        assert!(l.is_started());
        assert!(l.close());
        assert!(!l.close(), "a second close has nothing to clean up");
        assert!(l.is_closed());
        assert!(matches!(l.start(), Err(LeaderError::Closed)));
    }

    #[test]
    fn closing_a_latent_recipe_cleans_nothing() {
        let l = Lifecycle::default();
        assert!(!l.close());
        assert!(matches!(l.start(), Err(LeaderError::Closed)));
    }
}
