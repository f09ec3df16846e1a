//! Who holds, in each lock family: Curator's lock drivers over one queue of
//! sequential nodes.
//!
//! Every family orders its queue the way Curator does (by the text after the lock
//! name, `queue_order`); the read/write lock strips both of its names, so readers
//! and writers share one order. Then:
//! - a mutex node holds when it is first, and waits on the node just before it;
//! - a writer is a mutex over readers and writers alike;
//! - a reader holds while no writer is ahead of it, and waits on the first writer.

use crate::plumbing::queue_order::{Position, sort_key};

/// Curator's lock name of `InterProcessMutex` nodes.
pub(crate) const MUTEX_NAME: &str = "lock-";
/// Curator's lock name of read-lock nodes.
pub(crate) const READ_NAME: &str = "__READ__";
/// Curator's lock name of write-lock nodes.
pub(crate) const WRITE_NAME: &str = "__WRIT__";

/// How one kind of lock node decides whether it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    /// A mutex named `lock-` (or another name, for recipes built on it).
    Mutex(&'static str),
    /// The write half of a read/write lock.
    Writer,
    /// The read half of a read/write lock.
    Reader,
}

impl Driver {
    /// The lock name this driver's nodes carry before their sequence number.
    pub(crate) fn lock_name(self) -> &'static str {
        match self {
            Driver::Mutex(name) => name,
            Driver::Writer => WRITE_NAME,
            Driver::Reader => READ_NAME,
        }
    }

    /// The part of a child name that orders it.
    pub(crate) fn key(self, name: &str) -> &str {
        match self {
            Driver::Mutex(lock_name) => sort_key(name, lock_name),
            Driver::Writer | Driver::Reader => read_write_key(name),
        }
    }

    /// Sorts children into queue order (stable, as Java's sort is).
    pub(crate) fn sort(self, children: &mut [String]) {
        children.sort_by(|a, b| self.key(a).cmp(self.key(b)));
    }

    /// Where `ours` stands among `sorted` children: `First` means it holds.
    pub(crate) fn position(self, sorted: &[String], ours: &str) -> Position {
        match self {
            Driver::Mutex(_) | Driver::Writer => {
                crate::plumbing::queue_order::position(sorted, ours)
            }
            Driver::Reader => reader_position(sorted, ours),
        }
    }

    /// Whether a child name is one of this driver's own nodes (for the read/write
    /// lock, whose two halves share one parent).
    pub(crate) fn owns(self, name: &str) -> bool {
        name.contains(self.lock_name())
    }
}

/// Curator's `SortingLockInternalsDriver`: the text after the last `__READ__`, then
/// after the last `__WRIT__` in what is left.
fn read_write_key(name: &str) -> &str {
    sort_key(sort_key(name, READ_NAME), WRITE_NAME)
}

/// A reader holds unless a writer is ahead of it; then it waits on the first one.
fn reader_position(sorted: &[String], ours: &str) -> Position {
    let mut first_writer = None;
    for name in sorted {
        if name.contains(WRITE_NAME) {
            first_writer.get_or_insert(name);
        } else if name == ours {
            return match first_writer {
                None => Position::First,
                Some(writer) => Position::After(writer.clone()),
            };
        }
    }
    Position::Missing
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "_c_0f8fad5b-d9cb-469f-a165-70867728950e-";

    fn names(v: &[String]) -> Vec<String> {
        v.to_vec()
    }

    #[test]
    fn readers_and_writers_share_one_order() {
        let r1 = format!("{P}__READ__0000000001");
        let w2 = format!("{P}__WRIT__0000000002");
        let r3 = "__READ__0000000003".to_string();
        let mut children = names(&[r3.clone(), w2.clone(), r1.clone()]);
        Driver::Reader.sort(&mut children);
        assert_eq!(children, names(&[r1.clone(), w2.clone(), r3.clone()]));
        let mut children = names(&[r3.clone(), r1.clone(), w2.clone()]);
        Driver::Writer.sort(&mut children);
        assert_eq!(children, names(&[r1.clone(), w2.clone(), r3.clone()]));
    }

    #[test]
    fn a_reader_waits_only_behind_a_writer() {
        let sorted = names(&[
            "__READ__0000000001".into(),
            "__READ__0000000002".into(),
            "__WRIT__0000000003".into(),
            "__WRIT__0000000004".into(),
            "__READ__0000000005".into(),
        ]);
        assert_eq!(
            Driver::Reader.position(&sorted, "__READ__0000000002"),
            Position::First
        );
        // A reader behind two writers waits on the first of them.
        assert_eq!(
            Driver::Reader.position(&sorted, "__READ__0000000005"),
            Position::After("__WRIT__0000000003".into())
        );
        assert_eq!(
            Driver::Reader.position(&sorted, "__READ__0000000009"),
            Position::Missing
        );
        // A writer is a mutex over everyone.
        assert_eq!(
            Driver::Writer.position(&sorted, "__WRIT__0000000003"),
            Position::After("__READ__0000000002".into())
        );
    }

    #[test]
    fn a_downgraded_reader_sorts_with_its_writer() {
        // The read node made under a held write lock carries the writer's number.
        let w = format!("{P}__WRIT__0000000007");
        let r = format!("{P}__READ__0000000007");
        assert_eq!(Driver::Reader.key(&w), Driver::Reader.key(&r));
        let later = "__WRIT__0000000008".to_string();
        let mut children = names(&[later.clone(), r.clone(), w.clone()]);
        Driver::Writer.sort(&mut children);
        assert_eq!(children.last(), Some(&later));
    }

    #[test]
    fn the_read_write_halves_tell_their_nodes_apart() {
        assert!(Driver::Reader.owns(&format!("{P}__READ__0000000001")));
        assert!(!Driver::Reader.owns("__WRIT__0000000001"));
        assert!(Driver::Mutex(MUTEX_NAME).owns("lock-0000000001"));
    }
}
