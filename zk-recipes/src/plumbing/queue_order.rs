//! The queue order of election nodes, exactly as Curator sorts them, so that Java and
//! Rust participants agree on who is first.
//!
//! Curator (`StandardLockInternalsDriver.standardFixForSorting`) compares the part of
//! each child name after the *last* occurrence of the lock name (`latch-`, `lock-`),
//! as strings; a name without the lock name is compared whole. The protection prefix
//! `_c_<uuid>-` sits before the lock name, so it never affects the order. The
//! server writes sequence numbers as ten zero-padded digits, which makes the string
//! order the numeric order.

use zk_core::{Client, Code};

/// Where a participant's node stands in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// Its node is first: it leads.
    First,
    /// Its node waits behind this one (a child name), which it must watch.
    After(String),
    /// Its node is not among the children (deleted, or its session ended).
    Missing,
}

/// The part of `name` that orders it: what follows the last `lock_name`, or the
/// whole name if `lock_name` is absent.
pub(crate) fn sort_key<'a>(name: &'a str, lock_name: &str) -> &'a str {
    match name.rfind(lock_name) {
        Some(i) => &name[i + lock_name.len()..],
        None => name,
    }
}

/// Sorts child names into queue order (stable, like Java's `Collections.sort`).
pub(crate) fn sort_children(children: &mut [String], lock_name: &str) {
    children.sort_by(|a, b| sort_key(a, lock_name).cmp(sort_key(b, lock_name)));
}

/// The position of `ours` (a child name) among `sorted` children.
pub(crate) fn position(sorted: &[String], ours: &str) -> Position {
    match sorted.iter().position(|c| c == ours) {
        None => Position::Missing,
        Some(0) => Position::First,
        Some(i) => Position::After(sorted[i - 1].clone()),
    }
}

/// The sequence number the server gave a node: the digits after the last
/// `lock_name` (negative after the server's counter wrapped).
pub(crate) fn sequence_number(name: &str, lock_name: &str) -> Option<i64> {
    let key = sort_key(name, lock_name);
    if key.len() == name.len() {
        return None;
    }
    key.parse().ok()
}

/// The children of `base` (an election or lock path), unsorted; none if `base`
/// does not exist.
pub(crate) async fn queue_children(
    client: &Client,
    base: &str,
) -> Result<Vec<String>, zk_core::Error> {
    match client.get_children(base).await {
        Ok(c) => Ok(c),
        Err(e) if e.code() == Some(Code::NoNode) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "_c_0f8fad5b-d9cb-469f-a165-70867728950e-";
    const B: &str = "_c_ffffffff-d9cb-469f-a165-70867728950e-";

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn protection_prefixes_do_not_affect_the_order() {
        let mut children = names(&[
            &format!("{A}latch-0000000003"),
            &format!("{B}latch-0000000001"),
            "latch-0000000002",
        ]);
        sort_children(&mut children, "latch-");
        assert_eq!(
            children,
            names(&[
                &format!("{B}latch-0000000001"),
                "latch-0000000002",
                &format!("{A}latch-0000000003"),
            ])
        );
    }

    #[test]
    fn the_last_lock_name_counts() {
        // An id-like prefix that itself contains the lock name must not confuse the key.
        assert_eq!(
            sort_key("_c_x-lock-latch-0000000007", "latch-"),
            "0000000007"
        );
        assert_eq!(sort_key("latch-latch-0000000007", "latch-"), "0000000007");
        assert_eq!(sort_key("other", "latch-"), "other");
        assert_eq!(sort_key("x-latch-", "latch-"), "");
    }

    #[test]
    fn positions_name_the_predecessor() {
        let sorted = names(&["latch-0000000001", "latch-0000000002", "latch-0000000005"]);
        assert_eq!(position(&sorted, "latch-0000000001"), Position::First);
        assert_eq!(
            position(&sorted, "latch-0000000005"),
            Position::After("latch-0000000002".into())
        );
        assert_eq!(position(&sorted, "latch-0000000003"), Position::Missing);
        assert_eq!(position(&[], "latch-0000000003"), Position::Missing);
    }

    #[test]
    fn sequence_numbers_parse_after_the_lock_name() {
        assert_eq!(
            sequence_number(&format!("{A}latch-0000000042"), "latch-"),
            Some(42)
        );
        assert_eq!(
            sequence_number("lock--2147483648", "lock-"),
            Some(-2_147_483_648)
        );
        assert_eq!(sequence_number("lock-00000x0042", "lock-"), None);
        assert_eq!(sequence_number("0000000042", "lock-"), None);
    }
}
