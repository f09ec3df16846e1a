//! The machine's own addresses, used as a service instance's default address.
//!
//! Curator's `ServiceInstanceBuilder.getAllLocalIPs` keeps every address that is not a loopback
//! address and is not link-local (unless its interface is point-to-point); the instance gets the
//! first one. This module applies the same rule to the IPv4 addresses of the interfaces the
//! `if-addrs` crate lists (`getifaddrs(3)` on Unix, `GetAdaptersAddresses` on Windows).

use std::net::Ipv4Addr;

use if_addrs::IfAddr;

/// The local IPv4 addresses Curator's default filter accepts, in the order the system lists them:
/// not loopback, and not link-local (`169.254.0.0/16`) unless the interface is point-to-point.
///
/// Returns an empty list when there are none or the interfaces cannot be listed.
pub(crate) fn local_ipv4_addresses() -> Vec<Ipv4Addr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(error) => {
            tracing::debug!(%error, "listing the network interfaces failed");
            return Vec::new();
        }
    };
    interfaces
        .iter()
        .filter_map(|interface| match &interface.addr {
            IfAddr::V4(v4) => Some((v4.ip, interface.is_p2p())),
            IfAddr::V6(_) => None,
        })
        .filter(|&(address, point_to_point)| accepted(address, point_to_point))
        .map(|(address, _)| address)
        .collect()
}

/// The default address for a new instance: the first of [`local_ipv4_addresses`], or
/// `127.0.0.1` when the machine has none.
pub(crate) fn default_instance_address() -> Ipv4Addr {
    local_ipv4_addresses()
        .into_iter()
        .next()
        .unwrap_or(Ipv4Addr::LOCALHOST)
}

/// Curator's default `LocalIpFilter` for one address.
fn accepted(address: Ipv4Addr, point_to_point: bool) -> bool {
    !address.is_loopback() && (point_to_point || !address.is_link_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_drops_loopback_and_link_local_unless_point_to_point() {
        assert!(!accepted(Ipv4Addr::new(127, 0, 0, 1), false));
        assert!(!accepted(Ipv4Addr::new(127, 5, 0, 1), true));
        assert!(!accepted(Ipv4Addr::new(169, 254, 1, 2), false));
        assert!(accepted(Ipv4Addr::new(169, 254, 1, 2), true));
        assert!(accepted(Ipv4Addr::new(10, 0, 0, 7), false));
    }

    #[test]
    fn listed_addresses_pass_the_filter_and_default_is_one_of_them() {
        let listed = local_ipv4_addresses();
        assert!(listed.iter().all(|a| !a.is_loopback()));
        let default = default_instance_address();
        match listed.first() {
            Some(first) => assert_eq!(default, *first),
            None => assert_eq!(default, Ipv4Addr::LOCALHOST),
        }
    }
}
