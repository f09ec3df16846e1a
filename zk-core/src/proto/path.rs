//! Znode paths: ZooKeeper's validation rules (PathUtils.validatePath), path
//! arithmetic (join, parent, node name, sequence suffix), chroot mapping, and the
//! client-side size check for node data.
//!
//! Validation follows the Java client so that a path it accepts is accepted here
//! and the other way round. Java checks UTF-16 code units; a Rust `char` above
//! U+FFFF becomes a surrogate pair there, which Java refuses, so it is refused
//! here too. Positions in errors are byte offsets into the path.

use super::frame::DEFAULT_MAX_FRAME_LEN;

/// Why a path is not a valid znode path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    #[error("path must not be empty")]
    Empty,
    /// The path does not start with '/'.
    #[error("path {path:?} must start with '/'")]
    NoLeadingSlash {
        /// The offending path.
        path: String,
    },
    /// The path ends with '/' and is not the root (allowed for sequential creates).
    #[error("path {path:?} must not end with '/'")]
    TrailingSlash {
        /// The offending path.
        path: String,
    },
    /// Two slashes in a row: an empty node name.
    #[error("path {path:?} has an empty node name at byte {position}")]
    EmptySegment {
        /// The offending path.
        path: String,
        /// Byte offset of the second slash.
        position: usize,
    },
    /// A node name is "." or "..".
    #[error("path {path:?} has a relative node name at byte {position}")]
    RelativeSegment {
        /// The offending path.
        path: String,
        /// Byte offset of the segment's last dot.
        position: usize,
    },
    /// The path holds a NUL character.
    #[error("path {path:?} has a NUL character at byte {position}")]
    NulChar {
        /// The offending path.
        path: String,
        /// Byte offset of the character.
        position: usize,
    },
    /// The path holds a character ZooKeeper forbids (controls U+0001–U+001F and
    /// U+007F–U+009F, U+D800–U+F8FF, U+FFF0–U+FFFF, and anything above U+FFFF).
    #[error("path {path:?} has the forbidden character {ch:?} at byte {position}")]
    InvalidChar {
        /// The offending path.
        path: String,
        /// Byte offset of the character.
        position: usize,
        /// The character.
        ch: char,
    },
}

/// Whether ZooKeeper refuses `c` anywhere in a path (other than NUL, reported on its own).
fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..)
    // U+D800–U+DFFF cannot occur in a Rust string; above U+FFFF Java would see surrogates.
}

/// Checks `path` against ZooKeeper's rules.
///
/// With `is_sequential` the server will append a sequence number, so the path is
/// checked as if one digit followed it: a trailing '/' is then allowed (`/queue/`
/// creates `/queue/0000000001`), as is a last segment of "." or "..".
///
/// ```
/// use zk_core::proto::path::{validate_path, PathError};
/// assert!(validate_path("/app/config", false).is_ok());
/// assert!(validate_path("/queue/", true).is_ok());
/// assert!(matches!(validate_path("/queue/", false), Err(PathError::TrailingSlash { .. })));
/// ```
pub fn validate_path(path: &str, is_sequential: bool) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if !path.starts_with('/') {
        return Err(PathError::NoLeadingSlash { path: path.into() });
    }
    let checked;
    let full: &str = if is_sequential {
        checked = format!("{path}1");
        &checked
    } else {
        path
    };
    if full.len() == 1 {
        return Ok(());
    }
    if full.ends_with('/') {
        return Err(PathError::TrailingSlash { path: path.into() });
    }
    // The appended '1' can never be where a rule breaks, so positions found in
    // `full` are positions in `path`.
    if full.is_ascii() {
        validate_ascii(path, full)
    } else {
        validate_chars(path, full)
    }
}

/// The character rules and segment rules of [`validate_path`], character by
/// character, for any `full` (`path`, plus the digit of a sequential create).
fn validate_chars(path: &str, full: &str) -> Result<(), PathError> {
    let mut segment_start = 1;
    for (i, c) in full.char_indices().skip(1) {
        if c == '/' {
            check_segment(path, &full[segment_start..i], segment_start)?;
            segment_start = i + 1;
        } else if c == '\0' {
            return Err(PathError::NulChar {
                path: path.into(),
                position: i,
            });
        } else if is_forbidden(c) {
            return Err(PathError::InvalidChar {
                path: path.into(),
                position: i,
                ch: c,
            });
        }
    }
    check_segment(path, &full[segment_start..], segment_start)
}

/// What [`validate_chars`] decides, faster, for an all-ASCII `full`: the common
/// case, which every request's path passes through. Bytes are checked one by one
/// without decoding, and a segment is looked at closely only when it is one a
/// rule can refuse ("", "." or "..").
fn validate_ascii(path: &str, full: &str) -> Result<(), PathError> {
    let bytes = full.as_bytes();
    let suspect = |seg: &[u8]| seg.is_empty() || seg == b"." || seg == b"..";
    let mut segment_start = 1;
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'/' {
            if suspect(&bytes[segment_start..i]) {
                check_segment(path, &full[segment_start..i], segment_start)?;
            }
            segment_start = i + 1;
        } else if b < 0x20 || b == 0x7f {
            return Err(if b == 0 {
                PathError::NulChar {
                    path: path.into(),
                    position: i,
                }
            } else {
                PathError::InvalidChar {
                    path: path.into(),
                    position: i,
                    ch: b as char,
                }
            });
        }
        i += 1;
    }
    check_segment(path, &full[segment_start..], segment_start)
}

fn check_segment(path: &str, segment: &str, start: usize) -> Result<(), PathError> {
    match segment {
        "" => Err(PathError::EmptySegment {
            path: path.into(),
            position: start,
        }),
        "." | ".." => Err(PathError::RelativeSegment {
            path: path.into(),
            position: start + segment.len() - 1,
        }),
        _ => Ok(()),
    }
}

/// `child` below `parent`, with exactly one '/' between them. Slashes at the end
/// of `parent` and the start of `child` are not doubled; an empty child gives the parent.
///
/// ```
/// use zk_core::proto::path::join;
/// assert_eq!(join("/", "a"), "/a");
/// assert_eq!(join("/a", "b"), "/a/b");
/// assert_eq!(join("/a/", "/b"), "/a/b");
/// ```
pub fn join(parent: &str, child: &str) -> String {
    let parent = parent.trim_end_matches('/');
    let child = child.trim_start_matches('/');
    if child.is_empty() {
        return if parent.is_empty() {
            "/".into()
        } else {
            parent.into()
        };
    }
    let mut out = String::with_capacity(parent.len() + 1 + child.len());
    out.push_str(parent);
    out.push('/');
    out.push_str(child);
    out
}

/// The parent of a (valid) path; `None` for the root.
///
/// ```
/// use zk_core::proto::path::parent;
/// assert_eq!(parent("/a/b"), Some("/a"));
/// assert_eq!(parent("/a"), Some("/"));
/// assert_eq!(parent("/"), None);
/// ```
pub fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        None => None,
        Some(0) if path.len() == 1 => None,
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
    }
}

/// The last segment of a path ("" for the root).
///
/// ```
/// use zk_core::proto::path::node_name;
/// assert_eq!(node_name("/a/lock-0000000003"), "lock-0000000003");
/// assert_eq!(node_name("/"), "");
/// ```
pub fn node_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Length of the counter the server appends to sequential nodes.
pub const SEQUENCE_LEN: usize = 10;

/// The sequence number at the end of a sequential node's name (its last ten
/// characters, all ASCII digits), if there is one.
///
/// ```
/// use zk_core::proto::path::sequence_of;
/// assert_eq!(sequence_of("lock-0000000042"), Some(42));
/// assert_eq!(sequence_of("lock"), None);
/// ```
pub fn sequence_of(name: &str) -> Option<i64> {
    let tail = name.get(name.len().checked_sub(SEQUENCE_LEN)?..)?;
    if !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok()
}

/// The server path for a client path under `chroot` ("" or "/" for none).
///
/// ```
/// use zk_core::proto::path::prepend_chroot;
/// assert_eq!(prepend_chroot("/app", "/a"), "/app/a");
/// assert_eq!(prepend_chroot("/app", "/"), "/app");
/// assert_eq!(prepend_chroot("", "/a"), "/a");
/// ```
pub fn prepend_chroot(chroot: &str, path: &str) -> String {
    let chroot = chroot.trim_end_matches('/');
    if chroot.is_empty() {
        return path.to_string();
    }
    if path == "/" {
        return chroot.to_string();
    }
    let mut out = String::with_capacity(chroot.len() + path.len());
    out.push_str(chroot);
    out.push_str(path);
    out
}

/// The client path for a server path under `chroot`: the chroot itself maps to
/// "/". `None` if the server path lies outside the chroot (the session should
/// not be handed such a path; the Java client logs it and passes it on as is).
///
/// ```
/// use zk_core::proto::path::strip_chroot;
/// assert_eq!(strip_chroot("/app", "/app/a"), Some("/a"));
/// assert_eq!(strip_chroot("/app", "/app"), Some("/"));
/// assert_eq!(strip_chroot("/app", "/application"), None);
/// assert_eq!(strip_chroot("", "/a"), Some("/a"));
/// ```
pub fn strip_chroot<'a>(chroot: &str, server_path: &'a str) -> Option<&'a str> {
    let chroot = chroot.trim_end_matches('/');
    if chroot.is_empty() {
        return Some(server_path);
    }
    let rest = server_path.strip_prefix(chroot)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// The default largest node data the client accepts: the default frame limit
/// (ZooKeeper's `jute.maxbuffer`, 0xfffff) less 1 KiB for the headers, path and
/// ACL that travel with the data in the same frame.
///
/// The Java client checks nothing and lets the server refuse an oversized packet,
/// which it does by closing the connection: the caller then sees ConnectionLoss
/// and a retry loop would send the same packet again. Checking here turns that
/// into a typed error that is never retried. A server run with a larger
/// `jute.maxbuffer` is used with a larger `max`.
pub const DEFAULT_MAX_DATA_LEN: usize = DEFAULT_MAX_FRAME_LEN - 1024;

/// Node data longer than the client accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node data of {len} bytes exceeds the limit of {max} bytes")]
pub struct DataTooLarge {
    /// Length of the data.
    pub len: usize,
    /// The limit.
    pub max: usize,
}

/// Checks a node's data length against `max` (usually [`DEFAULT_MAX_DATA_LEN`]).
pub fn validate_data_len(len: usize, max: usize) -> Result<(), DataTooLarge> {
    if len > max {
        return Err(DataTooLarge { len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) {
        assert_eq!(
            validate_path(path, false),
            Ok(()),
            "{path:?} should be valid"
        );
    }

    #[test]
    fn ordinary_paths_are_valid() {
        for p in [
            "/",
            "/a",
            "/a/b/c",
            "/a.b",
            "/...",
            "/a/.b",
            "/a/b.",
            "/a/..b",
            "/zookeeper/quota",
            "/é/ü/漢字",
            "/sp ace",
            "/\u{a0}",
            "/\u{f900}",
        ] {
            ok(p);
        }
    }

    #[test]
    fn empty_and_relative_roots_are_refused() {
        assert_eq!(validate_path("", false), Err(PathError::Empty));
        assert_eq!(validate_path("", true), Err(PathError::Empty));
        assert_eq!(
            validate_path("a/b", false),
            Err(PathError::NoLeadingSlash { path: "a/b".into() })
        );
    }

    #[test]
    fn trailing_slash_is_refused_except_for_root_and_sequential_creates() {
        assert_eq!(
            validate_path("/a/", false),
            Err(PathError::TrailingSlash { path: "/a/".into() })
        );
        assert_eq!(validate_path("/a/", true), Ok(()));
        assert_eq!(validate_path("/", true), Ok(()));
        assert_eq!(validate_path("/a/lock-", true), Ok(()));
        // A double slash at the end stays wrong even for sequential creates.
        assert_eq!(
            validate_path("/a//", true),
            Err(PathError::EmptySegment {
                path: "/a//".into(),
                position: 3
            })
        );
    }

    #[test]
    fn empty_segments_are_refused_with_their_position() {
        assert_eq!(
            validate_path("//a", false),
            Err(PathError::EmptySegment {
                path: "//a".into(),
                position: 1
            })
        );
        assert_eq!(
            validate_path("/a//b", false),
            Err(PathError::EmptySegment {
                path: "/a//b".into(),
                position: 3
            })
        );
    }

    #[test]
    fn dot_segments_are_refused() {
        for (p, pos) in [
            ("/.", 1),
            ("/..", 2),
            ("/a/./b", 3),
            ("/a/../b", 4),
            ("/a/..", 4),
        ] {
            assert_eq!(
                validate_path(p, false),
                Err(PathError::RelativeSegment {
                    path: p.into(),
                    position: pos
                }),
                "{p:?}"
            );
        }
        // Sequential: the last segment gets a digit, so "/a/." becomes "/a/.1".
        assert_eq!(validate_path("/a/.", true), Ok(()));
        assert_eq!(validate_path("/a/..", true), Ok(()));
        assert!(validate_path("/./a", true).is_err());
    }

    #[test]
    fn nul_and_forbidden_characters_are_refused() {
        assert_eq!(
            validate_path("/a\0b", false),
            Err(PathError::NulChar {
                path: "/a\0b".into(),
                position: 2
            })
        );
        for c in [
            '\u{1}',
            '\u{1f}',
            '\u{7f}',
            '\u{9f}',
            '\u{e000}',
            '\u{f8ff}',
            '\u{fff0}',
            '\u{fffd}',
            '\u{ffff}',
            '\u{1f600}',
        ] {
            let p = format!("/ab{c}");
            assert_eq!(
                validate_path(&p, false),
                Err(PathError::InvalidChar {
                    path: p.clone(),
                    position: 3,
                    ch: c
                }),
                "{c:?}"
            );
            assert!(validate_path(&p, true).is_err());
        }
        // Just outside the forbidden ranges.
        for c in [
            '\u{20}', '\u{7e}', '\u{a0}', '\u{d7ff}', '\u{f900}', '\u{ffef}',
        ] {
            ok(&format!("/x{c}"));
        }
    }

    #[test]
    fn every_ascii_character_is_judged_as_the_character_rules_say() {
        for b in 0u8..0x80 {
            let c = b as char;
            let p = format!("/a{c}b");
            let got = validate_path(&p, false);
            if c == '/' {
                assert!(got.is_ok(), "{p:?}");
            } else if c == '\0' {
                assert!(matches!(got, Err(PathError::NulChar { position: 2, .. })));
            } else if is_forbidden(c) {
                assert_eq!(
                    got,
                    Err(PathError::InvalidChar {
                        path: p.clone(),
                        position: 2,
                        ch: c
                    })
                );
            } else {
                assert!(got.is_ok(), "{p:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_fast_path_decides_as_the_general_loop(
            // Paths built from segments that break each rule, alone or together,
            // and segments that come close without breaking one.
            full in "(/(|\\.|\\.\\.|\\.\\.\\.|a|\\.a|a\\.|ab|a\\x01|\\x00|\\x1f|b\\x7f)){1,5}"
        ) {
            proptest::prop_assert_eq!(validate_ascii(&full, &full), validate_chars(&full, &full));
        }
    }

    #[test]
    fn positions_are_byte_offsets() {
        assert_eq!(
            validate_path("/é\u{1}", false),
            Err(PathError::InvalidChar {
                path: "/é\u{1}".into(),
                position: 3,
                ch: '\u{1}'
            })
        );
    }

    #[test]
    fn join_parent_and_node_name() {
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(join("/a/", "/b"), "/a/b");
        assert_eq!(join("/a", ""), "/a");
        assert_eq!(join("/", ""), "/");
        assert_eq!(join("", "a"), "/a");
        assert_eq!(parent("/a/b/c"), Some("/a/b"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(parent("a"), None);
        assert_eq!(node_name("/a/b"), "b");
        assert_eq!(node_name("/a"), "a");
        assert_eq!(node_name("/"), "");
    }

    #[test]
    fn sequence_numbers_are_the_last_ten_digits() {
        assert_eq!(sequence_of("lock-0000000042"), Some(42));
        assert_eq!(sequence_of("0000000000"), Some(0));
        assert_eq!(sequence_of("x2147483647"), Some(2_147_483_647));
        assert_eq!(sequence_of("000000042"), None); // nine digits
        assert_eq!(sequence_of("lock-00000a0042"), None);
        assert_eq!(sequence_of(""), None);
        assert_eq!(sequence_of("ééééé1"), None); // no panic on a char boundary
        assert_eq!(sequence_of("é000000001"), None);
    }

    #[test]
    fn chroot_round_trips() {
        for chroot in ["/app", "/app/", "/a/b"] {
            for path in ["/", "/x", "/x/y"] {
                let server = prepend_chroot(chroot, path);
                assert!(server.starts_with(chroot.trim_end_matches('/')));
                assert_eq!(strip_chroot(chroot, &server), Some(path), "{chroot} {path}");
            }
        }
        assert_eq!(prepend_chroot("/", "/x"), "/x");
        assert_eq!(strip_chroot("/", "/x"), Some("/x"));
        assert_eq!(strip_chroot("/app", "/other/x"), None);
        assert_eq!(strip_chroot("/app", "/apple"), None);
        assert_eq!(strip_chroot("/app", "/"), None);
    }

    #[test]
    fn data_over_the_limit_is_a_typed_error() {
        assert_eq!(validate_data_len(10, 10), Ok(()));
        assert_eq!(
            validate_data_len(11, 10),
            Err(DataTooLarge { len: 11, max: 10 })
        );
        assert_eq!(DEFAULT_MAX_DATA_LEN, 0xfffff - 1024);
        assert!(validate_data_len(DEFAULT_MAX_DATA_LEN, DEFAULT_MAX_DATA_LEN).is_ok());
    }
}
