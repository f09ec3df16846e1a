//! [`Proxy`]: a loopback TCP proxy in front of a server (or a list of servers), so a test can
//! cut one client off, stall it, slow it down, or lose its replies while other clients stay
//! connected.

mod connection;
mod delay;
mod mode;
mod opening;

pub use mode::ProxyMode;
pub(crate) use opening::{Opening, OpeningRewrite};

/// What a proxy between two servers of an ensemble does beyond forwarding.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerOptions {
    /// Rewrites each connection's opening message before the server reads it.
    pub(crate) opening: Option<OpeningRewrite>,
    /// How long a new connection waits for its server to listen when the server refuses it.
    /// A quorum port listens only while its server leads, and ZooKeeper retries a refused
    /// connection to a new leader; but a connection the proxy accepted and then closed looks
    /// like a leader that hung up, and the follower gives that leader up (which then waits a
    /// whole `initLimit` for followers). Waiting keeps the refusal out of the follower's view.
    pub(crate) wait_for_upstream: Option<std::time::Duration>,
}

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::error::{Error, Result};
use crate::ports::PortLease;

/// How many times binding a fresh listener may land on a port this process already leased.
const MAX_BIND_ATTEMPTS: usize = 64;
/// Listen backlog of the proxy's socket.
const BACKLOG: u32 = 1024;

/// A TCP proxy on `127.0.0.1` that forwards to one server or, with
/// [`start_list`](Proxy::start_list), to the first of several that accepts (so a client behind
/// the proxy can fail over when one server dies).
///
/// Every mode change takes effect before its method returns:
/// - [`cut`](Proxy::cut): closes every connection and refuses new ones (nothing listens);
/// - [`blackhole`](Proxy::blackhole): accepts connections and forwards nothing, in either
///   direction, closing nothing: peers stall with no error;
/// - [`drop_replies`](Proxy::drop_replies): requests reach the server, replies are swallowed
///   (the lost-reply case behind an ambiguous `ConnectionLoss`);
/// - [`delay`](Proxy::delay): forwards both ways, every chunk a fixed time after it was read,
///   in order (a slow link: a round trip takes at least twice the delay);
/// - [`heal`](Proxy::heal): forwards again, for new connections and for existing ones where the
///   stream is still whole (after a blackhole, held bytes flow on; after a delay, what is queued
///   is written out at once; after dropped replies the client sees a stream with a gap).
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// use zk_testing::{Proxy, TestingServer};
///
/// let server = TestingServer::start().await?;
/// let proxy = Proxy::start(server.addr()).await?;
/// let connect_string = proxy.connect_string();  // give this to the client under test
/// proxy.cut().await;                            // that client is disconnected; others are not
/// proxy.heal().await?;
/// # Ok(()) }
/// ```
///
/// Dropping the proxy closes its listener and every connection.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    upstreams: Arc<[SocketAddr]>,
    mode: watch::Sender<ProxyMode>,
    /// Serializes mode changes and owns the accept loop while one runs.
    control: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<JoinSet<()>>>,
    next_upstream: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    /// What a proxy between two servers does beyond forwarding (nothing for other proxies).
    peer: Arc<PeerOptions>,
    _lease: PortLease,
}

impl Proxy {
    /// Starts a proxy in front of one server, forwarding.
    pub async fn start(upstream: SocketAddr) -> Result<Proxy> {
        Self::start_list([upstream]).await
    }

    /// Starts a proxy in front of several servers, forwarding. Each new connection goes to the
    /// first server that accepts it, trying them in turn from a rotating starting point.
    pub async fn start_list(upstreams: impl IntoIterator<Item = SocketAddr>) -> Result<Proxy> {
        Self::start_with(upstreams.into_iter().collect(), PeerOptions::default()).await
    }

    /// Starts a proxy between two servers of an ensemble, in front of `upstream`, doing what
    /// `options` ask beyond forwarding.
    pub(crate) async fn start_peer(upstream: SocketAddr, options: PeerOptions) -> Result<Proxy> {
        Self::start_with(Arc::new([upstream]), options).await
    }

    async fn start_with(upstreams: Arc<[SocketAddr]>, options: PeerOptions) -> Result<Proxy> {
        if upstreams.is_empty() {
            return Err(Error::InvalidConfig(
                "a proxy needs at least one upstream address".into(),
            ));
        }
        let (listener, lease) = bind_fresh()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, lease.port()));
        let (mode, _) = watch::channel(ProxyMode::Forward);
        let proxy = Proxy {
            addr,
            upstreams,
            mode,
            control: tokio::sync::Mutex::new(None),
            connections: Arc::new(Mutex::new(JoinSet::new())),
            next_upstream: Arc::new(AtomicUsize::new(0)),
            dropped: Arc::new(AtomicU64::new(0)),
            peer: Arc::new(options),
            _lease: lease,
        };
        *proxy.control.lock().await = Some(proxy.spawn_acceptor(listener));
        tracing::debug!(addr = %proxy.addr, upstreams = ?proxy.upstreams, "proxy started");
        Ok(proxy)
    }

    /// The proxy's own address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's address as a connect string, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// The addresses the proxy forwards to.
    pub fn upstreams(&self) -> &[SocketAddr] {
        &self.upstreams
    }

    /// The current mode.
    pub fn mode(&self) -> ProxyMode {
        *self.mode.borrow()
    }

    /// How many bytes of server replies the proxy has thrown away (in
    /// [`drop_replies`](Proxy::drop_replies) mode) since it started. A test can wait on this to
    /// know that a reply really was lost.
    pub fn dropped_reply_bytes(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Closes every connection and stops listening: new connections are refused.
    pub async fn cut(&self) {
        let mut acceptor = self.control.lock().await;
        self.mode.send_replace(ProxyMode::Cut);
        if let Some(handle) = acceptor.take() {
            handle.abort();
            // Returns once the task is gone, and the listener with it.
            let _ = handle.await;
        }
        let mut open = std::mem::take(&mut *lock(&self.connections));
        open.shutdown().await;
        tracing::debug!(addr = %self.addr, "proxy cut");
    }

    /// Accepts connections but forwards nothing and closes nothing: both sides stall.
    /// Fails only if the proxy was cut and its port has been taken since.
    pub async fn blackhole(&self) -> Result<()> {
        self.set_open_mode(ProxyMode::Blackhole).await
    }

    /// Forwards requests to the server and throws its replies away.
    /// Fails only if the proxy was cut and its port has been taken since.
    pub async fn drop_replies(&self) -> Result<()> {
        self.set_open_mode(ProxyMode::DropReplies).await
    }

    /// Forwards both ways, each chunk `delay` after the proxy read it, in order
    /// ([`ProxyMode::Delay`]). Connections stay open and new ones are accepted: the peers see a
    /// slow link, not a broken one, and a request's answer comes back no sooner than
    /// `2 * delay`. Calling it again changes the delay of what is already queued too;
    /// [`heal`](Proxy::heal) writes the queue out at once and stops delaying.
    /// Fails only if the proxy was cut and its port has been taken since.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), zk_testing::Error> {
    /// use std::time::Duration;
    /// use zk_testing::{Proxy, TestingServer};
    ///
    /// let server = TestingServer::start().await?;
    /// let proxy = Proxy::start(server.addr()).await?;
    /// proxy.delay(Duration::from_secs(1)).await?; // each answer comes 2 s after its request
    /// proxy.heal().await?;                        // anything queued goes now
    /// # Ok(()) }
    /// ```
    pub async fn delay(&self, delay: Duration) -> Result<()> {
        self.set_open_mode(ProxyMode::Delay(delay)).await
    }

    /// Forwards both ways again (listening again after a cut).
    /// Fails only if the proxy was cut and its port has been taken since.
    pub async fn heal(&self) -> Result<()> {
        self.set_open_mode(ProxyMode::Forward).await
    }

    async fn set_open_mode(&self, mode: ProxyMode) -> Result<()> {
        let mut acceptor = self.control.lock().await;
        if acceptor.is_none() {
            let listener = bind_at(self.addr)?;
            *acceptor = Some(self.spawn_acceptor(listener));
        }
        self.mode.send_replace(mode);
        tracing::debug!(addr = %self.addr, %mode, "proxy mode");
        Ok(())
    }

    fn spawn_acceptor(&self, listener: TcpListener) -> JoinHandle<()> {
        let connections = Arc::clone(&self.connections);
        let upstreams = Arc::clone(&self.upstreams);
        let next_upstream = Arc::clone(&self.next_upstream);
        let dropped = Arc::clone(&self.dropped);
        let peer = Arc::clone(&self.peer);
        let mode = self.mode.subscribe();
        tokio::spawn(async move {
            loop {
                let client = match listener.accept().await {
                    Ok((client, _)) => client,
                    Err(e) => {
                        // Out of file descriptors or similar: back off instead of spinning.
                        tracing::warn!(error = %e, "proxy: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let first = next_upstream.fetch_add(1, Ordering::Relaxed);
                let mut open = lock(&connections);
                while open.try_join_next().is_some() {}
                open.spawn(connection::serve(
                    client,
                    Arc::clone(&upstreams),
                    first,
                    mode.clone(),
                    Arc::clone(&dropped),
                    Arc::clone(&peer),
                ));
            }
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(handle) = self.control.get_mut().take() {
            handle.abort();
        }
        lock(&self.connections).abort_all();
    }
}

fn lock(connections: &Mutex<JoinSet<()>>) -> MutexGuard<'_, JoinSet<()>> {
    // A JoinSet stays usable after a panic elsewhere: every use is one call on it.
    connections
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Binds a listener on a fresh loopback port that no one else in this process has leased.
fn bind_fresh() -> Result<(TcpListener, PortLease)> {
    let mut held = Vec::new();
    for _ in 0..MAX_BIND_ATTEMPTS {
        let listener = bind_at(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("reading the proxy's address", e))?
            .port();
        if let Some(lease) = PortLease::try_lease(port) {
            return Ok((listener, lease));
        }
        // Keep it bound so the kernel offers another port next time.
        held.push(listener);
    }
    Err(Error::io(
        "binding the proxy",
        std::io::Error::other(format!(
            "{MAX_BIND_ATTEMPTS} ports in a row were already leased"
        )),
    ))
}

fn bind_at(addr: SocketAddr) -> Result<TcpListener> {
    let bind = || -> std::io::Result<TcpListener> {
        let socket = TcpSocket::new_v4()?;
        // Rebinding after a cut must not wait for TIME_WAIT connections to expire.
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(BACKLOG)
    };
    bind().map_err(|e| Error::io(format!("binding the proxy listener on {addr}"), e))
}
