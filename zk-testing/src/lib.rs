//! `zk-testing`: real ZooKeeper servers and ensembles on loopback for tests, and the tools to break
//! them on purpose. What curator-test is to Apache Curator.
//!
//! # The map
//!
//! | Item | What it is |
//! |------|------------|
//! | [`TestingServer`] | one standalone server on a free port: `start`, `stop`, `restart`, `kill`, `pause`, `resume` |
//! | [`SharedServer`], [`RunningServer`] | one standalone server for every test of a test binary that leaves it alone (a `static`; started by the first test, gone at exit) |
//! | [`TestingCluster`] | an `n`-server ensemble: the same per server, plus [`leader`](TestingCluster::leader), per-server connect strings, a [`quorum_link`](TestingCluster::quorum_link) proxy between every two servers (with [`start_with_quorum_proxies`](TestingCluster::start_with_quorum_proxies)), and with [`start_partitionable`](TestingCluster::start_partitionable) an [`election_link`](TestingCluster::election_link) too and a [`partition`](TestingCluster::partition) of the servers in two sides, until [`heal_partition`](TestingCluster::heal_partition) |
//! | [`Proxy`], [`ProxyMode`] | a loopback TCP proxy that can [`cut`](Proxy::cut), [`blackhole`](Proxy::blackhole), [`delay`](Proxy::delay) or [`drop_replies`](Proxy::drop_replies) for one client |
//! | [`four_letter_word`], [`server_mode`], [`ServerMode`] | ask a server `ruok`, `srvr`, `mntr`, `cons`, ... |
//! | [`ServerConfig`] | tick time, session limits, init/sync limits, JVM properties and options, extra `zoo.cfg` lines, TLS |
//! | [`ServerTls`], [`TestingCa`], [`IssuedCert`], [`ClientAuth`] | TLS on a `secureClientPort` with PEM stores from a CA made at test time; client certificates for x509 authentication, and wrong ones for negative tests |
//! | [`ServerSasl`] | SASL DIGEST-MD5 users (a JAAS `Server` section), optionally required of every session |
//! | [`TestingKdc`], [`Keytab`] | an MIT Kerberos KDC on loopback with a throwaway realm, principals and their keytabs |
//! | [`Installation`] | where Java and the ZooKeeper jars are (Debian's `/usr/share/java`, or `$ZK_TESTING_JARS`) |
//! | [`Chaos`], [`Fault`], [`apply_fault`], [`ChaosClient`] | a seeded schedule of faults (kill, pause, cut, lost replies, expiry, partitions), applied to an ensemble and healed, every step bounded |
//! | [`Error`] | every failure, typed; a missing install names `scripts/setup` |
//!
//! Inside: `member` runs one server process and decides when it serves, `launch` brings a set of
//! them up (retrying with fresh ports on conflicts), `peer_links` puts a proxy on every
//! server-to-server quorum (and election) link of an ensemble that asks for them, `election_handshake`
//! keeps the election's connections back on those proxies, `partition` blackholes the links
//! between two sides, `process` owns a JVM
//! (pdeathsig, signals, reaping), `ports` leases loopback ports, `server_files` writes `zoo.cfg`
//! and logging configuration (and a TLS server's PEM stores), `jvm` builds the command line,
//! `shared` keeps a server on a thread of its own for the whole test process, `tls` makes the
//! certificates, `sasl` writes the JAAS user table,
//! `kdc` runs a Kerberos KDC.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), zk_testing::Error> {
//! use std::time::Duration;
//! use zk_testing::{four_letter_word, Proxy, TestingCluster};
//!
//! let mut cluster = TestingCluster::start(3).await?;
//! println!("connect to {}", cluster.connect_string());
//! let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
//! assert!(four_letter_word(cluster.client_addr(leader)?, "srvr").await?.contains("Mode: leader"));
//!
//! let proxy = Proxy::start(cluster.client_addr(0)?).await?; // one client goes through this
//! proxy.drop_replies().await?;                               // ...and stops hearing back
//! cluster.pause(leader)?;                                    // the leader's machine sleeps
//! cluster.resume(leader)?;
//! # Ok(()) }
//! ```
//!
//! # What the kit guarantees
//!
//! - Servers are real: Debian's ZooKeeper 3.8 (`ZooKeeperServerMain` or `QuorumPeerMain`),
//!   listening on `127.0.0.1` only, with every four-letter word allowed and the admin server off.
//! - Nothing leaks. Dropping a handle SIGKILLs its JVMs, reaps them and removes their directories;
//!   that also happens while a panicking test unwinds. A [`SharedServer`] goes the same way when the
//!   test process exits. If the test process itself is killed, the kernel kills the JVMs
//!   (`PR_SET_PDEATHSIG`). Servers' logs go to files in their directory,
//!   never to the test's output; set [`KEEP_DIRS_ENV`] (`ZK_TESTING_KEEP_DIRS=1`) to keep the
//!   directories for a post-mortem.
//! - Ports are chosen by the kernel, never handed out twice within a process, and a start that
//!   loses a port to another process is retried with new ones.
//! - Startup waits, with a bounded deadline, until `ruok` answers `imok`, `srvr` shows a serving
//!   mode (and for an ensemble, until one server leads), and `conf` proves the answer came from
//!   the server the kit started.

mod chaos;
mod cluster;
mod config;
mod election_handshake;
mod error;
mod expire;
mod four_letter;
mod install;
mod jvm;
mod kdc;
mod launch;
mod member;
mod partition;
mod peer_links;
mod ports;
mod process;
mod proxy;
mod sasl;
mod server;
mod server_files;
mod shared;
mod tls;

pub use chaos::{AppliedFault, Chaos, ChaosClient, Fault, FaultKind, apply_fault};
pub use cluster::TestingCluster;
pub use config::{
    DEFAULT_INIT_LIMIT, DEFAULT_JUTE_MAX_BUFFER, DEFAULT_MAX_HEAP_MB, DEFAULT_MAX_SESSION_TIMEOUT,
    DEFAULT_STARTUP_TIMEOUT, DEFAULT_SYNC_LIMIT, DEFAULT_TICK_TIME, ServerConfig,
    ServerConfigBuilder,
};
pub use error::{Error, Result};
pub use expire::expire_session;
pub use four_letter::{
    DEFAULT_FOUR_LETTER_TIMEOUT, ServerMode, four_letter_word, four_letter_word_within, server_mode,
};
pub use install::{DEBIAN_JAR_DIR, Installation, JARS_ENV};
pub use kdc::{DEFAULT_KDC_REALM, Keytab, TestingKdc};
pub use member::KEEP_DIRS_ENV;
pub use proxy::{Proxy, ProxyMode};
pub use sasl::ServerSasl;
pub use server::TestingServer;
pub use shared::{RunningServer, SharedServer};
pub use tls::{ClientAuth, IssuedCert, ServerTls, TestingCa};
