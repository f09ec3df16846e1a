//! Rust and Apache Curator 5.4 participants in one election, on a real ZooKeeper.
//!
//! `tests/java/CuratorLeader.java` runs Curator's own `LeaderLatch` / `LeaderSelector`
//! and is driven over stdin/stdout. Each test mixes Java and Rust participants and
//! checks that both sides agree on the order and on who leads, and that leadership
//! passes between them in both directions.
//!
//! Needs `javac`/`java` and the Curator, ZooKeeper, Guava and SLF4J jars from
//! /usr/share/java, installed by `scripts/setup`.

mod support;

use std::process::Stdio;
use std::time::Duration;

use futures::FutureExt;
use support::java::JavaHelper;
use support::{DEADLINE, connect, is_protected_sequential, serial, server, until};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout};
use zk_core::path;
use zk_recipes::leader::{LeaderLatch, LeaderSelector, LeadershipContext, Participant};

/// Curator's own `LeaderLatch` and `LeaderSelector`, driven over stdin/stdout.
static CURATOR_LEADER: JavaHelper = JavaHelper::new(
    "CuratorLeader",
    &[
        "curator-recipes.jar",
        "curator-framework.jar",
        "curator-client.jar",
        "zookeeper.jar",
        "zookeeper-jute.jar",
        "guava.jar",
        "slf4j-api.jar",
    ],
    "run scripts/setup (Debian: default-jdk-headless libcurator-recipes-java \
    libcurator-framework-java zookeeper)",
);

/// One Curator participant in its own JVM.
struct Curator {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// Every line it printed so far.
    seen: Vec<String>,
}

impl Curator {
    async fn start(mode: &str, connect_string: &str, election: &str, id: &str) -> Curator {
        let mut child = Command::new("java")
            .arg("-Xmx128m")
            .arg("-cp")
            .arg(CURATOR_LEADER.classpath())
            .arg(CURATOR_LEADER.class())
            .args([mode, connect_string, election, id])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run java ({e}); {}", CURATOR_LEADER.setup_hint()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut curator = Curator {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
        };
        curator.expect("STARTED").await;
        curator
    }

    /// Reads lines until one starts with `prefix`; returns the rest of it.
    async fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let line = timeout(deadline - Instant::now(), self.lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "Curator did not print {prefix} in time; saw {:?}",
                        self.seen
                    )
                })
                .expect("read Curator's output")
                .unwrap_or_else(|| panic!("Curator exited before {prefix}; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_string();
            }
        }
    }

    async fn send(&mut self, command: &str) {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write to Curator");
        self.stdin.flush().await.expect("flush to Curator");
    }

    /// Curator's `getParticipants()`, as `id[*],...` (`*` marks the leader).
    async fn participants(&mut self) -> String {
        self.send("participants").await;
        self.expect("PARTICIPANTS").await
    }

    fn printed(&self, prefix: &str) -> bool {
        self.seen.iter().any(|l| l.starts_with(prefix))
    }

    async fn close(mut self) {
        self.send("close").await;
        self.expect("CLOSED").await;
        let status = timeout(DEADLINE, self.child.wait())
            .await
            .expect("Curator exits")
            .expect("wait for Curator");
        assert!(status.success(), "Curator exited with {status}");
    }
}

/// Our participants as Curator's helper prints them.
fn describe(participants: &[Participant]) -> String {
    participants
        .iter()
        .map(|p| format!("{}{}", p.id, if p.is_leader { "*" } else { "" }))
        .collect::<Vec<_>>()
        .join(",")
}

/// Polls `read` until it returns `want`, up to `DEADLINE`.
async fn until_participants<F, Fut>(want: &str, mut read: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Vec<Participant>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        let got = describe(&read().await);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "participants {got}, want {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_curator_latches_share_one_election() {
    let _serial = serial().await;
    let server = server().await;
    let cs = server.connect_string();
    let c = connect(&cs).await;
    let election = "/election/mixed-latch";

    // Curator first: it leads, with a node in the layout we write too.
    let mut java1 = Curator::start("latch", &cs, election, "java-1").await;
    let java_path = java1.expect("LEADER").await;
    assert_eq!(path::parent(&java_path), Some(election));
    assert!(
        is_protected_sequential(path::node_name(&java_path), "latch-"),
        "Curator's own node: {java_path}"
    );
    assert_eq!(c.get_data(&java_path).await.unwrap().0.as_ref(), b"java-1");

    // Rust queues behind it; both sides read the same order.
    let rust = LeaderLatch::new(c.clone(), election, "rust-1");
    rust.start().await.unwrap();
    until_participants("java-1*,rust-1", || async {
        rust.get_participants().await.unwrap()
    })
    .await;
    assert_eq!(java1.participants().await, "java-1*,rust-1");
    assert!(!rust.has_leadership());

    // Curator leaves: Rust leads.
    java1.close().await;
    assert!(rust.await_leadership().timeout(DEADLINE).await.unwrap());

    // A second Curator participant queues behind Rust and does not lead ...
    let mut java2 = Curator::start("latch", &cs, election, "java-2").await;
    until_participants("rust-1*,java-2", || async {
        rust.get_participants().await.unwrap()
    })
    .await;
    assert_eq!(java2.participants().await, "rust-1*,java-2");
    assert!(
        !java2.printed("LEADER"),
        "Curator must not lead behind Rust: {:?}",
        java2.seen
    );
    assert!(rust.has_leadership());

    // ... until Rust leaves.
    rust.close().await.unwrap();
    java2.expect("LEADER").await;
    assert_eq!(java2.participants().await, "java-2*");
    java2.close().await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_curator_selectors_take_turns() {
    let _serial = serial().await;
    let server = server().await;
    let cs = server.connect_string();
    let c = connect(&cs).await;
    let election = "/election/mixed-selector";

    let (started_tx, mut started) = mpsc::unbounded_channel::<String>();
    let (release, release_rx) = watch::channel(0u32);
    let rust = LeaderSelector::new(c.clone(), election, move |ctx: LeadershipContext| {
        let (started_tx, mut release_rx) = (started_tx.clone(), release_rx.clone());
        async move {
            let seen = *release_rx.borrow_and_update();
            let _ = started_tx.send(ctx.node_path().to_string());
            let _ = release_rx.wait_for(|n| *n > seen).await;
        }
    })
    .with_id("rust-s");
    rust.start().await.unwrap();
    let rust_node = timeout(DEADLINE, started.recv()).await.unwrap().unwrap();
    assert!(is_protected_sequential(
        path::node_name(&rust_node),
        "lock-"
    ));

    // Curator's selector waits behind the Rust leader; both agree on the order.
    let mut java = Curator::start("selector", &cs, election, "java-s").await;
    until_participants("rust-s*,java-s", || async {
        rust.get_participants().await.unwrap()
    })
    .await;
    assert_eq!(java.participants().await, "rust-s*,java-s");
    let children = c.get_children(election).await.unwrap();
    assert!(
        children.iter().all(|n| is_protected_sequential(n, "lock-")),
        "{children:?}"
    );
    assert!(
        !java.printed("TAKE"),
        "Curator must wait for Rust: {:?}",
        java.seen
    );

    // Rust's work ends: Curator takes over.
    release.send_modify(|n| *n += 1);
    java.expect("TAKE").await;
    assert!(!rust.has_leadership());
    assert_eq!(java.participants().await, "java-s*");

    // Rust queues again, behind Curator, and runs only once Curator is done.
    // Rust's round deleted its node (Curator leads) and then ends: once it has,
    // requeue() queues another.
    until("requeue() to queue a round once the last one ended", || {
        rust.requeue().unwrap()
    })
    .await;
    until_participants("java-s*,rust-s", || async {
        rust.get_participants().await.unwrap()
    })
    .await;
    assert!(
        started.recv().now_or_never().is_none(),
        "Rust must wait for Curator"
    );
    java.send("release").await;
    java.expect("RELEASED").await;
    let again = timeout(DEADLINE, started.recv()).await.unwrap().unwrap();
    assert_ne!(again, rust_node);
    assert!(rust.has_leadership());
    release.send_modify(|n| *n += 1);
    java.close().await;
    rust.close().await.unwrap();
    c.close().await;
}
