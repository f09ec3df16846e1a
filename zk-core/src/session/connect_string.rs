//! Connect strings: `host:port[,host:port...][/chroot]`.
//!
//! Hosts may be names, IPv4 addresses or bracketed IPv6 addresses (`[::1]:2181`);
//! the port defaults to 2181. Names are kept unresolved: the session resolves
//! each one again on every connection attempt, so a moved server is found.

use crate::proto::path::{self, PathError};

/// ZooKeeper's default client port.
pub const DEFAULT_PORT: u16 = 2181;

/// One server address as written in the connect string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    /// A name or an IP literal (IPv6 without brackets).
    pub host: String,
    /// The client port.
    pub port: u16,
}

impl std::fmt::Display for HostAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A parsed connect string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// The servers, in the order written.
    pub hosts: Vec<HostAddr>,
    /// The chroot every path is relative to, if any (never `/` itself).
    pub chroot: Option<String>,
}

/// Why a connect string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectStringError {
    /// No host was given.
    #[error("connect string has no hosts")]
    NoHosts,
    /// A host entry is empty or malformed.
    #[error("malformed host {0:?} in connect string")]
    BadHost(String),
    /// A port is not a number in 1..=65535.
    #[error("bad port in host {0:?}")]
    BadPort(String),
    /// The chroot is not a valid ZooKeeper path.
    #[error("invalid chroot: {0}")]
    BadChroot(#[from] PathError),
}

impl std::str::FromStr for ConnectString {
    type Err = ConnectStringError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (host_part, chroot) = match s.find('/') {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let chroot = match chroot {
            None | Some("/") => None,
            Some(c) => {
                path::validate_path(c, false)?;
                Some(c.to_string())
            }
        };
        let mut hosts = Vec::new();
        for entry in host_part.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            hosts.push(parse_host(entry)?);
        }
        if hosts.is_empty() {
            return Err(ConnectStringError::NoHosts);
        }
        Ok(ConnectString { hosts, chroot })
    }
}

fn parse_host(entry: &str) -> Result<HostAddr, ConnectStringError> {
    let bad = || ConnectStringError::BadHost(entry.to_string());
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(bad)?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(bad)?),
        };
        (host, port)
    } else {
        match entry.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return Err(bad()),
            Some((h, p)) => (h, Some(p)),
            None => (entry, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
        return Err(bad());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(ConnectStringError::BadPort(entry.to_string())),
        },
    };
    Ok(HostAddr {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ConnectString, ConnectStringError> {
        s.parse()
    }

    fn host(h: &str, p: u16) -> HostAddr {
        HostAddr {
            host: h.into(),
            port: p,
        }
    }

    #[test]
    fn hosts_ports_and_chroot() {
        let cs = parse("127.0.0.1:2181,localhost,[::1]:2182/app/a").unwrap();
        assert_eq!(
            cs.hosts,
            vec![
                host("127.0.0.1", 2181),
                host("localhost", 2181),
                host("::1", 2182)
            ]
        );
        assert_eq!(cs.chroot.as_deref(), Some("/app/a"));
        assert_eq!(cs.hosts[2].to_string(), "[::1]:2182");
    }

    #[test]
    fn root_chroot_is_no_chroot() {
        assert_eq!(parse("h:1/").unwrap().chroot, None);
    }

    #[test]
    fn malformed_strings_are_typed_errors() {
        assert_eq!(parse(""), Err(ConnectStringError::NoHosts));
        assert_eq!(parse(" , "), Err(ConnectStringError::NoHosts));
        assert!(matches!(parse("h:0"), Err(ConnectStringError::BadPort(_))));
        assert!(matches!(
            parse("h:99999"),
            Err(ConnectStringError::BadPort(_))
        ));
        assert!(matches!(
            parse("h:abc"),
            Err(ConnectStringError::BadPort(_))
        ));
        assert!(matches!(
            parse("::1:2181"),
            Err(ConnectStringError::BadHost(_))
        ));
        assert!(matches!(parse("[::1"), Err(ConnectStringError::BadHost(_))));
        assert!(matches!(
            parse(":2181"),
            Err(ConnectStringError::BadHost(_))
        ));
        assert!(matches!(
            parse("h:1/a/"),
            Err(ConnectStringError::BadChroot(_))
        ));
        assert!(matches!(
            parse("h:1/a//b"),
            Err(ConnectStringError::BadChroot(_))
        ));
    }
}
