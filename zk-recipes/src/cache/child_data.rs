//! [`ChildData`], what every cache keeps per node, and the rules that decide whether a
//! fresh read of a node is new, changed, or the same as what the cache holds.

use std::collections::BTreeMap;

use bytes::Bytes;
use zk_core::Stat;

/// One cached node: its full path (in the client's namespace), its stat, and its data
/// (`None` when the cache was told not to keep data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildData {
    /// The node's full path.
    pub path: String,
    /// The node's stat as last read.
    pub stat: Stat,
    /// The node's data as last read, or `None` when the cache does not keep data.
    pub data: Option<Bytes>,
}

impl ChildData {
    /// A record for `path`.
    pub fn new(path: impl Into<String>, stat: Stat, data: Option<Bytes>) -> Self {
        ChildData {
            path: path.into(),
            stat,
            data,
        }
    }

    /// Whether `other` is the same znode: deleting and creating a node again under the
    /// same path makes a different one (a new creation zxid).
    pub(crate) fn same_node(&self, other: &ChildData) -> bool {
        self.stat.czxid == other.stat.czxid
    }

    /// Whether `newer` shows a data change of this node (a new modification zxid).
    /// Stat changes caused by the node's children (cversion, pzxid) are not changes.
    pub(crate) fn data_changed(&self, newer: &ChildData) -> bool {
        self.stat.mzxid != newer.stat.mzxid
    }
}

/// A difference between what a cache held and what the server showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A node the cache did not hold.
    Added(ChildData),
    /// A node whose data changed.
    Updated {
        /// What the cache held before.
        old: ChildData,
        /// What it holds now.
        new: ChildData,
    },
    /// A node that is gone (or was replaced by a new node under the same path).
    Removed(ChildData),
}

/// Puts a fresh read of a node into `map` and says what changed: nothing, an
/// addition, an update, or (for a node deleted and created again) a removal followed
/// by an addition. A stat-only difference is stored without a change.
pub(crate) fn put_fresh(map: &mut BTreeMap<String, ChildData>, fresh: ChildData) -> Vec<Change> {
    match map.insert(fresh.path.clone(), fresh.clone()) {
        None => vec![Change::Added(fresh)],
        Some(old) if !old.same_node(&fresh) => vec![Change::Removed(old), Change::Added(fresh)],
        Some(old) if old.data_changed(&fresh) => vec![Change::Updated { old, new: fresh }],
        Some(_) => Vec::new(),
    }
}

/// Whether `path` is `top` or lies below it.
pub(crate) fn in_subtree(top: &str, path: &str) -> bool {
    if top == "/" {
        return true;
    }
    path == top || path.strip_prefix(top).is_some_and(|r| r.starts_with('/'))
}

/// Number of path segments of `path` below `top` (0 for `top` itself).
pub(crate) fn depth_below(top: &str, path: &str) -> usize {
    let rest = if top == "/" {
        path
    } else {
        path.strip_prefix(top).unwrap_or(path)
    };
    rest.split('/').filter(|s| !s.is_empty()).count()
}

/// The keys of `map` at and below `top`, in order. Keys that share a prefix sort
/// together, so the nodes below `top` (prefix `top/`) are one range of the map.
pub(crate) fn subtree_keys<V>(map: &BTreeMap<String, V>, top: &str) -> Vec<String> {
    let below = if top == "/" {
        "/".to_string()
    } else {
        format!("{top}/")
    };
    let own = (top != "/" && map.contains_key(top)).then(|| top.to_string());
    own.into_iter()
        .chain(
            map.range(below.clone()..)
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(&below))
                .cloned(),
        )
        .collect()
}

/// Makes the part of `map` at and below `top` equal to `fresh` (a complete read of that
/// subtree, every key in it) and returns the differences in the order a listener
/// should see them: removals first, deepest nodes before their parents, then
/// additions and updates with parents before their children.
pub(crate) fn sync_subtree(
    map: &mut BTreeMap<String, ChildData>,
    top: &str,
    fresh: BTreeMap<String, ChildData>,
) -> Vec<Change> {
    let mut removed: Vec<ChildData> = Vec::new();
    let cached: Vec<String> = subtree_keys(map, top);
    for path in cached {
        let gone = match fresh.get(&path) {
            None => true,
            Some(f) => map.get(&path).is_some_and(|old| !old.same_node(f)),
        };
        if gone && let Some(old) = map.remove(&path) {
            removed.push(old);
        }
    }
    removed.sort_by(|a, b| {
        depth_below("/", &b.path)
            .cmp(&depth_below("/", &a.path))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut changes: Vec<Change> = removed.into_iter().map(Change::Removed).collect();
    for (_, node) in fresh {
        changes.extend(put_fresh(map, node));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str, czxid: i64, mzxid: i64) -> ChildData {
        let stat = Stat {
            czxid,
            mzxid,
            ..Stat::default()
        };
        ChildData::new(path, stat, Some(Bytes::from_static(b"x")))
    }

    fn paths(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Added(d) => format!("+{}", d.path),
                Change::Updated { new, .. } => format!("~{}", new.path),
                Change::Removed(d) => format!("-{}", d.path),
            })
            .collect()
    }

    #[test]
    fn put_fresh_tells_added_updated_replaced_and_unchanged_apart() {
        let mut map = BTreeMap::new();
        assert_eq!(paths(&put_fresh(&mut map, node("/a", 1, 1))), ["+/a"]);
        assert!(put_fresh(&mut map, node("/a", 1, 1)).is_empty());
        let mut stat_only = node("/a", 1, 1);
        stat_only.stat.cversion = 4;
        assert!(put_fresh(&mut map, stat_only.clone()).is_empty());
        assert_eq!(map["/a"], stat_only, "the newer stat is kept");
        assert_eq!(paths(&put_fresh(&mut map, node("/a", 1, 2))), ["~/a"]);
        assert_eq!(
            paths(&put_fresh(&mut map, node("/a", 3, 3))),
            ["-/a", "+/a"]
        );
    }

    #[test]
    fn subtree_keys_are_the_node_and_everything_below_it() {
        let map: BTreeMap<String, ()> = ["/", "/t", "/t-x", "/t/a", "/t/a/b", "/tt", "/u"]
            .into_iter()
            .map(|k| (k.to_string(), ()))
            .collect();
        assert_eq!(subtree_keys(&map, "/t"), ["/t", "/t/a", "/t/a/b"]);
        assert_eq!(subtree_keys(&map, "/t/a/b"), ["/t/a/b"]);
        assert_eq!(subtree_keys(&map, "/nope"), Vec::<String>::new());
        assert_eq!(subtree_keys(&map, "/").len(), 7);
    }

    #[test]
    fn subtree_paths_and_depths() {
        assert!(in_subtree("/a", "/a"));
        assert!(in_subtree("/a", "/a/b/c"));
        assert!(!in_subtree("/a", "/ab"));
        assert!(!in_subtree("/a", "/"));
        assert!(in_subtree("/", "/x"));
        assert_eq!(depth_below("/a", "/a"), 0);
        assert_eq!(depth_below("/a", "/a/b/c"), 2);
        assert_eq!(depth_below("/", "/x/y"), 2);
        assert_eq!(depth_below("/", "/"), 0);
    }

    #[test]
    fn sync_subtree_orders_removals_deepest_first_then_additions_parents_first() {
        let mut map = BTreeMap::new();
        for n in [
            node("/t", 1, 1),
            node("/t/a", 2, 2),
            node("/t/a/x", 3, 3),
            node("/t/b", 4, 4),
            node("/t-sibling", 5, 5),
            node("/u", 6, 6),
        ] {
            map.insert(n.path.clone(), n);
        }
        let fresh: BTreeMap<_, _> = [
            node("/t", 1, 1),
            node("/t/b", 4, 9),
            node("/t/c", 10, 10),
            node("/t/c/d", 11, 11),
        ]
        .into_iter()
        .map(|n| (n.path.clone(), n))
        .collect();
        let changes = sync_subtree(&mut map, "/t", fresh);
        assert_eq!(
            paths(&changes),
            ["-/t/a/x", "-/t/a", "~/t/b", "+/t/c", "+/t/c/d"]
        );
        let keys: Vec<_> = map.keys().cloned().collect();
        assert_eq!(keys, ["/t", "/t-sibling", "/t/b", "/t/c", "/t/c/d", "/u"]);
    }

    #[test]
    fn sync_subtree_with_an_empty_read_removes_everything_below() {
        let mut map = BTreeMap::new();
        for n in [node("/t", 1, 1), node("/t/a", 2, 2), node("/tt", 3, 3)] {
            map.insert(n.path.clone(), n);
        }
        let changes = sync_subtree(&mut map, "/t", BTreeMap::new());
        assert_eq!(paths(&changes), ["-/t/a", "-/t"]);
        assert_eq!(map.keys().cloned().collect::<Vec<_>>(), ["/tt"]);
    }

    #[test]
    fn a_replaced_parent_is_removed_after_its_children_and_added_before_them() {
        let mut map = BTreeMap::new();
        for n in [node("/t/p", 1, 1), node("/t/p/c", 2, 2)] {
            map.insert(n.path.clone(), n);
        }
        let fresh: BTreeMap<_, _> = [node("/t/p", 7, 7), node("/t/p/c", 8, 8)]
            .into_iter()
            .map(|n| (n.path.clone(), n))
            .collect();
        let changes = sync_subtree(&mut map, "/t/p", fresh);
        assert_eq!(paths(&changes), ["-/t/p/c", "-/t/p", "+/t/p", "+/t/p/c"]);
    }
}
