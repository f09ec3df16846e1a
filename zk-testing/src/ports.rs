//! Loopback ports for servers and proxies.
//!
//! The kernel hands out a free port when we bind `127.0.0.1:0`; we close that socket and give the
//! number to ZooKeeper. Two things can still go wrong, and both are handled:
//! - another test in this process could be handed the same number before its owner binds it:
//!   a process-wide table of leased ports prevents that;
//! - another process could take the port in the gap: the server then fails to bind, and the
//!   launcher retries with fresh ports.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// How many kernel-chosen ports may turn out to be leased already before we give up.
const MAX_PICKS_PER_PORT: usize = 64;

static LEASED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

fn leased() -> MutexGuard<'static, BTreeSet<u16>> {
    // The set stays consistent even if a holder panicked: every operation is a single insert
    // or remove.
    LEASED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A port this process has promised to one server or proxy. Released when dropped.
#[derive(Debug)]
pub(crate) struct PortLease {
    port: u16,
}

impl PortLease {
    /// Leases `port` if no one else in this process holds it.
    pub(crate) fn try_lease(port: u16) -> Option<PortLease> {
        // `then`, not `then_some`: a lease built for nothing would release the port on drop.
        let inserted = leased().insert(port);
        inserted.then(|| PortLease { port })
    }

    /// The leased port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        leased().remove(&self.port);
    }
}

/// Leases `count` distinct free loopback ports.
pub(crate) fn lease_free_ports(count: usize) -> Result<Vec<PortLease>> {
    // Keep every probe socket open until all ports are chosen so the kernel cannot hand the
    // same number out twice.
    let mut probes = Vec::with_capacity(count);
    let mut leases = Vec::with_capacity(count);
    while leases.len() < count {
        let mut lease = None;
        for _ in 0..MAX_PICKS_PER_PORT {
            let probe = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .map_err(|e| Error::io("binding 127.0.0.1:0 to find a free port", e))?;
            let port = probe
                .local_addr()
                .map_err(|e| Error::io("reading the address of a probe socket", e))?
                .port();
            probes.push(probe);
            if let Some(l) = PortLease::try_lease(port) {
                lease = Some(l);
                break;
            }
        }
        match lease {
            Some(l) => leases.push(l),
            None => {
                return Err(Error::io(
                    "finding a free loopback port",
                    std::io::Error::other(format!(
                        "{MAX_PICKS_PER_PORT} ports in a row were already leased"
                    )),
                ));
            }
        }
    }
    Ok(leases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leased_ports_are_distinct_and_released_on_drop() {
        let leases = lease_free_ports(6).expect("free ports");
        let ports: BTreeSet<u16> = leases.iter().map(PortLease::port).collect();
        assert_eq!(ports.len(), 6);
        let first = leases[0].port();
        assert!(
            PortLease::try_lease(first).is_none(),
            "a leased port is held"
        );
        drop(leases);
        let again = PortLease::try_lease(first).expect("released on drop");
        assert_eq!(again.port(), first);
    }
}
