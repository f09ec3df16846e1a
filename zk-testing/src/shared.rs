//! [`SharedServer`]: one standalone server for all the tests of a test binary that do not
//! break it, instead of one JVM per test.
//!
//! A [`TestingServer`] is tied to the thread that started it (its JVM dies with that thread,
//! `PR_SET_PDEATHSIG`), and a test's thread ends with the test. So the shared server is started,
//! and held, by a thread of its own that lives as long as the test process. When the process
//! exits, an `atexit` handler asks that thread to drop the server (SIGKILL, reap, remove its
//! directory) and waits for it; if the process is killed instead, the kernel kills the JVM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

use tokio::sync::{OnceCell, oneshot};

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::server::TestingServer;
use crate::tls::ServerTls;

/// How long the exit handler waits for a shared server to be killed and its directory removed.
const EXIT_CLEANUP_DEADLINE: Duration = Duration::from_secs(15);

/// A standalone server shared by the tests of one test binary: declare it as a `static`, and
/// every test that calls [`get`](Self::get) talks to the same server, started by the first.
///
/// Only for tests that leave the server alone: the handle has no stop, restart, kill or pause
/// (a test that needs those starts its own [`TestingServer`]). Tests that share a server run in
/// parallel on it, so each keeps to paths of its own.
///
/// ```no_run
/// use zk_testing::{ServerConfig, SharedServer};
///
/// static SERVER: SharedServer = SharedServer::new();
/// static TTL_SERVER: SharedServer = SharedServer::with_config(ttl_config);
///
/// fn ttl_config() -> ServerConfig {
///     ServerConfig::builder().extended_types(true).build().expect("a valid config")
/// }
///
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// let server = SERVER.get().await?; // starts it on the first call
/// println!("connect to {}", server.connect_string());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SharedServer {
    config: fn() -> ServerConfig,
    running: OnceCell<RunningServer>,
}

impl SharedServer {
    /// A shared server with [`ServerConfig::default`].
    pub const fn new() -> Self {
        Self::with_config(ServerConfig::default)
    }

    /// A shared server started with the configuration `config` returns.
    pub const fn with_config(config: fn() -> ServerConfig) -> Self {
        SharedServer {
            config,
            running: OnceCell::const_new(),
        }
    }

    /// The running server; the first call starts it and waits until it serves. A start that
    /// fails is tried again by the next call.
    pub async fn get(&self) -> Result<&RunningServer> {
        self.running
            .get_or_try_init(|| start_kept((self.config)()))
            .await
    }
}

impl Default for SharedServer {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a [`SharedServer`] listens, and what it is: a view, with no way to stop or pause it.
#[derive(Debug, Clone)]
pub struct RunningServer {
    addr: SocketAddr,
    secure_addr: Option<SocketAddr>,
    tls: Option<ServerTls>,
    pid: Option<u32>,
    dir: PathBuf,
    log_file: PathBuf,
}

impl RunningServer {
    /// The address clients connect to, e.g. `127.0.0.1:40123`.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How the server serves TLS, when its configuration asked for it
    /// ([`tls`](crate::ServerConfigBuilder::tls)): its CA, to trust and to mint client
    /// certificates from.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// The TLS client address (`secureClientPort`), when the server serves TLS.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure_addr
    }

    /// The TLS connect string, e.g. `127.0.0.1:40124`, when the server serves TLS.
    pub fn secure_connect_string(&self) -> Option<String> {
        self.secure_addr.map(|addr| addr.to_string())
    }

    /// The pid of the server's JVM.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The server's directory (`zoo.cfg`, logs, and `data/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }
}

/// Starts a server on a keeper thread of its own and returns its view once it serves.
async fn start_kept(config: ServerConfig) -> Result<RunningServer> {
    let (started_tx, started_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("zk-testing-shared-server".into())
        .spawn(move || keep(config, started_tx))
        .map_err(|e| Error::io("starting the shared server's thread", e))?;
    started_rx.await.map_err(|_| {
        Error::io(
            "starting the shared server",
            std::io::Error::other("its thread ended before the server served"),
        )
    })?
}

/// The keeper thread: starts the server, reports it, and holds it until the process exits.
fn keep(config: ServerConfig, started: oneshot::Sender<Result<RunningServer>>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = started.send(Err(Error::io("building the shared server's runtime", e)));
            return;
        }
    };
    let server = match runtime.block_on(TestingServer::start_with(config)) {
        Ok(server) => server,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let view = RunningServer {
        addr: server.addr(),
        secure_addr: server.secure_addr(),
        tls: server.tls().cloned(),
        pid: server.pid(),
        dir: server.dir().to_path_buf(),
        log_file: server.log_file(),
    };
    let stop = stop_at_exit();
    if started.send(Ok(view)).is_err() {
        // Nobody waits for this server any more (the caller was cancelled): let it go now.
        return;
    }
    // Until the exit handler asks; then the server (and its directory) goes before the runtime.
    if let Ok(done) = stop.recv() {
        drop(server);
        drop(runtime);
        let _ = done.send(());
    }
}

/// The keepers' stop channels, for the exit handler.
static KEEPERS: Mutex<Vec<Sender<SyncSender<()>>>> = Mutex::new(Vec::new());

/// Registers a keeper with the exit handler (installed once); returns its stop channel.
fn stop_at_exit() -> Receiver<SyncSender<()>> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: `stop_keepers` is an `extern "C" fn()` that never unwinds.
        if unsafe { libc::atexit(stop_keepers) } != 0 {
            tracing::warn!("cannot register the shared servers' exit handler; the kernel will kill them, their directories stay");
        }
    });
    let (tx, rx) = mpsc::channel();
    KEEPERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(tx);
    rx
}

/// At process exit: has every keeper drop its server, waiting a bounded time for each.
extern "C" fn stop_keepers() {
    let keepers = std::mem::take(&mut *KEEPERS.lock().unwrap_or_else(PoisonError::into_inner));
    for keeper in keepers {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        if keeper.send(done_tx).is_ok() {
            let _ = done_rx.recv_timeout(EXIT_CLEANUP_DEADLINE);
        }
    }
}
