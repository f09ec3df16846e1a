//! Nothing outlives its test: dropped handles, panicking tests and killed test processes all
//! take their JVMs (and, where the process lives to do it, their directories) with them.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{cmdline, is_running, process_exists};
use tokio::io::{AsyncBufReadExt, BufReader};
use zk_testing::{TestingCluster, TestingServer};

#[tokio::test]
async fn dropping_a_server_kills_and_reaps_its_jvm_and_removes_its_directory() {
    let server = TestingServer::start().await.expect("server starts");
    let pid = server.pid().expect("running");
    let dir = server.dir().to_path_buf();
    assert!(process_exists(pid) && dir.exists());

    drop(server);
    assert!(!process_exists(pid), "kill(pid, 0) must fail with ESRCH");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!dir.exists(), "the data directory is removed");
}

#[tokio::test]
async fn dropping_a_cluster_kills_every_jvm() {
    let cluster = TestingCluster::start(2).await.expect("ensemble starts");
    let pids: Vec<u32> = (0..2)
        .map(|i| cluster.pid(i).unwrap().expect("running"))
        .collect();
    let dirs: Vec<_> = (0..2)
        .map(|i| cluster.dir(i).unwrap().to_path_buf())
        .collect();

    drop(cluster);
    for pid in pids {
        assert!(!process_exists(pid), "JVM {pid} is gone");
    }
    for dir in dirs {
        assert!(!dir.exists(), "{} is removed", dir.display());
    }
}

#[tokio::test]
async fn a_panicking_test_leaves_no_server_behind() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let failing_test = tokio::spawn(async move {
        let server = TestingServer::start().await.expect("server starts");
        tx.send((server.pid().expect("running"), server.dir().to_path_buf()))
            .expect("the test body waits for the pid");
        panic!("the test fails while holding the server");
    });
    let (pid, dir) = rx.await.expect("the server started before the panic");
    let outcome = failing_test.await;
    assert!(outcome.expect_err("the task panicked").is_panic());
    assert!(!process_exists(pid), "unwinding dropped the server");
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_killed_test_process_takes_its_servers_with_it() {
    let mut holder = tokio::process::Command::new(env!("CARGO_BIN_EXE_zk-testing-server"))
        .args(["--ensemble", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the helper binary starts");
    let stdout = holder.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut servers = Vec::new();
    let read_all = async {
        while let Some(line) = lines.next_line().await.expect("read helper output") {
            if line == "ready" {
                return;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["server", _, "pid", pid, "port", _, "dir", dir] = words[..] {
                servers.push((pid.parse::<u32>().expect("a pid"), dir.to_owned()));
            }
        }
        panic!("the helper exited before its servers were ready");
    };
    tokio::time::timeout(Duration::from_secs(120), read_all)
        .await
        .expect("the helper's servers come up in time");
    assert_eq!(servers.len(), 1);

    for (pid, _) in &servers {
        let command = cmdline(*pid).expect("the JVM runs");
        assert!(command.contains("QuorumPeerMain"), "{command}");
    }
    holder.start_kill().expect("SIGKILL the helper");
    holder.wait().await.expect("reap the helper");

    for (pid, dir) in servers {
        // The orphaned JVM is reaped by init, which may leave a zombie for a moment: count a
        // zombie as dead.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while is_running(pid) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!is_running(pid), "JVM {pid} outlived its test process");
        // A SIGKILLed process cannot clean up; this test does it for the helper.
        let _ = std::fs::remove_dir_all(dir);
    }
}
