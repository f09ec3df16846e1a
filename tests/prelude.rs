//! The prelude brings types, not names that clash with the standard library's: with
//! it imported, `Result` is still std's two-parameter `Result` and `Error` is free.

use zkit::prelude::*;

/// Compiles only if `Result` is std's (zk-core's alias takes one parameter).
fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
    text.parse()
}

/// A local `Error` does not collide with anything the prelude brought in.
#[derive(Debug, PartialEq)]
struct Error(&'static str);

#[test]
fn the_prelude_leaves_result_and_error_to_the_program() {
    assert_eq!(parse("7"), Ok(7));
    assert_eq!(Error("mine"), Error("mine"));
    // And it does bring the types a program needs.
    let _mode: CreateMode = CreateMode::EphemeralSequential;
    let _policy = ExponentialBackoffRetry::new(Duration::from_millis(100), 3);
    let _state: Option<ConnectionState> = None;
    let _error: Option<ZkError> = None;
}
