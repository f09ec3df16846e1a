//! [`TestingServer`]: one standalone ZooKeeper server on a free loopback port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::error::Result;
use crate::install::Installation;
use crate::launch::{Shape, launch};
use crate::member::Member;
use crate::tls::ServerTls;

/// A standalone ZooKeeper server (`ZooKeeperServerMain`) on `127.0.0.1`, with its own temporary
/// directory. Dropping it kills the JVM, waits for it to be reaped, and removes the directory.
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// use zk_testing::TestingServer;
///
/// let mut server = TestingServer::start().await?;
/// let connect_string = server.connect_string(); // "127.0.0.1:<port>"
/// server.pause()?;                              // frozen: connections stay open, nothing answers
/// server.resume()?;
/// server.restart().await?;                      // same port, same data: sessions survive
/// # Ok(()) }
/// ```
///
/// The JVM is tied to the thread that started it (`PR_SET_PDEATHSIG`): keep the server on the
/// test's own thread or runtime, not in a `static` shared between tests (for one server shared
/// by the tests of a binary, use [`SharedServer`](crate::SharedServer)).
#[derive(Debug)]
pub struct TestingServer {
    member: Member,
    config: ServerConfig,
    startup_time: Duration,
}

impl TestingServer {
    /// Starts a server with [`ServerConfig::default`] and waits until it serves.
    pub async fn start() -> Result<Self> {
        Self::start_with(ServerConfig::default()).await
    }

    /// Starts a server with `config` and waits until it serves.
    pub async fn start_with(config: ServerConfig) -> Result<Self> {
        let install = Installation::detect()?;
        if config.tls().is_some() {
            install.require_tls()?;
        }
        let launched = launch(&install, &config, Shape::Standalone).await?;
        let member = launched.members.into_iter().next().ok_or_else(|| {
            crate::Error::io(
                "starting a standalone server",
                std::io::Error::other("the launcher returned no server"),
            )
        })?;
        tracing::info!(server = member.label(), startup = ?launched.startup_time, "ZooKeeper serving");
        Ok(TestingServer {
            member,
            config,
            startup_time: launched.startup_time,
        })
    }

    /// The address clients connect to, e.g. `127.0.0.1:40123`.
    pub fn connect_string(&self) -> String {
        self.addr().to_string()
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        self.member.client_addr()
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.member.client_port()
    }

    /// How the server serves TLS, when it was configured with
    /// [`tls`](crate::ServerConfigBuilder::tls): its CA, to trust and to mint client
    /// certificates from.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.config.tls()
    }

    /// The TLS client address (`secureClientPort`), when the server serves TLS.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.member.secure_addr()
    }

    /// The TLS connect string, e.g. `127.0.0.1:40124`, when the server serves TLS.
    pub fn secure_connect_string(&self) -> Option<String> {
        self.secure_addr().map(|addr| addr.to_string())
    }

    /// The pid of the server's JVM; `None` after [`stop`](Self::stop) or [`kill`](Self::kill).
    pub fn pid(&self) -> Option<u32> {
        self.member.pid()
    }

    /// The server's directory (`zoo.cfg`, logs, and `data/`).
    pub fn dir(&self) -> &Path {
        self.member.dir()
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.member.log_file()
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// How long the last start or restart took, until the server answered as serving.
    pub fn startup_time(&self) -> Duration {
        self.startup_time
    }

    /// Stops the server (SIGTERM, then SIGKILL after a grace period). Its port and data stay
    /// reserved for [`restart`](Self::restart). Stopping a stopped server does nothing.
    pub async fn stop(&mut self) {
        self.member.stop().await;
    }

    /// Kills the server with SIGKILL, as a crash would. Killing a stopped server does nothing.
    pub fn kill(&mut self) {
        self.member.kill();
    }

    /// Stops the server if it runs, then starts it again on the same port with the same data,
    /// and waits until it serves.
    pub async fn restart(&mut self) -> Result<()> {
        let started = Instant::now();
        self.member.stop().await;
        self.member.spawn()?;
        self.member
            .wait_serving(started + self.config.startup_timeout())
            .await?;
        self.startup_time = started.elapsed();
        Ok(())
    }

    /// Freezes the server (SIGSTOP): its sockets stay open, it answers nothing. Returns once
    /// every thread of the JVM has stopped (it blocks for that moment; bounded at 10 s).
    pub fn pause(&mut self) -> Result<()> {
        self.member.pause()
    }

    /// Thaws a paused server (SIGCONT). Returns once no thread of the JVM is stopped.
    pub fn resume(&mut self) -> Result<()> {
        self.member.resume()
    }
}
