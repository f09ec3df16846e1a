//! Rust and Apache Curator 5.4 holders of one lock, on a real ZooKeeper.
//!
//! `tests/java/CuratorLock.java` runs Curator's own `InterProcessMutex`,
//! `InterProcessReadWriteLock` and `InterProcessSemaphoreV2` and is driven over
//! stdin/stdout. Each test puts Java and Rust holders on one path and checks that
//! they exclude each other in both directions, that their nodes have one layout,
//! and that revocation requests cross between them.
//!
//! That the other side does not get in while one holds is checked with a bounded
//! acquire ([`BLOCKED`]) that must time out; everything else is awaited.
//!
//! Needs `javac`/`java` and the Curator, ZooKeeper, Guava and SLF4J jars from
//! /usr/share/java, installed by `scripts/setup`.

mod support;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use support::java::JavaHelper;
use support::{DEADLINE, base, connect, eventually, is_protected_sequential, serial, server};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use zk_core::{Client, Code, path};
use zk_recipes::locks::{
    InterProcessMutex, InterProcessReadWriteLock, InterProcessSemaphoreV2, LockGuard, Revoker,
};

/// How long a blocked side tries to acquire before it must report a timeout.
const BLOCKED: Duration = Duration::from_millis(1500);

/// Curator's own lock recipes, driven over stdin/stdout.
static CURATOR_LOCK: JavaHelper = JavaHelper::new(
    "CuratorLock",
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

/// One Curator lock holder in its own JVM.
struct Curator {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// Every line it printed so far.
    seen: Vec<String>,
}

impl Curator {
    /// `mode` is `mutex`, `read`, `write` or `semaphore` (with `extra` = max leases).
    async fn start(mode: &str, connect_string: &str, lock: &str, extra: &[&str]) -> Curator {
        let mut child = Command::new("java")
            .arg("-Xmx128m")
            .arg("-cp")
            .arg(CURATOR_LOCK.classpath())
            .arg(CURATOR_LOCK.class())
            .args([mode, connect_string, lock])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run java ({e}); {}", CURATOR_LOCK.setup_hint()));
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

    /// Reads lines until one starts with one of `prefixes`; returns which, and the
    /// rest of the line. An `ERROR` line fails the test.
    async fn expect_one_of(&mut self, prefixes: &[&'static str]) -> (&'static str, String) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let line = timeout(deadline - Instant::now(), self.lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "Curator did not print {prefixes:?} in time; saw {:?}",
                        self.seen
                    )
                })
                .expect("read Curator's output")
                .unwrap_or_else(|| {
                    panic!("Curator exited before {prefixes:?}; saw {:?}", self.seen)
                });
            self.seen.push(line.clone());
            assert!(
                !line.starts_with("ERROR"),
                "Curator failed: {line}; saw {:?}",
                self.seen
            );
            for prefix in prefixes {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return (prefix, rest.trim().to_string());
                }
            }
        }
    }

    /// Reads lines until one starts with `prefix`; returns the rest of it.
    async fn expect(&mut self, prefix: &'static str) -> String {
        self.expect_one_of(&[prefix]).await.1
    }

    async fn send(&mut self, command: &str) {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write to Curator");
        self.stdin.flush().await.expect("flush to Curator");
    }

    /// Acquires, waiting as long as it takes; returns the held node's path.
    async fn acquire(&mut self) -> String {
        self.send("acquire").await;
        self.expect("ACQUIRED").await
    }

    /// Acquires, waiting up to `wait`; the held node's path, `None` on a timeout.
    async fn try_acquire(&mut self, wait: Duration) -> Option<String> {
        self.send(&format!("acquire {}", wait.as_millis())).await;
        match self.expect_one_of(&["ACQUIRED", "TIMEOUT"]).await {
            ("ACQUIRED", node) => Some(node),
            _ => None,
        }
    }

    async fn release(&mut self) {
        self.send("release").await;
        self.expect("RELEASED").await;
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

/// The children of `parent` as full paths; none if it does not exist.
async fn children(client: &Client, parent: &str) -> BTreeSet<String> {
    match client.get_children(parent).await {
        Ok(names) => names.iter().map(|n| path::join(parent, n)).collect(),
        Err(e) if e.code() == Some(Code::NoNode) => BTreeSet::new(),
        Err(e) => panic!("children of {parent}: {e}"),
    }
}

/// Waits until `parent` has `n` children; returns them.
async fn until_children(client: &Client, parent: &str, n: usize) -> BTreeSet<String> {
    eventually(&format!("{n} children of {parent}"), || async {
        let got = children(client, parent).await;
        (got.len() == n).then_some(got)
    })
    .await
}

/// The set of these paths.
fn set<const N: usize>(paths: [&str; N]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

/// Asserts that `node` is a protected sequential node `<parent>/_c_<uuid>-<name><seq>`.
fn assert_node(node: &str, parent: &str, lock_name: &str) {
    assert_eq!(path::parent(node), Some(parent), "{node}");
    assert!(
        is_protected_sequential(path::node_name(node), lock_name),
        "not a protected {lock_name} node: {node}"
    );
}

/// The one node of `now` that is not among `before`.
fn new_node(now: &BTreeSet<String>, before: &[&str]) -> String {
    let new: Vec<&String> = now
        .iter()
        .filter(|n| !before.contains(&n.as_str()))
        .collect();
    assert_eq!(new.len(), 1, "one new node in {now:?} besides {before:?}");
    new[0].clone()
}

/// The sequence number at the end of a node's name.
fn sequence(node: &str) -> u64 {
    node[node.len() - 10..]
        .parse()
        .expect("a 10-digit sequence")
}

/// A spawned Rust acquire of `lock`, waiting without bound.
fn spawn_acquire(
    lock: &InterProcessMutex,
) -> tokio::task::JoinHandle<zk_recipes::locks::Result<LockGuard>> {
    let lock = lock.clone();
    tokio::spawn(async move { lock.acquire().await })
}

/// The guard a spawned acquire got, within `DEADLINE`.
async fn acquired(
    waiter: tokio::task::JoinHandle<zk_recipes::locks::Result<LockGuard>>,
) -> LockGuard {
    timeout(DEADLINE, waiter)
        .await
        .expect("the Rust acquire ends in time")
        .expect("the acquire task does not panic")
        .expect("the Rust acquire succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_curator_mutexes_exclude_each_other() {
    let _serial = serial().await;
    let cs = server().await.connect_string();
    let c = connect(&cs).await;
    let lock = format!("{}/mutex", base("curator-mutex"));

    // Curator holds: Rust cannot, and its timed-out attempt leaves no node.
    let mut java = Curator::start("mutex", &cs, &lock, &[]).await;
    let java_node = java.acquire().await;
    assert_node(&java_node, &lock, "lock-");
    let java_data = c.get_data(&java_node).await.unwrap().0;
    let rust = InterProcessMutex::new(c.clone(), lock.clone());
    assert!(
        rust.acquire_timeout(BLOCKED).await.unwrap().is_none(),
        "Rust must not acquire while Curator holds"
    );
    assert_eq!(children(&c, &lock).await, set([&java_node]));
    assert_eq!(
        rust.participant_nodes().await.unwrap(),
        vec![java_node.clone()]
    );

    // Rust waits behind Curator, and gets the lock when Curator releases.
    let waiter = spawn_acquire(&rust);
    let queued = until_children(&c, &lock, 2).await;
    assert!(!waiter.is_finished(), "Rust must wait for Curator");
    java.release().await;
    let guard = acquired(waiter).await;
    assert!(queued.contains(guard.node()), "{queued:?}");
    assert_node(guard.node(), &lock, "lock-");
    assert!(sequence(guard.node()) > sequence(&java_node));
    assert_eq!(children(&c, &lock).await, set([guard.node()]));

    // Both sides write Curator's default data: the host's address.
    let rust_data = c.get_data(guard.node()).await.unwrap().0;
    assert_eq!(
        rust_data,
        java_data,
        "Rust's node data {:?}, Curator's {:?}",
        String::from_utf8_lossy(&rust_data),
        String::from_utf8_lossy(&java_data)
    );

    // Rust holds: Curator cannot, and its timed-out attempt leaves no node.
    assert_eq!(java.try_acquire(BLOCKED).await, None);
    assert_eq!(children(&c, &lock).await, set([guard.node()]));

    // Curator waits behind Rust, and gets the lock when Rust releases.
    java.send("acquire").await;
    let java_waiting = new_node(&until_children(&c, &lock, 2).await, &[guard.node()]);
    assert!(guard.is_held());
    guard.release().await.unwrap();
    let java_node = java.expect("ACQUIRED").await;
    assert_eq!(
        java_node, java_waiting,
        "Curator holds with the node it waited with"
    );
    assert_node(&java_node, &lock, "lock-");
    assert_eq!(children(&c, &lock).await, set([&java_node]));
    assert_eq!(c.get_data(&java_node).await.unwrap().0, java_data);
    java.release().await;
    java.close().await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_curator_read_write_locks_exclude_each_other() {
    let _serial = serial().await;
    let cs = server().await.connect_string();
    let c = connect(&cs).await;
    let lock = format!("{}/rw", base("curator-rw"));

    // Two Curator readers share the lock; a Rust writer cannot have it.
    let mut reader1 = Curator::start("read", &cs, &lock, &[]).await;
    let mut reader2 = Curator::start("read", &cs, &lock, &[]).await;
    let r1 = reader1.acquire().await;
    let r2 = reader2.acquire().await;
    assert_node(&r1, &lock, "__READ__");
    assert_node(&r2, &lock, "__READ__");
    let rust = InterProcessReadWriteLock::new(c.clone(), lock.clone());
    assert!(
        rust.write_lock()
            .acquire_timeout(BLOCKED)
            .await
            .unwrap()
            .is_none(),
        "a Rust writer must not acquire while Curator readers hold"
    );
    assert_eq!(children(&c, &lock).await, set([&r1, &r2]));

    // The Rust writer waits for both readers.
    let writer = spawn_acquire(rust.write_lock());
    let queued = until_children(&c, &lock, 3).await;
    reader1.release().await;
    until_children(&c, &lock, 2).await;
    assert!(!writer.is_finished(), "the writer must wait for reader 2");
    reader2.release().await;
    let write = acquired(writer).await;
    assert!(queued.contains(write.node()), "{queued:?}");
    assert_node(write.node(), &lock, "__WRIT__");
    assert_eq!(children(&c, &lock).await, set([write.node()]));

    // The Rust writer holds: a Curator reader cannot read ...
    assert_eq!(reader1.try_acquire(BLOCKED).await, None);
    assert_eq!(children(&c, &lock).await, set([write.node()]));
    // ... until it releases.
    reader1.send("acquire").await;
    let r1_waiting = new_node(&until_children(&c, &lock, 2).await, &[write.node()]);
    write.release().await.unwrap();
    let r1 = reader1.expect("ACQUIRED").await;
    assert_eq!(r1, r1_waiting);
    assert_node(&r1, &lock, "__READ__");
    reader1.release().await;
    reader1.close().await;
    reader2.close().await;

    // The reverse: two Rust readers share the lock; a Curator writer cannot have it.
    let other = InterProcessReadWriteLock::new(c.clone(), lock.clone());
    let read1 = rust.read_lock().acquire().await.unwrap();
    let read2 = other.read_lock().acquire().await.unwrap();
    assert_node(read1.node(), &lock, "__READ__");
    assert_node(read2.node(), &lock, "__READ__");
    assert_ne!(read1.node(), read2.node());
    let mut writer = Curator::start("write", &cs, &lock, &[]).await;
    assert_eq!(writer.try_acquire(BLOCKED).await, None);
    assert_eq!(children(&c, &lock).await, set([read1.node(), read2.node()]));

    // The Curator writer waits for both Rust readers.
    writer.send("acquire").await;
    let w_waiting = new_node(
        &until_children(&c, &lock, 3).await,
        &[read1.node(), read2.node()],
    );
    read1.release().await.unwrap();
    until_children(&c, &lock, 2).await;
    assert!(
        other
            .read_lock()
            .participant_nodes()
            .await
            .unwrap()
            .contains(&read2.node().to_string())
    );
    read2.release().await.unwrap();
    let w = writer.expect("ACQUIRED").await;
    assert_eq!(w, w_waiting);
    assert_node(&w, &lock, "__WRIT__");

    // The Curator writer holds: a Rust reader cannot read, until it releases.
    assert!(
        rust.read_lock()
            .acquire_timeout(BLOCKED)
            .await
            .unwrap()
            .is_none(),
        "a Rust reader must not acquire while a Curator writer holds"
    );
    assert_eq!(children(&c, &lock).await, set([&w]));
    let reader = spawn_acquire(rust.read_lock());
    until_children(&c, &lock, 2).await;
    assert!(!reader.is_finished(), "the reader must wait for the writer");
    writer.release().await;
    let read = acquired(reader).await;
    assert_node(read.node(), &lock, "__READ__");
    assert_eq!(children(&c, &lock).await, set([read.node()]));
    read.release().await.unwrap();
    writer.close().await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_curator_share_a_semaphore_of_two_leases() {
    let _serial = serial().await;
    let cs = server().await.connect_string();
    let c = connect(&cs).await;
    let sem = format!("{}/sem", base("curator-semaphore"));
    let leases = format!("{sem}/leases");
    let locks = format!("{sem}/locks");

    // Curator's semaphore keeps, under `leases`, one node per lease held and, while
    // someone waits, the waiter's node: the waiter holds the mutex at `locks`, so
    // there is at most one. The leases held are the others: never more than two.
    let mut java1 = Curator::start("semaphore", &cs, &sem, &["2"]).await;
    let l1 = java1.acquire().await;
    assert_node(&l1, &leases, "lease-");
    assert_eq!(children(&c, &leases).await, set([&l1]));

    let rust = InterProcessSemaphoreV2::new(c.clone(), sem.clone(), 2);
    let r1 = rust.acquire().await.unwrap();
    assert_node(r1.node(), &leases, "lease-");
    assert_eq!(children(&c, &leases).await, set([&l1, r1.node()]));
    let mut names = rust.participant_nodes().await.unwrap();
    names.sort();
    let mut want = vec![path::node_name(&l1).to_string(), r1.node_name().to_string()];
    want.sort();
    assert_eq!(names, want);
    assert_eq!(
        c.get_children(&sem)
            .await
            .unwrap()
            .into_iter()
            .collect::<BTreeSet<_>>(),
        set(["leases", "locks"])
    );

    // Both leases are taken: a third one, Java or Rust, times out and leaves
    // nothing behind.
    let mut java2 = Curator::start("semaphore", &cs, &sem, &["2"]).await;
    assert_eq!(java2.try_acquire(BLOCKED).await, None);
    assert_eq!(children(&c, &leases).await, set([&l1, r1.node()]));
    let rust2 = InterProcessSemaphoreV2::new(c.clone(), sem.clone(), 2);
    assert!(
        rust2.acquire_timeout(BLOCKED).await.unwrap().is_none(),
        "a third lease must time out"
    );
    assert!(
        rust.acquire_timeout(BLOCKED).await.unwrap().is_none(),
        "a third lease from a holder must time out too"
    );
    assert_eq!(children(&c, &leases).await, set([&l1, r1.node()]));
    assert_eq!(children(&c, &locks).await, set([]));

    // Curator waits for a lease, holding the mutex; a Rust contender queues on
    // the mutex behind it.
    java2.send("acquire").await;
    let waiting = until_children(&c, &leases, 3).await;
    let java2_lease = new_node(&waiting, &[&l1, r1.node()]);
    assert_node(&java2_lease, &leases, "lease-");
    let java2_mutex = until_children(&c, &locks, 1).await;
    assert_node(java2_mutex.first().unwrap(), &locks, "lock-");
    let rust_waiter = {
        let rust2 = InterProcessSemaphoreV2::new(c.clone(), sem.clone(), 2);
        tokio::spawn(async move { rust2.acquire().await })
    };
    for node in until_children(&c, &locks, 2).await {
        assert_node(&node, &locks, "lock-");
    }
    assert_eq!(children(&c, &leases).await, waiting);

    // A Rust lease returns: Curator's waiter gets it; the Rust waiter then waits
    // for a lease in its turn.
    r1.release().await.unwrap();
    assert_eq!(java2.expect("ACQUIRED").await, java2_lease);
    let now = until_children(&c, &locks, 1).await;
    assert!(!now.contains(java2_mutex.first().unwrap()));
    let waiting = until_children(&c, &leases, 3).await;
    assert!(waiting.contains(&l1) && waiting.contains(&java2_lease));
    assert!(!rust_waiter.is_finished(), "two leases are held");

    // A Curator lease returns: the Rust waiter gets it.
    java1.release().await;
    let r2 = timeout(DEADLINE, rust_waiter)
        .await
        .expect("the Rust waiter gets a lease in time")
        .unwrap()
        .unwrap();
    assert_node(r2.node(), &leases, "lease-");
    assert!(waiting.contains(r2.node()));
    assert_eq!(children(&c, &leases).await, set([&java2_lease, r2.node()]));
    assert_eq!(children(&c, &locks).await, set([]));

    r2.release().await.unwrap();
    java2.release().await;
    assert_eq!(children(&c, &leases).await, set([]));
    java1.close().await;
    java2.close().await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_requests_cross_between_rust_and_curator() {
    let _serial = serial().await;
    let cs = server().await.connect_string();
    let c = connect(&cs).await;
    let lock = format!("{}/revocable", base("curator-revoke"));

    // A revocable Curator holder hears a request Rust makes.
    let mut java = Curator::start("mutex", &cs, &lock, &[]).await;
    java.send("revocable").await;
    java.expect("REVOCABLE").await;
    let java_node = java.acquire().await;
    assert_node(&java_node, &lock, "lock-");
    let java_data = c.get_data(&java_node).await.unwrap().0;
    assert!(!java.printed("REVOKE_REQUESTED"), "{:?}", java.seen);
    Revoker::attempt_revoke(&c, &java_node).await.unwrap();
    java.expect("REVOKE_REQUESTED").await;
    java.release().await;

    // A revocable Rust holder hears a request Curator makes.
    let rust = InterProcessMutex::new(c.clone(), lock.clone());
    let (requests_tx, mut requests) = mpsc::unbounded_channel();
    rust.make_revocable(move || {
        let _ = requests_tx.send(());
    });
    let guard = rust.acquire().await.unwrap();
    assert_node(guard.node(), &lock, "lock-");
    // Both write no data into a revocable lock's node.
    assert_eq!(c.get_data(guard.node()).await.unwrap().0, java_data);
    // Nothing asked it to release yet: a bounded wait that must pass quietly.
    assert!(
        timeout(BLOCKED, requests.recv()).await.is_err(),
        "the listener was called before any request"
    );
    java.send(&format!("revoke {}", guard.node())).await;
    java.expect("REVOKED").await;
    timeout(DEADLINE, requests.recv())
        .await
        .expect("the Rust listener is called in time")
        .expect("the listener lives");
    assert!(guard.is_held(), "a request does not release by itself");
    guard.release().await.unwrap();
    assert_eq!(children(&c, &lock).await, set([]));
    java.close().await;
    c.close().await;
}
