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
use crate::partition;
use crate::peer_links::{LinkKind, PeerLinks, ProxiedPorts};
use crate::proxy::Proxy;
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
    peer_links: Option<PeerLinks>,
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
        Self::launch(n, config, ProxiedPorts::Direct).await
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
        Self::launch(n, config, ProxiedPorts::Quorum).await
    }

    /// Starts `n` servers with `config` that reach each other only through proxies of the
    /// test's, on the quorum port (as [`start_with_quorum_proxies`](Self::start_with_quorum_proxies))
    /// and on the election port too: one proxy per ordered pair of servers and per kind of
    /// port. So [`partition`](Self::partition) can cut the ensemble in two while every server
    /// keeps running and keeps its clients, and [`election_link`](Self::election_link) gives
    /// one election link alone. Waits until every server serves and one leads.
    ///
    /// Elections run through the proxies as they do directly (votes travel over whichever
    /// connection of a pair survives, so both directions of a link carry them). The proxies
    /// live as long as the cluster and run on the Tokio runtime that called this; prefer
    /// `#[tokio::test(flavor = "multi_thread")]`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), zk_testing::Error> {
    /// use std::time::Duration;
    /// use zk_testing::{ServerConfig, TestingCluster};
    ///
    /// let config = ServerConfig::builder()
    ///     .sync_limit(Duration::from_secs(1)) // how soon each side notices the partition
    ///     .build()?;
    /// let cluster = TestingCluster::start_partitionable(3, config).await?;
    /// let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
    /// let (f1, f2) = ((leader + 1) % 3, (leader + 2) % 3);
    /// cluster.partition(&[leader], &[f1, f2]).await?;
    /// // About a second later the old leader stops serving and f1 or f2 leads.
    /// cluster.heal_partition().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_partitionable(n: usize, config: ServerConfig) -> Result<Self> {
        Self::launch(n, config, ProxiedPorts::QuorumAndElection).await
    }

    async fn launch(n: usize, config: ServerConfig, proxied: ProxiedPorts) -> Result<Self> {
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
            proxied,
        };
        let launched = launch(&install, &config, shape).await?;
        tracing::info!(servers = n, ?proxied, startup = ?launched.startup_time, "ZooKeeper ensemble serving");
        Ok(TestingCluster {
            members: launched.members,
            peer_links: launched.peer_links,
            config,
            startup_time: launched.startup_time,
        })
    }

    /// The proxy that carries server `from`'s connection to server `to`'s quorum port: the link
    /// a follower `from` uses while `to` leads (and the one `to` uses when `from` leads is
    /// [`quorum_link(to, from)`](Self::quorum_link)). Only for a cluster started with
    /// [`start_with_quorum_proxies`](Self::start_with_quorum_proxies) or
    /// [`start_partitionable`](Self::start_partitionable); asking for a server's link to
    /// itself, or with an index out of range, is an error too.
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
        self.peer_link(LinkKind::Quorum, from, to)
    }

    /// The proxy that carries server `from`'s connections to server `to`'s election port. Only
    /// for a cluster started with [`start_partitionable`](Self::start_partitionable); asking for
    /// a server's link to itself, or with an index out of range, is an error too.
    ///
    /// Of the two connections two servers open to each other's election port, ZooKeeper keeps
    /// the one the server with the higher `myid` opened and sends votes both ways over it: to
    /// stop votes between two servers, stop both [`election_link(a, b)`](Self::election_link)
    /// and `election_link(b, a)` (as [`partition`](Self::partition) does).
    pub fn election_link(&self, from: usize, to: usize) -> Result<&Proxy> {
        self.peer_link(LinkKind::Election, from, to)
    }

    /// The link of `kind` from `from` to `to`, after checking both indexes.
    fn peer_link(&self, kind: LinkKind, from: usize, to: usize) -> Result<&Proxy> {
        let len = self.members.len();
        if let Some(index) = [from, to].into_iter().find(|&i| i >= len) {
            return Err(Error::NoSuchServer { index, len });
        }
        match &self.peer_links {
            Some(links) => links.get(kind, from, to),
            None => Err(kind.missing(
                from,
                to,
                "the cluster was started without proxies between its servers \
                 (use TestingCluster::start_with_quorum_proxies or start_partitionable)",
            )),
        }
    }

    /// Cuts the ensemble in two: every quorum and election link between a server of `side_a`
    /// and one of `side_b` is [blackholed](Proxy::blackhole), both directions, as a real
    /// partition drops packets. Nothing is closed and every server keeps running and keeps
    /// its client connections, so each side notices only through ZooKeeper's own timeouts.
    /// Servers on neither side keep their links to both. Calling it again adds to the cut;
    /// [`heal_partition`](Self::heal_partition) undoes it. A server on both sides, an index
    /// out of range ([`Error::NoSuchServer`]), or a cluster not started with
    /// [`start_partitionable`](Self::start_partitionable) ([`Error::NotPartitionable`]) is
    /// refused before any link changes.
    ///
    /// What ZooKeeper then does, with `sync = syncLimit * tickTime`
    /// ([`sync_limit`](crate::ServerConfigBuilder::sync_limit), 5 s by default):
    ///
    /// - A leader on the minority side keeps serving its clients (reads answer; writes wait
    ///   for acks that do not come) until it sees that it lacks a quorum of followers, about
    ///   `sync` after the cut. Then it stops leading, closes every client connection, and
    ///   looks for a leader without finding one: it does not serve until the partition heals.
    /// - A follower cut from the leader stops hearing it, drops out after about `sync` the
    ///   same way (closing its client connections), and serves again only once it joins a
    ///   leader.
    /// - A majority side without the leader elects one among itself once its followers have
    ///   dropped out, so it leads again about `sync` (plus an election, a fraction of a
    ///   second) after the cut. The new leader expires the sessions whose clients stay on the
    ///   minority side once their own timeout passes without a word from them (and their
    ///   ephemeral nodes go).
    ///
    /// The two sides' `sync` run side by side with nothing ordering them, so keep `sync` well
    /// under the clients' session timeout: otherwise a client still served by the old leader
    /// may believe its session alive while the majority has already expired it and handed
    /// its ephemeral nodes (a lock, a leadership) to someone else.
    ///
    /// ```no_run
    /// # async fn demo(cluster: zk_testing::TestingCluster) -> Result<(), zk_testing::Error> {
    /// use std::time::Duration;
    ///
    /// let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
    /// let others: Vec<usize> = (0..cluster.len()).filter(|&i| i != leader).collect();
    /// cluster.partition(&[leader], &others).await?;
    /// // ... the old leader stops serving, another leads ...
    /// cluster.heal_partition().await?;
    /// # Ok(()) }
    /// ```
    pub async fn partition(&self, side_a: &[usize], side_b: &[usize]) -> Result<()> {
        let links = self.peer_links.as_ref().ok_or(Error::NotPartitionable)?;
        partition::partition(links, self.members.len(), side_a, side_b).await
    }

    /// Sets every quorum and election link forwarding again (held bytes flow on), ending any
    /// [`partition`](Self::partition) and whatever was done to a single link. Servers that
    /// were cut off rejoin the ensemble on their own: wait for it with
    /// [`wait_serving`](Self::wait_serving). Only for a cluster started with
    /// [`start_partitionable`](Self::start_partitionable) ([`Error::NotPartitionable`]
    /// otherwise).
    pub async fn heal_partition(&self) -> Result<()> {
        let links = self.peer_links.as_ref().ok_or(Error::NotPartitionable)?;
        partition::heal(links).await
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
