//! Watches: one-shot data, exists and child watches delivered as futures, and
//! persistent (recursive) watches delivered as streams. The session task owns the
//! `registry`; callers hold an [`OneshotWatch`] or a [`PersistentWatch`].
//!
//! The rules the task follows live here too, apart from its I/O: `on_reply` says
//! which replies add or remove watches (exists answered NoNode still sets one), and
//! `set_watches` re-registers every live watch on a new connection, in batches.

mod event;
pub(crate) mod on_reply;
pub(crate) mod registry;
pub(crate) mod set_watches;
mod stream;

pub use event::WatchedEvent;
pub use registry::WatchCounts;
pub(crate) use stream::DropNotice;
pub use stream::{OneshotWatch, PersistentWatch};
