//! One server's life: its directory, its ports, its JVM, and the checks that say it is serving.
//! [`TestingServer`](crate::TestingServer) holds one, [`TestingCluster`](crate::TestingCluster) several.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::four_letter::{ServerMode, four_letter_word_within};
use crate::install::Installation;
use crate::jvm::jvm_args;
use crate::ports::PortLease;
use crate::process::JavaProcess;
use crate::server_files::{Role, ServerPaths, write_server_files};

/// How often a starting server is asked whether it serves yet.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Deadline for one probe (one four-letter word) of a starting server.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `stop` lets a server exit on SIGTERM before it is killed.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(10);
/// How many lines of log a startup error carries.
const LOG_TAIL_LINES: usize = 40;

/// Set to `1` to keep server directories (and their logs) after the test, for debugging.
pub const KEEP_DIRS_ENV: &str = "ZK_TESTING_KEEP_DIRS";

/// The log line Java writes when a port is taken.
const BIND_FAILURE: &str = "Address already in use";

/// One ZooKeeper server process and everything it owns.
#[derive(Debug)]
pub(crate) struct Member {
    // Fields drop in declaration order: the JVM dies first, then its ports are released, and
    // its directory goes last.
    process: Option<JavaProcess>,
    paused: bool,
    label: String,
    role: Role,
    client: PortLease,
    /// The `secureClientPort`, for a server that serves TLS.
    secure: Option<PortLease>,
    _peer_ports: Vec<PortLease>,
    paths: ServerPaths,
    java: PathBuf,
    args: Vec<OsString>,
    _dir: TempDir,
}

impl Member {
    /// Creates the server's directory and files; does not start it. `secure` is the TLS port,
    /// given when the configuration asks for TLS.
    pub(crate) fn prepare(
        label: String,
        install: &Installation,
        config: &ServerConfig,
        role: Role,
        client: PortLease,
        secure: Option<PortLease>,
        peer_ports: Vec<PortLease>,
    ) -> Result<Member> {
        let keep = std::env::var_os(KEEP_DIRS_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        let dir = tempfile::Builder::new()
            .prefix("zk-testing-")
            .disable_cleanup(keep)
            .tempdir()
            .map_err(|e| Error::io("creating a temporary server directory", e))?;
        let paths = ServerPaths {
            root: dir.path().to_path_buf(),
        };
        write_server_files(
            &paths,
            config,
            client.port(),
            secure.as_ref().map(PortLease::port),
            &role,
        )?;
        let args = jvm_args(install, config, &paths, &role);
        Ok(Member {
            process: None,
            paused: false,
            label: format!("{label} (127.0.0.1:{})", client.port()),
            role,
            client,
            secure,
            _peer_ports: peer_ports,
            paths,
            java: install.java().to_path_buf(),
            args,
            _dir: dir,
        })
    }

    /// A human name such as `server 1 (127.0.0.1:40123)`.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn client_port(&self) -> u16 {
        self.client.port()
    }

    pub(crate) fn client_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.client.port()))
    }

    /// The TLS client address (`secureClientPort`), for a server that serves TLS.
    pub(crate) fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure
            .as_ref()
            .map(|lease| SocketAddr::from((Ipv4Addr::LOCALHOST, lease.port())))
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.paths.root
    }

    pub(crate) fn log_file(&self) -> PathBuf {
        self.paths.server_log()
    }

    /// The pid of the JVM started last, until it is stopped or killed.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(JavaProcess::pid)
    }

    /// Whether a JVM was started and has been neither stopped nor killed (it may have crashed).
    pub(crate) fn is_started(&self) -> bool {
        self.process.is_some()
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// Starts the JVM. A previous one is killed first.
    pub(crate) fn spawn(&mut self) -> Result<()> {
        self.kill();
        let process = JavaProcess::spawn(
            &self.java,
            &self.args,
            &self.paths.root,
            &self.paths.console_log(),
        )?;
        tracing::info!(server = %self.label, pid = process.pid(), "started ZooKeeper");
        self.process = Some(process);
        Ok(())
    }

    /// SIGKILL and reap; no-op when not running.
    pub(crate) fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill_and_reap();
            tracing::info!(server = %self.label, "killed ZooKeeper");
        }
        self.paused = false;
    }

    /// SIGTERM, a grace period, then SIGKILL; no-op when not running.
    pub(crate) async fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.terminate(STOP_GRACE).await;
            tracing::info!(server = %self.label, "stopped ZooKeeper");
        }
        self.paused = false;
    }

    /// SIGSTOP: the process freezes with its sockets open, as on a laptop that went to sleep.
    pub(crate) fn pause(&mut self) -> Result<()> {
        let frozen = self.running_process()?.freeze();
        // A wait that timed out still leaves the SIGSTOP in flight: count the server as paused.
        if !matches!(frozen, Err(Error::Io { .. })) {
            self.paused = true;
        }
        frozen?;
        tracing::info!(server = %self.label, "paused ZooKeeper");
        Ok(())
    }

    /// SIGCONT: undo [`pause`](Member::pause).
    pub(crate) fn resume(&mut self) -> Result<()> {
        let process = self.running_process()?;
        process.thaw()?;
        self.paused = false;
        tracing::info!(server = %self.label, "resumed ZooKeeper");
        Ok(())
    }

    fn running_process(&mut self) -> Result<&mut JavaProcess> {
        let running = self
            .process
            .as_mut()
            .is_some_and(|process| process.try_exit_status().is_none());
        match self.process.as_mut() {
            Some(process) if running => Ok(process),
            _ => Err(Error::NotRunning {
                server: self.label.clone(),
            }),
        }
    }

    /// Waits until this server serves in the mode its role allows, checking that the answers
    /// come from this server (not from another one that took the port).
    pub(crate) async fn wait_serving(&mut self, deadline: Instant) -> Result<ServerMode> {
        let started = Instant::now();
        loop {
            let status = match self.process.as_mut() {
                Some(process) => process.try_exit_status(),
                None => {
                    return Err(Error::NotRunning {
                        server: self.label.clone(),
                    });
                }
            };
            if let Some(status) = status {
                if let Some(detail) = self.bind_failure() {
                    return Err(Error::PortConflict {
                        server: self.label.clone(),
                        detail,
                    });
                }
                return Err(Error::ExitedDuringStartup {
                    server: self.label.clone(),
                    status,
                    log_tail: self.log_tail(),
                });
            }
            if let Some(mode) = self.serving_mode().await? {
                return Ok(mode);
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("{} to serve", self.label),
                    waited: started.elapsed(),
                    log_hint: format!("; last log lines:\n{}", self.log_tail()),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// One probe: `Ok(Some(mode))` when serving as this role should, `Ok(None)` when not (yet),
    /// `Err(PortConflict)` when another server answers on our port.
    async fn serving_mode(&self) -> Result<Option<ServerMode>> {
        let addr = self.client_addr();
        let Ok(ruok) = four_letter_word_within(addr, "ruok", PROBE_TIMEOUT).await else {
            return Ok(None);
        };
        if ruok != "imok" {
            return Ok(None);
        }
        let Ok(srvr) = four_letter_word_within(addr, "srvr", PROBE_TIMEOUT).await else {
            return Ok(None);
        };
        let Some(mode) = ServerMode::from_srvr(&srvr) else {
            return Ok(None);
        };
        let expected = match self.role {
            Role::Standalone => mode == ServerMode::Standalone,
            Role::Quorum { .. } => matches!(
                mode,
                ServerMode::Leader | ServerMode::Follower | ServerMode::Observer
            ),
        };
        if !expected {
            return Ok(None);
        }
        let Ok(conf) = four_letter_word_within(addr, "conf", PROBE_TIMEOUT).await else {
            return Ok(None);
        };
        let ours = format!("dataDir={}", self.paths.data_dir().display());
        if !conf.lines().any(|line| line.starts_with(&ours)) {
            return Err(Error::PortConflict {
                server: self.label.clone(),
                detail: format!("another ZooKeeper server answers on port {}", addr.port()),
            });
        }
        // A standalone server opens its TLS port after the plain one: serving means both.
        if let Some(secure) = self.secure_addr() {
            let accepts = tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(secure)).await;
            if !matches!(accepts, Ok(Ok(_))) {
                return Ok(None);
            }
        }
        Ok(Some(mode))
    }

    /// Whether the logs show that a port was taken, with the line that says so.
    pub(crate) fn bind_failure(&self) -> Option<String> {
        [self.paths.server_log(), self.paths.console_log()]
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .find_map(|text| {
                text.lines()
                    .find(|line| line.contains(BIND_FAILURE))
                    .map(|line| line.trim().to_owned())
            })
    }

    /// The last lines of the server log and of the JVM's console output.
    pub(crate) fn log_tail(&self) -> String {
        let mut tail = String::new();
        for path in [self.paths.server_log(), self.paths.console_log()] {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            let from = lines.len().saturating_sub(LOG_TAIL_LINES);
            tail.push_str(&format!("==> {} <==\n", path.display()));
            for line in &lines[from..] {
                tail.push_str(line);
                tail.push('\n');
            }
        }
        if tail.is_empty() {
            tail.push_str("(no log output)\n");
        }
        tail
    }
}
