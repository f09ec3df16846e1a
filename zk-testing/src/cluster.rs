//! [`TestingCluster`]: an ensemble of ZooKeeper servers on loopback, and ways to break it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::four_letter::{ServerMode, server_mode};
use crate::install::Installation;
use crate::launch::{Shape, find_leader, launch, wait_for_leader};
use crate::member::Member;
use crate::proxy::Proxy;
use crate::quorum_links::QuorumLinks;
use crate::tls::ServerTls;

/// Deadline for one `srvr` asked by [`TestingCluster::mode`].
const MODE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// An ensemble of `n` ZooKeeper servers (`QuorumPeerMain`) on `127.0.0.1`, each with its own
/// client, quorum and election port and its own temporary directory.
///
/// Servers are addressed by index `0..n` (server `i` has `myid` `i + 1`). Dropping the cluster
/// kills every JVM, reaps it, and removes every directory.
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// use std::time::Duration;
/// use zk_testing::TestingCluster;
///
/// let mut cluster = TestingCluster::start(3).await?;
/// let old = cluster.wait_for_leader(Duration::from_secs(30)).await?;
/// cluster.kill(old)?;
/// let new = cluster.wait_for_leader(Duration::from_secs(30)).await?;
/// assert_ne!(old, new);
/// cluster.restart(old).await?;                 // back, same ports, same data
/// # Ok(()) }
/// ```
///
/// The JVMs are tied to the thread that started them (`PR_SET_PDEATHSIG`): keep the cluster on
/// the test's own thread or runtime, not in a `static` shared between tests.
#[derive(Debug)]
pub struct TestingCluster {
    // The JVMs go before the links they talk through.
    members: Vec<Member>,
    quorum_links: Option<QuorumLinks>,
    config: ServerConfig,
    startup_time: Duration,
}

impl TestingCluster {
    /// Starts `n` servers with [`ServerConfig::default`] and waits until every one serves and
    /// one of them leads.
    pub async fn start(n: usize) -> Result<Self> {
        Self::start_with(n, ServerConfig::default()).await
    }

    /// Starts `n` servers with `config` and waits until every one serves and one leads.
    pub async fn start_with(n: usize, config: ServerConfig) -> Result<Self> {
        Self::launch(n, config, false).await
    }

    /// Starts `n` servers with `config` whose quorum links (each follower's connection to the
    /// leader's quorum port) go through proxies of the test's, one per ordered pair of servers:
    /// [`quorum_link`](Self::quorum_link) gives the one from a server to another, to
    /// [`delay`](Proxy::delay), [`blackhole`](Proxy::blackhole) or [`cut`](Proxy::cut) that link
    /// alone while both servers keep serving clients. Leader election still talks directly.
    /// Waits, like [`start_with`](Self::start_with), until every server serves and one leads.
    ///
    /// The proxies live as long as the cluster, across [`restart`](Self::restart)s, and run on
    /// the Tokio runtime that called this: a test that blocks its thread (on a current-thread
    /// runtime) stalls every quorum link meanwhile. Prefer
    /// `#[tokio::test(flavor = "multi_thread")]` for these tests.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), zk_testing::Error> {
    /// use std::time::Duration;
    /// use zk_testing::{ServerConfig, TestingCluster};
    ///
    /// let cluster = TestingCluster::start_with_quorum_proxies(3, ServerConfig::default()).await?;
    /// let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
    /// let follower = (leader + 1) % 3;
    /// // The follower still serves clients, and applies each commit 2 s after the leader.
    /// cluster.quorum_link(follower, leader)?.delay(Duration::from_secs(2)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_with_quorum_proxies(n: usize, config: ServerConfig) -> Result<Self> {
        Self::launch(n, config, true).await
    }

    async fn launch(n: usize, config: ServerConfig, quorum_proxies: bool) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidConfig(
                "an ensemble needs at least one server".into(),
            ));
        }
        let install = Installation::detect()?;
        if config.tls().is_some() {
            install.require_tls()?;
        }
        let shape = Shape::Ensemble {
            servers: n,
            quorum_proxies,
        };
        let launched = launch(&install, &config, shape).await?;
        tracing::info!(servers = n, quorum_proxies, startup = ?launched.startup_time, "ZooKeeper ensemble serving");
        Ok(TestingCluster {
            members: launched.members,
            quorum_links: launched.quorum_links,
            config,
            startup_time: launched.startup_time,
        })
    }

    /// The proxy that carries server `from`'s connection to server `to`'s quorum port: the link
    /// a follower `from` uses while `to` leads (and the one `to` uses when `from` leads is
    /// [`quorum_link(to, from)`](Self::quorum_link)). Only for a cluster started with
    /// [`start_with_quorum_proxies`](Self::start_with_quorum_proxies); asking for a server's
    /// link to itself, or with an index out of range, is an error too.
    ///
    /// A [`delay`](Proxy::delay) makes `from` lag `to` while it keeps serving; a
    /// [`blackhole`](Proxy::blackhole) stalls the link until ZooKeeper's own timeouts (the
    /// sync limit) drop the follower; a [`cut`](Proxy::cut) closes it at once and refuses the
    /// reconnects. [`heal`](Proxy::heal) undoes any of them.
    ///
    /// How long a delay ZooKeeper tolerates: a follower only answers the leader's pings (sent
    /// every half tick), so once a link is delayed by `d` the leader hears nothing from that
    /// follower for `2 * d`, and each proposal is acknowledged `2 * d` after it was sent. Both
    /// must stay under the sync limit (`syncLimit * tickTime`, 5 s by default): with
    /// [`ServerConfig::default`] a delay under 2.5 s keeps the follower in the quorum for as
    /// long as it lasts, and a longer one makes the leader drop it about 5 s after the delay
    /// began, writes or not (the follower then rejoins through the same slow link and is
    /// dropped again). Raise [`sync_limit`](crate::ServerConfigBuilder::sync_limit) for longer
    /// lags. Anything the follower must ask the leader (a new session, revalidating one on
    /// reconnect, `sync`) takes at least `2 * d` there.
    ///
    /// The proxy borrows the cluster: fetch it again after calling a `&mut self` method such
    /// as [`restart`](Self::restart) or [`wait_serving`](Self::wait_serving).
    pub fn quorum_link(&self, from: usize, to: usize) -> Result<&Proxy> {
        let len = self.members.len();
        if let Some(index) = [from, to].into_iter().find(|&i| i >= len) {
            return Err(Error::NoSuchServer { index, len });
        }
        match &self.quorum_links {
            Some(links) => links.get(from, to),
            None => Err(Error::NoQuorumLink {
                from,
                to,
                reason: "the cluster was started without quorum proxies \
                         (use TestingCluster::start_with_quorum_proxies)"
                    .into(),
            }),
        }
    }

    /// How many servers the ensemble has (running or not).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: an ensemble has at least one server.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The configuration every server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// How long the ensemble took to start, until all served and one led.
    pub fn startup_time(&self) -> Duration {
        self.startup_time
    }

    /// Every server's client address, comma-separated: `127.0.0.1:a,127.0.0.1:b,...`.
    pub fn connect_string(&self) -> String {
        self.members
            .iter()
            .map(|m| m.client_addr().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every server's client address, in index order.
    pub fn client_addrs(&self) -> Vec<SocketAddr> {
        self.members.iter().map(Member::client_addr).collect()
    }

    /// One server's own connect string, `127.0.0.1:<port>`, to pin a client to it.
    pub fn server_connect_string(&self, index: usize) -> Result<String> {
        Ok(self.member(index)?.client_addr().to_string())
    }

    /// One server's client address.
    pub fn client_addr(&self, index: usize) -> Result<SocketAddr> {
        Ok(self.member(index)?.client_addr())
    }

    /// One server's client port.
    pub fn client_port(&self, index: usize) -> Result<u16> {
        Ok(self.member(index)?.client_port())
    }

    /// How the servers serve TLS, when the ensemble was configured with
    /// [`tls`](crate::ServerConfigBuilder::tls).
    pub fn tls(&self) -> Option<&ServerTls> {
        self.config.tls()
    }

    /// Every server's TLS client address (`secureClientPort`), comma-separated, when the
    /// ensemble serves TLS.
    pub fn secure_connect_string(&self) -> Option<String> {
        let addrs: Option<Vec<String>> = self
            .members
            .iter()
            .map(|m| m.secure_addr().map(|a| a.to_string()))
            .collect();
        addrs.map(|addrs| addrs.join(","))
    }

    /// One server's TLS client address, when the ensemble serves TLS (`Ok(None)` otherwise).
    pub fn secure_addr(&self, index: usize) -> Result<Option<SocketAddr>> {
        Ok(self.member(index)?.secure_addr())
    }

    /// The pid of one server's JVM; `None` after it was stopped or killed.
    pub fn pid(&self, index: usize) -> Result<Option<u32>> {
        Ok(self.member(index)?.pid())
    }

    /// One server's directory (`zoo.cfg`, logs, and `data/`).
    pub fn dir(&self, index: usize) -> Result<&Path> {
        Ok(self.member(index)?.dir())
    }

    /// One server's log file.
    pub fn log_file(&self, index: usize) -> Result<PathBuf> {
        Ok(self.member(index)?.log_file())
    }

    /// Kills one server with SIGKILL, as a crash would. Its ports and data stay for
    /// [`restart`](Self::restart). Killing a stopped server does nothing.
    pub fn kill(&mut self, index: usize) -> Result<()> {
        self.member_mut(index)?.kill();
        Ok(())
    }

    /// Stops one server (SIGTERM, then SIGKILL after a grace period).
    pub async fn stop(&mut self, index: usize) -> Result<()> {
        self.member_mut(index)?.stop().await;
        Ok(())
    }

    /// Stops one server if it runs, starts it again with the same ports and data, and waits
    /// until it serves again (as leader or follower). A majority must be up for that to happen.
    pub async fn restart(&mut self, index: usize) -> Result<()> {
        let deadline = Instant::now() + self.config.startup_timeout();
        let member = self.member_mut(index)?;
        member.stop().await;
        member.spawn()?;
        member.wait_serving(deadline).await?;
        Ok(())
    }

    /// Freezes one server (SIGSTOP): its sockets stay open and it answers nothing, like a
    /// machine that went to sleep. Returns once every thread of its JVM has stopped (it blocks
    /// for that moment; bounded at 10 s).
    pub fn pause(&mut self, index: usize) -> Result<()> {
        self.member_mut(index)?.pause()
    }

    /// Thaws a paused server (SIGCONT). Returns once no thread of its JVM is stopped.
    pub fn resume(&mut self, index: usize) -> Result<()> {
        self.member_mut(index)?.resume()
    }

    /// The index of the server that reports `Mode: leader` in `srvr` right now, asking every
    /// running, unpaused server. `None` while the ensemble has no leader (or during an election).
    pub async fn leader(&self) -> Option<usize> {
        find_leader(&self.members).await
    }

    /// Waits up to `timeout` until some running, unpaused server reports `Mode: leader`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<usize> {
        wait_for_leader(&self.members, Instant::now() + timeout).await
    }

    /// One server's mode from `srvr`; `Ok(None)` when it answers but does not serve.
    pub async fn mode(&self, index: usize) -> Result<Option<ServerMode>> {
        server_mode(self.member(index)?.client_addr(), MODE_PROBE_TIMEOUT).await
    }

    /// Waits up to `timeout` until one server serves again (for example after a partition
    /// healed), and returns its mode.
    pub async fn wait_serving(&mut self, index: usize, timeout: Duration) -> Result<ServerMode> {
        let deadline = Instant::now() + timeout;
        self.member_mut(index)?.wait_serving(deadline).await
    }

    fn member(&self, index: usize) -> Result<&Member> {
        let len = self.members.len();
        self.members
            .get(index)
            .ok_or(Error::NoSuchServer { index, len })
    }

    fn member_mut(&mut self, index: usize) -> Result<&mut Member> {
        let len = self.members.len();
        self.members
            .get_mut(index)
            .ok_or(Error::NoSuchServer { index, len })
    }
}
