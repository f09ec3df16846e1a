//! The violations a run has found: recorded from any task, each with its evidence.

use std::sync::{Arc, Mutex};

use super::lock::lock;

/// A shared list of violations. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Violations {
    found: Arc<Mutex<Vec<String>>>,
}

impl Violations {
    /// Records one, with what proves it.
    pub fn record(&self, evidence: String) {
        tracing::error!(%evidence, "soak violation");
        lock(&self.found).push(evidence);
    }

    /// How many were recorded.
    pub fn count(&self) -> usize {
        lock(&self.found).len()
    }

    /// The ones recorded from index `from` on.
    pub fn since(&self, from: usize) -> Vec<String> {
        lock(&self.found).iter().skip(from).cloned().collect()
    }
}
