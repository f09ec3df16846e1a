//! A SharedServer is one server for the whole test process: every caller, on any thread or
//! runtime, gets the same one; it outlives the test that started it; and it is gone, directory
//! and all, once the process exits (or is killed).
//!
//! The exit tests run this very binary again as a child process whose only test (`child`, a
//! no-op unless `SHARED_SERVER_CHILD` is set) starts the shared server and reports it.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{cmdline, is_running};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use zk_testing::{SharedServer, four_letter_word};

static SERVER: SharedServer = SharedServer::new();

/// What the child does once its server serves: `exit` returns (the process exits normally),
/// `hang` waits to be killed.
const CHILD_ENV: &str = "SHARED_SERVER_CHILD";

/// Gets the shared server on a runtime of its own, on a thread of its own, which then ends.
fn get_on_own_thread() -> (u32, String) {
    std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(SERVER.get())
            .expect("the shared server starts");
        (server.pid().expect("running"), server.connect_string())
    })
    .join()
    .expect("the thread gets the server")
}

#[tokio::test]
async fn every_caller_gets_one_server_that_outlives_the_thread_that_started_it() {
    let (first, second) = tokio::join!(
        tokio::task::spawn_blocking(get_on_own_thread),
        tokio::task::spawn_blocking(get_on_own_thread)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second, "one server for both");
    let here = SERVER.get().await.expect("the shared server");
    assert_eq!((here.pid().unwrap(), here.connect_string()), first);

    // Both threads (and their runtimes) are gone; the server still serves.
    assert_eq!(four_letter_word(here.addr(), "ruok").await.unwrap(), "imok");
    let command = cmdline(here.pid().unwrap()).expect("the JVM runs");
    assert!(command.contains("ZooKeeperServerMain"), "{command}");
    assert!(here.log_file().starts_with(here.dir()));
}

/// Runs this binary's `child` test with `mode`; returns the process and the server's pid and
/// directory it reported.
async fn run_child(mode: &str) -> (tokio::process::Child, u32, std::path::PathBuf) {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "child", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the child test process starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let report = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read the child's output") {
            // The harness prints `test child ... ` on the same line first.
            if let Some((_, rest)) = line.split_once("shared server pid ") {
                return rest.to_string();
            }
        }
        panic!("the child exited before reporting its server");
    })
    .await
    .expect("the child's server comes up in time");
    let (pid, dir) = report.split_once(" dir ").expect("pid and dir");
    // Keep draining the child's output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, pid.parse().expect("a pid"), dir.into())
}

/// Waits until `pid` no longer runs (a zombie waiting for init counts as gone).
async fn wait_gone(pid: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while is_running(pid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!is_running(pid), "JVM {pid} outlived its test process");
}

#[tokio::test]
async fn a_test_process_that_exits_takes_the_server_and_its_directory_with_it() {
    let (mut process, pid, dir) = run_child("exit").await;
    let status = tokio::time::timeout(Duration::from_secs(60), process.wait())
        .await
        .expect("the child exits")
        .expect("wait for the child");
    assert!(status.success(), "the child test passed: {status}");
    wait_gone(pid).await;
    assert!(!dir.exists(), "{} is removed at exit", dir.display());
}

#[tokio::test]
async fn a_killed_test_process_takes_the_server_with_it() {
    let (mut process, pid, dir) = run_child("hang").await;
    assert!(is_running(pid), "the server runs while its process lives");
    process.start_kill().expect("SIGKILL the child");
    process.wait().await.expect("reap the child");
    wait_gone(pid).await;
    // A SIGKILLed process cannot clean up; this test does it for the child.
    let _ = std::fs::remove_dir_all(dir);
}

/// The child process's body (a no-op when run as an ordinary test).
#[tokio::test]
async fn child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let server = SERVER.get().await.expect("the shared server starts");
    println!(
        "shared server pid {} dir {}",
        server.pid().expect("running"),
        server.dir().display()
    );
    if mode == "hang" {
        std::future::pending::<()>().await;
    }
}
