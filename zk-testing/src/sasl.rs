//! SASL for test servers: a user table for DIGEST-MD5, written as the JAAS `Server` section
//! that ZooKeeper's `DigestLoginModule` reads, and the `zoo.cfg` lines that make the server
//! accept SASL identities (and, if asked, refuse clients without one).
//!
//! What a server with a [`ServerSasl`] runs with:
//! - `jaas.conf` in its directory, a `Server` section with one `user_<name>="<password>"`
//!   option per user, and `-Djava.security.auth.login.config` pointing at it;
//! - `authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider`, so
//!   that ACLs on `sasl:<name>` are checked;
//! - with [`ServerSasl::required`], `enforce.auth.enabled=true` and
//!   `enforce.auth.schemes=sasl` (ZooKeeper 3.7+): a session that has not logged in with SASL
//!   is closed at its first request.
//!
//! A wrong password is refused either way: ZooKeeper answers the failed SASL step with
//! `AUTHFAILED` and closes the connection unless `zookeeper.allowSaslFailedClients` is set,
//! which the kit never sets. The server's SASL service is `zookeeper` and its DIGEST-MD5
//! realm `zk-sasl-md5`, as in every ZooKeeper server.
//!
//! [`ServerSasl::kerberos`] makes a GSSAPI server instead: its `Server` section is the JDK's
//! `Krb5LoginModule` with the service's keytab from a [`TestingKdc`](crate::TestingKdc), and
//! the JVM gets `-Djava.security.krb5.conf` pointing at the KDC's realm.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The provider that turns a SASL login into a `sasl` identity.
pub(crate) const SASL_PROVIDER: &str =
    "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
/// The login module whose `user_` options are the DIGEST-MD5 user table.
const DIGEST_LOGIN_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";
/// The JDK's Kerberos login module: the server logs in to the KDC with its keytab.
const KERBEROS_LOGIN_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";

/// The SASL users of a test server (DIGEST-MD5), for
/// [`ServerConfigBuilder::sasl`](crate::ServerConfigBuilder::sasl). Its `Debug` output names
/// the users and hides their passwords.
///
/// ```
/// use zk_testing::{ServerConfig, ServerSasl};
///
/// let sasl = ServerSasl::digest_md5()
///     .user("alice", "alice-secret")
///     .user("bob", "bob-secret")
///     .required(true);
/// assert!(!format!("{sasl:?}").contains("alice-secret"));
/// let config = ServerConfig::builder().sasl(sasl).build()?;
/// assert_eq!(config.sasl().map(|s| s.user_names().count()), Some(2));
/// # Ok::<(), zk_testing::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ServerSasl {
    users: Vec<(String, String)>,
    kerberos: Option<ServerKerberos>,
    required: bool,
}

/// A server's Kerberos identity: its principal, keytab, and the realm's `krb5.conf`.
#[derive(Clone, Debug)]
struct ServerKerberos {
    principal: String,
    keytab: PathBuf,
    krb5_conf: PathBuf,
}

impl fmt::Debug for ServerSasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSasl")
            .field("users", &self.user_names().collect::<Vec<_>>())
            .field("passwords", &"<redacted>")
            .field("kerberos", &self.kerberos)
            .field("required", &self.required)
            .finish()
    }
}

impl ServerSasl {
    /// A DIGEST-MD5 user table with no users yet.
    pub fn digest_md5() -> Self {
        ServerSasl::default()
    }

    /// GSSAPI (Kerberos) instead of DIGEST-MD5: the server logs in to `kdc` as `service`'s
    /// principal with its keytab (`zookeeper/localhost` for clients that reach the server as
    /// `localhost`), and accepts clients with tickets of the KDC's realm; a client's identity
    /// is `sasl:<principal>`. The KDC must outlive the servers. No DIGEST-MD5 users can be
    /// added then: ZooKeeper serves one mechanism, GSSAPI when it has a Kerberos login.
    pub fn kerberos(kdc: &crate::TestingKdc, service: &crate::Keytab) -> Self {
        ServerSasl {
            kerberos: Some(ServerKerberos {
                principal: service.principal().to_owned(),
                keytab: service.path().to_owned(),
                krb5_conf: kdc.krb5_conf(),
            }),
            ..ServerSasl::default()
        }
    }

    /// The realm's `krb5.conf`, for the JVM, when the server logs in with Kerberos.
    pub(crate) fn krb5_conf(&self) -> Option<&Path> {
        self.kerberos.as_ref().map(|k| k.krb5_conf.as_path())
    }

    /// Adds a user. A name may hold ASCII letters, digits and `._-@`; a password any
    /// character but `"`, `\` and line breaks (the JAAS file quotes it as it is). A name
    /// given twice keeps its last password.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        let name = name.into();
        self.users.retain(|(n, _)| *n != name);
        self.users.push((name, password.into()));
        self
    }

    /// Refuses sessions that have not logged in with SASL (`enforce.auth.enabled=true`,
    /// `enforce.auth.schemes=sasl`): their first request is answered with
    /// `SESSIONCLOSEDREQUIRESASLAUTH` and the connection is closed. Default: off, so plain
    /// clients (and the kit's four-letter words, which need no session) still get in.
    pub fn required(mut self, yes: bool) -> Self {
        self.required = yes;
        self
    }

    /// Whether sessions without a SASL login are refused.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The users' names, in the order they were added.
    pub fn user_names(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(|(name, _)| name.as_str())
    }

    /// Checks names and passwords (see [`user`](Self::user)).
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(kerberos) = &self.kerberos {
            if !self.users.is_empty() {
                return Err(Error::InvalidConfig(
                    "a Kerberos server serves GSSAPI only: no DIGEST-MD5 users beside it".into(),
                ));
            }
            for value in [
                kerberos.principal.as_str(),
                &kerberos.keytab.display().to_string(),
            ] {
                if value.contains(['"', '\\', '\n', '\r', '\0']) {
                    return Err(Error::InvalidConfig(format!(
                        "{value:?} cannot be quoted in a JAAS file"
                    )));
                }
            }
            return Ok(());
        }
        if self.users.is_empty() {
            return Err(Error::InvalidConfig(
                "a SASL server needs at least one user".into(),
            ));
        }
        for (name, password) in &self.users {
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
            if !name_ok {
                return Err(Error::InvalidConfig(format!(
                    "SASL user name {name:?} may hold only ASCII letters, digits and ._-@"
                )));
            }
            // The password itself stays out of the message.
            if password.contains(['"', '\\', '\n', '\r', '\0']) {
                return Err(Error::InvalidConfig(format!(
                    "the password of SASL user {name} holds a quote, backslash, line break or NUL"
                )));
            }
        }
        Ok(())
    }

    /// The text of `jaas.conf`.
    pub(crate) fn jaas_conf(&self) -> String {
        if let Some(k) = &self.kerberos {
            return format!(
                "Server {{\n  {KERBEROS_LOGIN_MODULE} required\n  useKeyTab=true\n  \
                 keyTab=\"{}\"\n  storeKey=true\n  useTicketCache=false\n  \
                 principal=\"{}\";\n}};\n",
                k.keytab.display(),
                k.principal
            );
        }
        let mut conf = format!("Server {{\n  {DIGEST_LOGIN_MODULE} required");
        for (name, password) in &self.users {
            // Writing to a String cannot fail.
            let _ = write!(conf, "\n  user_{name}=\"{password}\"");
        }
        conf.push_str(";\n};\n");
        conf
    }

    /// The `zoo.cfg` lines, as operators write them.
    pub(crate) fn cfg_lines(&self) -> Vec<(&'static str, &'static str)> {
        let mut lines = vec![("authProvider.sasl", SASL_PROVIDER)];
        if self.required {
            lines.push(("enforce.auth.enabled", "true"));
            lines.push(("enforce.auth.schemes", "sasl"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jaas_file_lists_every_user_in_the_server_section() {
        let sasl = ServerSasl::digest_md5()
            .user("alice", "pw-a")
            .user("bob", "pw-b")
            .user("alice", "pw-a2");
        assert_eq!(
            sasl.jaas_conf(),
            "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  \
             user_bob=\"pw-b\"\n  user_alice=\"pw-a2\";\n};\n"
        );
        assert_eq!(
            sasl.cfg_lines(),
            [("authProvider.sasl", SASL_PROVIDER)],
            "nothing is enforced unless asked"
        );
        let required = sasl.required(true).cfg_lines();
        assert!(required.contains(&("enforce.auth.enabled", "true")));
        assert!(required.contains(&("enforce.auth.schemes", "sasl")));
    }

    #[test]
    fn names_and_passwords_that_would_break_the_file_are_refused_without_echoing_the_password() {
        assert!(ServerSasl::digest_md5().check().is_err(), "no user");
        let bad_name = ServerSasl::digest_md5().user("a b", "pw").check();
        assert!(matches!(bad_name, Err(Error::InvalidConfig(_))));
        let bad_password = ServerSasl::digest_md5().user("a", "p\"w").check();
        match bad_password {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("p\"w"), "{m}"),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
        assert!(
            ServerSasl::digest_md5()
                .user("svc.app-1@x", "any thing!")
                .check()
                .is_ok()
        );
    }

    #[test]
    fn a_kerberos_server_logs_in_with_its_keytab_and_takes_no_digest_users() {
        let kerberos = ServerSasl {
            kerberos: Some(ServerKerberos {
                principal: "zookeeper/localhost@R.INVALID".into(),
                keytab: PathBuf::from("/k/zk.keytab"),
                krb5_conf: PathBuf::from("/k/krb5.conf"),
            }),
            ..ServerSasl::default()
        };
        assert!(kerberos.check().is_ok());
        let jaas = kerberos.jaas_conf();
        for expected in [
            "com.sun.security.auth.module.Krb5LoginModule required",
            "useKeyTab=true",
            "keyTab=\"/k/zk.keytab\"",
            "storeKey=true",
            "principal=\"zookeeper/localhost@R.INVALID\";",
        ] {
            assert!(jaas.contains(expected), "{expected} in {jaas}");
        }
        assert_eq!(kerberos.krb5_conf(), Some(Path::new("/k/krb5.conf")));
        let mixed = kerberos.user("alice", "pw");
        assert!(matches!(mixed.check(), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn debug_names_users_and_hides_passwords() {
        let out = format!("{:?}", ServerSasl::digest_md5().user("alice", "hunter2"));
        assert!(out.contains("alice") && !out.contains("hunter2"), "{out}");
    }
}
