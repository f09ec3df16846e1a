//! Watches: one-shot data, exists and child watches delivered as futures, and
//! persistent (recursive) watches delivered as streams. The session task owns the
//! [`registry`]; callers hold an [`OneshotWatch`] or a [`PersistentWatch`].

mod event;
pub(crate) mod registry;
pub(crate) mod set_watches;
mod stream;

pub use event::WatchedEvent;
pub use stream::{OneshotWatch, PersistentWatch};
