//! A standalone TestingServer: it starts, answers, and obeys stop, restart, kill, pause, resume.

mod common;

use std::time::Duration;

use common::{cmdline, process_exists};
use zk_testing::{
    Error, ServerConfig, ServerMode, TestingServer, four_letter_word, four_letter_word_within,
    server_mode,
};

#[tokio::test]
async fn started_server_answers_ruok_and_serves_standalone() {
    let server = TestingServer::start().await.expect("server starts");
    println!(
        "standalone server startup time: {:?}",
        server.startup_time()
    );

    assert_eq!(
        server.connect_string(),
        format!("127.0.0.1:{}", server.port())
    );
    assert_eq!(
        four_letter_word(server.addr(), "ruok").await.unwrap(),
        "imok"
    );
    assert_eq!(
        server_mode(server.addr(), Duration::from_secs(5))
            .await
            .unwrap(),
        Some(ServerMode::Standalone)
    );

    let pid = server.pid().expect("a started server has a pid");
    let command = cmdline(pid).expect("the pid names a live process");
    assert!(
        command.contains("java") && command.contains("ZooKeeperServerMain"),
        "pid {pid} is the JVM itself, not a wrapper: {command}"
    );
    assert!(server.log_file().starts_with(server.dir()));
    let log = std::fs::read_to_string(server.log_file()).expect("the server logs to its file");
    assert!(log.contains("binding to port"), "log:\n{log}");
}

#[tokio::test]
async fn configuration_reaches_the_server() {
    let config = ServerConfig::builder()
        .tick_time(Duration::from_millis(150))
        .session_timeouts(Duration::from_millis(600), Duration::from_secs(45))
        .extended_types(true)
        .build()
        .expect("valid config");
    let server = TestingServer::start_with(config)
        .await
        .expect("server starts");

    let conf = four_letter_word(server.addr(), "conf").await.unwrap();
    for expected in [
        "tickTime=150",
        "minSessionTimeout=600",
        "maxSessionTimeout=45000",
        "maxClientCnxns=0",
    ] {
        assert!(
            conf.lines().any(|l| l == expected),
            "missing {expected} in:\n{conf}"
        );
    }
    let pid = server.pid().expect("running");
    let command = cmdline(pid).expect("live");
    assert!(command.contains("-Djute.maxbuffer=16777216"), "{command}");
    assert!(
        command.contains("-Dzookeeper.extendedTypesEnabled=true"),
        "{command}"
    );
}

#[tokio::test]
async fn pause_silences_the_server_and_resume_brings_it_back() {
    let mut server = TestingServer::start().await.expect("server starts");

    server.pause().expect("pause a running server");
    let pid = server.pid().expect("a paused server still has its JVM");
    let states = common::thread_states(pid);
    assert!(
        !states.is_empty() && states.iter().all(|&s| s == 'T'),
        "pause returns once every thread is stopped: {states:?}"
    );
    let silent = four_letter_word_within(server.addr(), "ruok", Duration::from_secs(1)).await;
    assert!(
        matches!(silent, Err(Error::Timeout { .. })),
        "a paused server must not answer: {silent:?}"
    );

    server.resume().expect("resume a paused server");
    assert!(
        !common::thread_states(pid).contains(&'T'),
        "no thread stays stopped"
    );
    let answer = four_letter_word_within(server.addr(), "ruok", Duration::from_secs(10)).await;
    assert_eq!(answer.unwrap(), "imok");
}

#[tokio::test]
async fn restart_keeps_the_port_and_the_data_directory() {
    let mut server = TestingServer::start().await.expect("server starts");
    let port = server.port();
    let dir = server.dir().to_path_buf();
    let first_pid = server.pid().expect("running");

    server.stop().await;
    assert_eq!(server.pid(), None);
    assert!(!process_exists(first_pid), "stop reaps the JVM");
    assert!(
        four_letter_word_within(server.addr(), "ruok", Duration::from_secs(2))
            .await
            .is_err()
    );
    assert!(matches!(server.pause(), Err(Error::NotRunning { .. })));

    server.restart().await.expect("restart");
    assert_eq!(server.port(), port);
    assert_eq!(server.dir(), dir);
    assert_ne!(server.pid(), Some(first_pid));
    assert_eq!(
        four_letter_word(server.addr(), "ruok").await.unwrap(),
        "imok"
    );
    // The restarted server runs from the same data directory.
    let conf = four_letter_word(server.addr(), "conf").await.unwrap();
    assert!(
        conf.contains(&format!("dataDir={}", dir.join("data").display())),
        "{conf}"
    );
}

#[tokio::test]
async fn kill_ends_the_jvm_at_once_and_restart_recovers() {
    let mut server = TestingServer::start().await.expect("server starts");
    let pid = server.pid().expect("running");

    server.kill();
    assert!(!process_exists(pid), "kill reaps the JVM before returning");
    assert_eq!(server.pid(), None);

    server.restart().await.expect("restart after kill");
    assert_eq!(
        four_letter_word(server.addr(), "ruok").await.unwrap(),
        "imok"
    );
}
