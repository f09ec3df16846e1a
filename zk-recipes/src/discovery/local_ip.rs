//! The machine's own addresses, used as a service instance's default address.
//!
//! Curator's `ServiceInstanceBuilder.getAllLocalIPs` keeps every address that is not a loopback
//! address and is not link-local (unless its interface is point-to-point); the instance gets the
//! first one. This module applies the same rule to the IPv4 addresses `getifaddrs(3)` lists.

use std::net::Ipv4Addr;

/// The local IPv4 addresses Curator's default filter accepts, in the order the system lists them:
/// not loopback, and not link-local (`169.254.0.0/16`) unless the interface is point-to-point.
///
/// Returns an empty list when there are none or the interfaces cannot be listed.
pub fn local_ipv4_addresses() -> Vec<Ipv4Addr> {
    let mut found = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `head` and returns 0, or returns -1 and leaves
    // nothing to free.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "getifaddrs failed");
        return found;
    }
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a non-null node of the list getifaddrs returned, which stays valid
        // until the freeifaddrs call below.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        if entry.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr is non-null and points to a sockaddr whose family field is readable.
        let family = i32::from(unsafe { (*entry.ifa_addr).sa_family });
        if family != libc::AF_INET {
            continue;
        }
        // SAFETY: for AF_INET the address is a sockaddr_in.
        let sin = unsafe { &*entry.ifa_addr.cast::<libc::sockaddr_in>() };
        let address = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
        let point_to_point = entry.ifa_flags & (libc::IFF_POINTOPOINT as u32) != 0;
        if accepted(address, point_to_point) {
            found.push(address);
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    found
}

/// The default address for a new instance: the first of [`local_ipv4_addresses`], or
/// `127.0.0.1` when the machine has none.
pub fn default_instance_address() -> Ipv4Addr {
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
