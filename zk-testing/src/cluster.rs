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
    members: Vec<Member>,
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
        if n == 0 {
            return Err(Error::InvalidConfig(
                "an ensemble needs at least one server".into(),
            ));
        }
        let install = Installation::detect()?;
        let launched = launch(&install, &config, Shape::Ensemble(n)).await?;
        tracing::info!(servers = n, startup = ?launched.startup_time, "ZooKeeper ensemble serving");
        Ok(TestingCluster {
            members: launched.members,
            config,
            startup_time: launched.startup_time,
        })
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
