//! The violations a run has found: recorded from any task, each with its evidence.

use std::sync::{Arc, Mutex};

/// A shared list of violations. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Violations {
    found: Arc<Mutex<Vec<String>>>,
}

impl Violations {
    /// Records one, with what proves it.
    pub fn record(&self, evidence: String) {
        tracing::error!(%evidence, "soak violation");
        self.lock().push(evidence);
    }

    /// How many were recorded.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// The ones recorded from index `from` on.
    pub fn since(&self, from: usize) -> Vec<String> {
        self.lock().iter().skip(from).cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
