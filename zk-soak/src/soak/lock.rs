//! The one mutex helper of the soak.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, using its data as it is if a task panicked while holding it: the soak's guarded
/// sections only move plain values, so the data stays consistent, and a panicking task must
/// not take the sampler, the checks or the report down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
