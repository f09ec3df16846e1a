//! What Curator writes into a lock or lease node created without data: its
//! client's default data, the local host's address as text
//! (`InetAddress.getLocalHost().getHostAddress()`, empty when the host name does
//! not resolve). Writing the same makes Java tools show the same thing for Rust
//! holders.

use std::net::{IpAddr, ToSocketAddrs};

use bytes::Bytes;
use tokio::sync::OnceCell;

static LOCAL_ADDRESS: OnceCell<Bytes> = OnceCell::const_new();

/// The local host's address as Curator's default node data; looked up once.
pub(crate) async fn curator_default_data() -> Bytes {
    LOCAL_ADDRESS
        .get_or_init(|| async {
            tokio::task::spawn_blocking(local_host_address)
                .await
                .ok()
                .flatten()
                .map(|a| Bytes::from(a.to_string()))
                .unwrap_or_default()
        })
        .await
        .clone()
}

/// The first address the host's own name resolves to, IPv4 first (Java's order
/// unless `java.net.preferIPv6Addresses` is set).
fn local_host_address() -> Option<IpAddr> {
    let name = host_name()?;
    let addresses: Vec<IpAddr> = (name.as_str(), 0)
        .to_socket_addrs()
        .ok()?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
}

/// The host's name, as the kernel reports it.
fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|f| std::fs::read_to_string(f).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
