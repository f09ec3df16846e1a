//! Test support for the leader-election tests: a real ZooKeeper server, a TCP proxy
//! that can cut a client off, session expiry, and clients with short timeouts.
//!
//! The server and proxy here stand in for zk-testing's `TestingServer` and `Proxy`
//! until that crate lands on this branch; only this file changes then.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinSet;
use zk_core::{Client, ConnectionStateErrorPolicy, SessionConfig};
use zk_retry::RetryNTimes;

/// The session timeout the tests' clients ask for.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(3);
/// A generous bound for anything the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(30);

const JAR_DIR: &str = "/usr/share/java";
const JARS: &[&str] = &[
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "slf4j-api.jar",
    "slf4j-log4j12.jar",
    "log4j-1.2.jar",
    "netty-buffer.jar",
    "netty-codec.jar",
    "netty-common.jar",
    "netty-handler.jar",
    "netty-resolver.jar",
    "netty-transport.jar",
    "netty-transport-native-epoll.jar",
    "netty-transport-native-unix-common.jar",
    "metrics-core.jar",
    "snappy-java.jar",
    "commons-cli.jar",
    "commons-io.jar",
];

/// A standalone ZooKeeper 3.8 on loopback; killed on drop.
pub struct Server {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Server {
    /// Starts a server with a 200 ms tick and session timeouts of 0.4–10 s.
    pub async fn start() -> Server {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zkit-leader-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("data")).expect("temp dir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let cfg = format!(
            "tickTime=200\ninitLimit=10\nsyncLimit=5\nminSessionTimeout=400\nmaxSessionTimeout=10000\n\
             dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=*\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg).expect("zoo.cfg");
        let classpath: Vec<String> = JARS
            .iter()
            .map(|j| format!("{JAR_DIR}/{j}"))
            .filter(|p| std::path::Path::new(p).is_file())
            .collect();
        let log = std::fs::File::create(dir.join("server.log")).expect("log file");
        let child = Command::new("java")
            .arg("-Xmx256m")
            .arg("-Dzookeeper.log.dir=.")
            .arg("-cp")
            .arg(classpath.join(":"))
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("java starts");
        let server = Server {
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        server.wait_serving().await;
        server
    }

    async fn wait_serving(&self) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Ok(answer)) =
                tokio::time::timeout(Duration::from_secs(2), four_letter(self.addr, "srvr")).await
                && answer.contains("Mode:")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("ZooKeeper did not start within {DEADLINE:?}");
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn four_letter(addr: SocketAddr, word: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(word.as_bytes()).await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    Ok(out)
}

/// A TCP proxy on loopback in front of a server; `cut()` drops every connection
/// through it and refuses new ones until `heal()`.
pub struct Proxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
    _tasks: JoinSet<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let cut = watch::Sender::new(false);
        let mut tasks = JoinSet::new();
        let cut_rx = cut.subscribe();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                if *cut_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                conns.spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut inbound = inbound;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Proxy {
            addr,
            cut,
            _tasks: tasks,
        }
    }

    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.cut.send_replace(false);
    }
}

/// A connected client with the tests' short timeouts.
pub async fn client(connect_string: &str) -> Client {
    client_with(
        connect_string,
        SESSION_TIMEOUT,
        ConnectionStateErrorPolicy::Standard,
    )
    .await
}

/// A connected client with this session timeout and error policy.
pub async fn client_with(
    connect_string: &str,
    session_timeout: Duration,
    policy: ConnectionStateErrorPolicy,
) -> Client {
    let client = Client::builder()
        .connect_string(connect_string)
        .session_timeout(session_timeout)
        .connection_state_error_policy(policy)
        .connection_timeout(Duration::from_secs(2))
        .retry_policy(RetryNTimes::new(3, Duration::from_millis(200)))
        .build()
        .expect("client config");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("client connects");
    client
}

/// Expires `client`'s session on the server: another connection resumes the same
/// session and closes it, as Curator's test utilities do.
pub async fn expire_session(connect_string: &str, client: &Client) {
    let session = client.session();
    let mut config = SessionConfig::new(
        connect_string.parse().expect("connect string"),
        SESSION_TIMEOUT,
    );
    config.resume = Some((session.session_id(), session.session_password()));
    let other = zk_core::Session::start(config);
    other
        .wait_connected(DEADLINE)
        .await
        .expect("resumed the session");
    assert_eq!(other.session_id(), session.session_id());
    other.close().await;
}

/// Polls `cond` every 10 ms until it holds, up to `DEADLINE`.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Serializes the tests of one binary: each starts a JVM, and two cores are few.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Whether `name` is a protected sequential node name: `_c_<uuid>-<lock_name><10 digits>`.
pub fn is_protected_sequential(name: &str, lock_name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    if rest.len() < 37 {
        return false;
    }
    let (uuid, rest) = rest.split_at(36);
    let uuid_ok = uuid
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
        && uuid.matches('-').count() == 4;
    let Some(seq) = rest
        .strip_prefix('-')
        .and_then(|r| r.strip_prefix(lock_name))
    else {
        return false;
    };
    uuid_ok && seq.len() == 10 && seq.chars().all(|c| c.is_ascii_digit())
}
