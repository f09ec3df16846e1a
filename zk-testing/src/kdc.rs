//! A Kerberos KDC for tests: MIT's `krb5kdc` (Debian's `krb5-kdc`) on a loopback port, with a
//! throwaway realm whose database, stash, configuration and keytabs all live in a temporary
//! directory of its own. Nothing of the machine's Kerberos setup is read or changed: every
//! tool runs with `KRB5_CONFIG` and `KRB5_KDC_PROFILE` pointing into that directory, and so
//! must every client (see [`TestingKdc::krb5_conf`]).
//!
//! The KDC listens on TCP (and UDP) on one port of `127.0.0.1`; its `krb5.conf` tells
//! clients to use TCP (`udp_preference_limit = 1`), so the kit's port lease covers it.
//! Dropping the handle kills the KDC and removes the directory.

use std::ffi::OsString;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::ports::{PortLease, lease_free_ports};
use crate::process::JavaProcess;

/// The realm [`TestingKdc::start`] makes (`.invalid` can never be a real one, RFC 2606).
pub const DEFAULT_KDC_REALM: &str = "ZK-TESTING.INVALID";
/// How long the KDC may take to accept connections.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);

/// A running KDC with a realm made for the test. See the module's documentation above.
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// use zk_testing::TestingKdc;
///
/// let kdc = TestingKdc::start().await?;
/// let server = kdc.add_principal("zookeeper/localhost").await?;
/// let alice = kdc.add_principal("alice").await?;
/// assert_eq!(alice.principal(), "alice@ZK-TESTING.INVALID");
/// // Clients: KRB5_CONFIG=kdc.krb5_conf(), then kinit -k -t alice.path() alice.principal()
/// # let _ = server; Ok(()) }
/// ```
pub struct TestingKdc {
    realm: String,
    addr: SocketAddr,
    process: JavaProcess,
    _lease: PortLease,
    // Last: removed after the KDC is killed.
    dir: TempDir,
}

impl fmt::Debug for TestingKdc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestingKdc")
            .field("realm", &self.realm)
            .field("addr", &self.addr)
            .field("pid", &self.process.pid())
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// A principal's keys in a keytab file of the KDC's directory. Its `Debug` output names the
/// principal and the file; the keys are never read into memory by the kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keytab {
    principal: String,
    path: PathBuf,
}

impl Keytab {
    /// The principal, with its realm: `alice@ZK-TESTING.INVALID`.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The keytab file (it lives as long as the [`TestingKdc`]).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TestingKdc {
    /// Starts a KDC for [`DEFAULT_KDC_REALM`].
    pub async fn start() -> Result<Self> {
        Self::start_with_realm(DEFAULT_KDC_REALM).await
    }

    /// Starts a KDC for `realm` (upper-case letters, digits, `.` and `-`).
    pub async fn start_with_realm(realm: &str) -> Result<Self> {
        let realm_ok = !realm.is_empty()
            && realm
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !realm_ok {
            return Err(Error::InvalidConfig(format!(
                "realm {realm:?} may hold only upper-case letters, digits, '.' and '-'"
            )));
        }
        let kdc = tool("krb5kdc")?;
        let kdb5_util = tool("kdb5_util")?;
        let dir = tempfile::Builder::new()
            .prefix("zk-testing-kdc-")
            .tempdir()
            .map_err(|e| Error::io("creating the KDC's directory", e))?;
        let lease = lease_free_ports(1)?
            .pop()
            .ok_or_else(|| Error::io("leasing a port", std::io::Error::other("none leased")))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, lease.port()));
        let root = dir.path();
        write(&root.join("krb5.conf"), &krb5_conf(realm, addr))?;
        write(&root.join("kdc.conf"), &kdc_conf(realm, addr, root))?;
        write(&root.join("kadm5.acl"), "")?;
        // A master password nobody needs to know: the stash file (-s) holds the key.
        run(
            &kdb5_util,
            &["create", "-s", "-r", realm, "-P", "zk-testing-master"],
            root,
        )
        .await?;
        let process = JavaProcess::spawn_with_env(
            &kdc,
            &["-n".into(), "-r".into(), realm.into()],
            &env(root),
            root,
            &root.join("kdc.console.log"),
        )?;
        let mut kdc = TestingKdc {
            realm: realm.to_owned(),
            addr,
            process,
            _lease: lease,
            dir,
        };
        kdc.wait_serving().await?;
        tracing::debug!(realm, %addr, "KDC serving");
        Ok(kdc)
    }

    /// Waits until the KDC accepts TCP connections, or fails if it exits first.
    async fn wait_serving(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.try_exit_status() {
                return Err(Error::ExitedDuringStartup {
                    server: format!("the KDC ({})", self.addr),
                    status,
                    log_tail: self.log_tail(),
                });
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > STARTUP_DEADLINE {
                return Err(Error::Timeout {
                    what: format!("the KDC on {}", self.addr),
                    waited: STARTUP_DEADLINE,
                    log_hint: format!(". Last log lines:\n{}", self.log_tail()),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_tail(&self) -> String {
        let mut tail = String::new();
        for file in ["kdc.log", "kdc.console.log"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.path().join(file)) {
                let lines: Vec<&str> = text.lines().collect();
                for line in &lines[lines.len().saturating_sub(10)..] {
                    tail.push_str(line);
                    tail.push('\n');
                }
            }
        }
        tail
    }

    /// The KDC process's pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Where the KDC listens (TCP and UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `krb5.conf` of the realm, for clients: `KRB5_CONFIG` for MIT's tools and
    /// libraries, `-Djava.security.krb5.conf` for a JVM. Its default realm is this one, and
    /// it turns off DNS lookups and reverse DNS.
    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }

    /// The KDC's directory (database, configuration, log `kdc.log`, keytabs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds the principal `name` (e.g. `alice`, or `zookeeper/localhost` for a service) to
    /// the realm with a random key, and writes that key to a keytab of its own.
    pub async fn add_principal(&self, name: &str) -> Result<Keytab> {
        let name_ok = !name.is_empty()
            && !name.starts_with('/')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
        if !name_ok {
            return Err(Error::InvalidConfig(format!(
                "principal name {name:?} may hold only ASCII letters, digits and ._-/"
            )));
        }
        let kadmin = tool("kadmin.local")?;
        let principal = format!("{name}@{}", self.realm);
        let path = self
            .dir
            .path()
            .join(format!("{}.keytab", name.replace('/', "_")));
        let root = self.dir.path();
        run(
            &kadmin,
            &[
                "-r",
                &self.realm,
                "-q",
                &format!("addprinc -randkey {principal}"),
            ],
            root,
        )
        .await?;
        let keytab = path.display().to_string();
        run(
            &kadmin,
            &[
                "-r",
                &self.realm,
                "-q",
                &format!("ktadd -k {keytab} {principal}"),
            ],
            root,
        )
        .await?;
        // kadmin.local reports some failures on stderr with a zero exit status.
        if !path.exists() {
            return Err(Error::io(
                format!("adding {principal}"),
                std::io::Error::other("kadmin.local wrote no keytab"),
            ));
        }
        Ok(Keytab { principal, path })
    }
}

/// The variables every Kerberos tool of the realm runs with.
fn env(root: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("KRB5_CONFIG", root.join("krb5.conf").into_os_string()),
        ("KRB5_KDC_PROFILE", root.join("kdc.conf").into_os_string()),
    ]
}

/// Finds one of MIT Kerberos' programs on `PATH` or in `/usr/sbin` (not on a user's `PATH`).
fn tool(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::io(
                format!(
                    "finding `{name}` of MIT Kerberos (run `scripts/setup`: it installs Debian's \
                     krb5-kdc, krb5-admin-server and krb5-user)"
                ),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
}

/// Runs one of the realm's tools to completion; a failure carries its error output.
async fn run(program: &Path, args: &[&str], root: &Path) -> Result<()> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .envs(env(root))
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::io(format!("running {}", program.display()), e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::io(
        format!("running {} {}", program.display(), args.join(" ")),
        std::io::Error::other(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    ))
}

fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// The clients' view of the realm.
fn krb5_conf(realm: &str, addr: SocketAddr) -> String {
    format!(
        "[libdefaults]\n\
         \x20 default_realm = {realm}\n\
         \x20 dns_lookup_kdc = false\n\
         \x20 dns_lookup_realm = false\n\
         \x20 rdns = false\n\
         \x20 dns_canonicalize_hostname = false\n\
         \x20 udp_preference_limit = 1\n\
         [realms]\n\
         \x20 {realm} = {{\n\
         \x20   kdc = {addr}\n\
         \x20 }}\n"
    )
}

/// The KDC's own configuration: where its database is, where it listens, where it logs.
fn kdc_conf(realm: &str, addr: SocketAddr, root: &Path) -> String {
    let root = root.display();
    format!(
        "[kdcdefaults]\n\
         \x20 kdc_listen = {addr}\n\
         \x20 kdc_tcp_listen = {addr}\n\
         [realms]\n\
         \x20 {realm} = {{\n\
         \x20   database_name = {root}/principal\n\
         \x20   key_stash_file = {root}/stash\n\
         \x20   acl_file = {root}/kadm5.acl\n\
         \x20   max_life = 1h\n\
         \x20 }}\n\
         [logging]\n\
         \x20 kdc = FILE:{root}/kdc.log\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_keeps_everything_on_loopback_and_in_the_directory() {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 8888));
        let client = krb5_conf("R.INVALID", addr);
        for expected in [
            "default_realm = R.INVALID\n",
            "kdc = 127.0.0.1:8888\n",
            "dns_lookup_kdc = false\n",
            "udp_preference_limit = 1\n",
        ] {
            assert!(client.contains(expected), "{expected:?} in {client}");
        }
        let kdc = kdc_conf("R.INVALID", addr, Path::new("/d"));
        for expected in [
            "kdc_tcp_listen = 127.0.0.1:8888\n",
            "database_name = /d/principal\n",
            "kdc = FILE:/d/kdc.log\n",
        ] {
            assert!(kdc.contains(expected), "{expected:?} in {kdc}");
        }
    }
}
