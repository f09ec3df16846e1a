//! The one lock helper of the recipes.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex whose guarded sections never panic (they only move plain values),
/// so it cannot be poisoned in practice; a poisoned one is used as is, since its
/// data is still consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
