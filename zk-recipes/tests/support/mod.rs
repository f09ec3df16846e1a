//! What the recipe tests share. Each test binary includes it with `mod support;`.
//!
//! | Module | What it holds |
//! |--------|---------------|
//! | `zk` | the binary's shared server (a chroot of a test's own on it, or a private server for a test that restarts or pauses it), a proxy, clients with short timeouts, session expiry on purpose, one test at a time |
//! | `wait` | the deadline, and waits on streams, states and conditions that fail the test when it passes |
//! | `nodes` | creating nodes, unique base paths, protected names, a counter of creations an observer sees |
//! | `cache_events` | compact `(kind, path, data)` summaries of cache events, and the closing marker check |
//! | `java` | compiling a Java helper of `tests/java` against Debian's jars, once per test binary |

// Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

pub(crate) mod cache_events;
pub(crate) mod java;
pub(crate) mod nodes;
pub(crate) mod wait;
pub(crate) mod zk;

pub(crate) use nodes::*;
pub(crate) use wait::*;
pub(crate) use zk::*;
