//! The one error type of the test kit. Every failure names what to do next where it can:
//! a missing install points at `scripts/setup`, a server that died points at its log.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong while starting, driving or probing test servers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ZooKeeper jars were not found where the kit looks for them.
    #[error(
        "ZooKeeper jars not found: missing {missing:?} in {searched}. Run `scripts/setup` (it installs \
         Debian's `zookeeper` package) or set {env} to a directory holding the ZooKeeper jars",
        env = crate::install::JARS_ENV
    )]
    ZooKeeperNotInstalled {
        /// Where the kit looked.
        searched: PathBuf,
        /// The jar names (or patterns) that were not there.
        missing: Vec<String>,
    },

    /// No `java` executable was found.
    #[error("no Java runtime found (looked at {searched}). Run `scripts/setup` or set JAVA_HOME")]
    JavaNotFound {
        /// The places that were tried, in order.
        searched: String,
    },

    /// A configuration value was refused before any server was started.
    #[error("invalid test server configuration: {0}")]
    InvalidConfig(String),

    /// An ensemble was asked for a server index it does not have.
    #[error("no server {index}: the ensemble has {len} servers (indexes start at 0)")]
    NoSuchServer {
        /// The index that was asked for.
        index: usize,
        /// How many servers the ensemble has.
        len: usize,
    },

    /// A cluster was asked for a quorum link it does not have.
    #[error("no quorum link from server {from} to server {to}: {reason}")]
    NoQuorumLink {
        /// The server whose connection the link would carry.
        from: usize,
        /// The server whose quorum port the link would lead to.
        to: usize,
        /// Why there is none.
        reason: String,
    },

    /// A cluster was asked for an election link it does not have.
    #[error("no election link from server {from} to server {to}: {reason}")]
    NoElectionLink {
        /// The server whose connection the link would carry.
        from: usize,
        /// The server whose election port the link would lead to.
        to: usize,
        /// Why there is none.
        reason: String,
    },

    /// A partition was asked for on a cluster whose election connections are direct, so it
    /// could not be cut in two.
    #[error(
        "the cluster cannot be partitioned: its servers do not reach each other through proxies \
         on both the quorum and the election ports (start it with TestingCluster::start_partitionable)"
    )]
    NotPartitionable,

    /// A partition named the same server on both sides.
    #[error("server {index} is on both sides of the partition")]
    ServerOnBothSides {
        /// The server named twice.
        index: usize,
    },

    /// The operation needs a running server, but this one is stopped or killed.
    #[error("{server} is not running")]
    NotRunning {
        /// Which server, e.g. `server 2 (127.0.0.1:40123)`.
        server: String,
    },

    /// The Java process ended before the server was serving.
    #[error("{server} exited during startup ({status}). Last log lines:\n{log_tail}")]
    ExitedDuringStartup {
        /// Which server.
        server: String,
        /// How the process ended.
        status: ExitStatus,
        /// The end of the server's log and console output (its directory is removed).
        log_tail: String,
    },

    /// A port the server needed was taken by someone else, even after retrying with new ports.
    #[error("{server} could not get its ports: {detail}")]
    PortConflict {
        /// Which server.
        server: String,
        /// What showed the conflict.
        detail: String,
    },

    /// Something did not happen before its deadline.
    #[error("timed out after {waited:?} waiting for {what}{log_hint}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the kit waited.
        waited: Duration,
        /// The end of the server's log, when there is one (empty otherwise).
        log_hint: String,
    },

    /// A four-letter word must be exactly four ASCII lowercase letters (`ruok`, `srvr`, `mntr`, ...).
    #[error("`{0}` is not a four-letter word (four ASCII lowercase letters such as `srvr`)")]
    InvalidFourLetterWord(String),

    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the kit was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a sentence saying what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
