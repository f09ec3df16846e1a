//! The README's first command runs `examples/demo.rs`, and `examples/api_tour.rs` is
//! DESIGN.md's contract in code: both must not only compile but work. Each runs here
//! as a user would run it, against servers it starts itself, and must tell its story
//! and exit 0 in time.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// The demo promises to finish within 60 s; the slack covers a loaded machine.
const DEADLINE: Duration = Duration::from_secs(120);

/// The example binaries `cargo test` built next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<this test> -> target/<profile>/examples/<name>
    let profile_dir = me
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    profile_dir.join("examples").join(name)
}

async fn run(name: &str) -> String {
    let path = example(name);
    assert!(path.exists(), "{} was not built", path.display());
    let child = Command::new(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish within {DEADLINE:?}"))
        .expect("example output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that `lines` appear in `out` in this order.
fn in_order(out: &str, lines: &[&str]) {
    let mut from = 0;
    for want in lines {
        match out[from..].find(want) {
            Some(i) => from += i + want.len(),
            None => panic!("{want:?} missing (or out of order) in:\n{out}"),
        }
    }
}

#[tokio::test]
async fn the_demo_tells_the_expiry_story_and_exits_zero() {
    let out = run("demo").await;
    in_order(
        &out,
        &[
            "registered api.user:8080",
            "registered api.user:8082",
            "provider (round robin",
            "leads;",
        ],
    );
    in_order(
        &out,
        &[
            "expiring service",
            "connection: Suspended",
            "connection: Lost",
            "connection: Reconnected",
        ],
    );
    in_order(
        &out,
        &[
            "expiring service",
            "observer cache: ChildRemoved",
            "observer cache: ChildAdded",
        ],
    );
    in_order(&out, &["expiring service", "leadership: NotLeader"]);
    in_order(
        &out,
        &[
            "done:",
            "3 api.user instances registered",
            "leads now",
            "closed everything",
        ],
    );
}

#[tokio::test]
async fn the_api_tour_runs_every_call_of_the_design() {
    let out = run("api_tour").await;
    in_order(
        &out,
        &[
            "state: Some(Connected)",
            "created /workers/_c_",
            "watch saw NodeDataChanged",
            "transaction:",
            "provider picked",
            "cache event: Some(ChildAdded",
            "leader: true",
            "lock held: true",
            "other got it: false",
            "done",
        ],
    );
}
