//! The files one server reads at startup: `zoo.cfg`, `myid`, and its logging configuration.
//!
//! Each server owns a directory laid out as
//! `zoo.cfg`, `log4j.properties`, `logback.xml`, `server.log` (the server's own log),
//! `console.log` (the JVM's stdout and stderr), `jaas.conf` (SASL users, when configured)
//! and `data/` (snapshots, transaction logs, `myid`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::tls::ClientAuth;

/// One ensemble member as every `zoo.cfg` of the ensemble lists it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer {
    /// The server's `myid` (1-based).
    pub(crate) id: u64,
    /// Followers connect to the leader on this port.
    pub(crate) quorum_port: u16,
    /// Leader election runs on this port.
    pub(crate) election_port: u16,
}

/// Whether a server runs alone or as an ensemble member.
#[derive(Clone, Debug)]
pub(crate) enum Role {
    /// `ZooKeeperServerMain`.
    Standalone,
    /// `QuorumPeerMain` with `myid` among `peers`.
    Quorum { myid: u64, peers: Vec<Peer> },
}

/// The paths inside one server's directory.
#[derive(Clone, Debug)]
pub(crate) struct ServerPaths {
    pub(crate) root: PathBuf,
}

impl ServerPaths {
    pub(crate) fn zoo_cfg(&self) -> PathBuf {
        self.root.join("zoo.cfg")
    }
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
    pub(crate) fn server_log(&self) -> PathBuf {
        self.root.join("server.log")
    }
    pub(crate) fn console_log(&self) -> PathBuf {
        self.root.join("console.log")
    }
    pub(crate) fn log4j_properties(&self) -> PathBuf {
        self.root.join("log4j.properties")
    }
    pub(crate) fn logback_xml(&self) -> PathBuf {
        self.root.join("logback.xml")
    }
    /// The JAAS configuration with the SASL users (`Server` section).
    pub(crate) fn jaas_conf(&self) -> PathBuf {
        self.root.join("jaas.conf")
    }
    /// The server's PEM key store: its private key and certificate.
    pub(crate) fn key_store(&self) -> PathBuf {
        self.root.join("tls").join("keystore.pem")
    }
    /// The server's PEM trust store: the CA that signs client certificates.
    pub(crate) fn trust_store(&self) -> PathBuf {
        self.root.join("tls").join("truststore.pem")
    }
}

/// The class that serves TLS (the default NIO factory cannot).
pub(crate) const NETTY_FACTORY: &str = "org.apache.zookeeper.server.NettyServerCnxnFactory";
/// The provider that turns a client certificate into an `x509` identity.
pub(crate) const X509_PROVIDER: &str =
    "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

/// Writes `zoo.cfg`, `data/myid` (ensemble members), the logging configuration, and with TLS
/// (when `secure_port` is given) the PEM key and trust stores under `tls/`.
pub(crate) fn write_server_files(
    paths: &ServerPaths,
    config: &ServerConfig,
    client_port: u16,
    secure_port: Option<u16>,
    role: &Role,
) -> Result<()> {
    let data_dir = paths.data_dir();
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| Error::io(format!("creating {}", data_dir.display()), e))?;
    if let Role::Quorum { myid, .. } = role {
        write(&data_dir.join("myid"), &format!("{myid}\n"))?;
    }
    let tls = match (config.tls(), secure_port) {
        (Some(tls), Some(port)) => {
            let dir = paths.root.join("tls");
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            write(
                &paths.key_store(),
                &tls.issue_server_cert()?.key_store_pem(),
            )?;
            write(&paths.trust_store(), tls.ca().cert_pem())?;
            Some(SecureCfg {
                port,
                key_store: paths.key_store(),
                trust_store: paths.trust_store(),
                client_auth: tls.client_auth_mode(),
            })
        }
        _ => None,
    };
    if let Some(sasl) = config.sasl() {
        write(&paths.jaas_conf(), &sasl.jaas_conf())?;
    }
    write(
        &paths.zoo_cfg(),
        &zoo_cfg(config, &data_dir, client_port, tls.as_ref(), role),
    )?;
    write(
        &paths.log4j_properties(),
        &log4j_properties(&paths.server_log()),
    )?;
    write(&paths.logback_xml(), &logback_xml(&paths.server_log()))?;
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// What `zoo.cfg` says about TLS.
#[derive(Debug)]
pub(crate) struct SecureCfg {
    pub(crate) port: u16,
    pub(crate) key_store: PathBuf,
    pub(crate) trust_store: PathBuf,
    pub(crate) client_auth: ClientAuth,
}

/// The text of `zoo.cfg`.
pub(crate) fn zoo_cfg(
    config: &ServerConfig,
    data_dir: &Path,
    client_port: u16,
    tls: Option<&SecureCfg>,
    role: &Role,
) -> String {
    let mut cfg = String::new();
    let mut line = |key: &str, value: &dyn std::fmt::Display| {
        // Writing to a String cannot fail.
        let _ = writeln!(cfg, "{key}={value}");
    };
    line("tickTime", &config.tick_time().as_millis());
    line("initLimit", &config.init_limit_ticks());
    line("syncLimit", &config.sync_limit_ticks());
    line("dataDir", &data_dir.display());
    line("clientPort", &client_port);
    line("clientPortAddress", &"127.0.0.1");
    line(
        "minSessionTimeout",
        &config.min_session_timeout().as_millis(),
    );
    line(
        "maxSessionTimeout",
        &config.max_session_timeout().as_millis(),
    );
    // Tests open many connections from one address; ZooKeeper's default allows 60.
    line("maxClientCnxns", &0);
    line("admin.enableServer", &false);
    line("4lw.commands.whitelist", &"*");
    // Transaction log files grow in 4 MiB steps instead of 64 MiB.
    line("preAllocSize", &4096);
    if let Some(tls) = tls {
        // As operators write it: the keys without their `zookeeper.` prefix, which ZooKeeper
        // turns into the system properties its TLS code reads.
        line("secureClientPort", &tls.port);
        line("secureClientPortAddress", &"127.0.0.1");
        line("serverCnxnFactory", &NETTY_FACTORY);
        line("ssl.keyStore.location", &tls.key_store.display());
        line("ssl.keyStore.type", &"PEM");
        line("ssl.trustStore.location", &tls.trust_store.display());
        line("ssl.trustStore.type", &"PEM");
        line("ssl.clientAuth", &tls.client_auth.as_cfg());
        line("authProvider.x509", &X509_PROVIDER);
    }
    if let Some(sasl) = config.sasl() {
        for (key, value) in sasl.cfg_lines() {
            line(key, &value);
        }
    }
    if let Role::Quorum { peers, .. } = role {
        // Even a one-server ensemble runs as a quorum peer, so it behaves like the bigger ones.
        line("standaloneEnabled", &false);
        line("reconfigEnabled", &false);
        for peer in peers {
            line(
                &format!("server.{}", peer.id),
                &format_args!("127.0.0.1:{}:{}", peer.quorum_port, peer.election_port),
            );
        }
    }
    for (key, value) in config.cfg_entries() {
        line(key, value);
    }
    cfg
}

fn log4j_properties(log_file: &Path) -> String {
    let file = log_file.display().to_string().replace('\\', "\\\\");
    format!(
        "log4j.rootLogger=INFO, FILE\n\
         log4j.appender.FILE=org.apache.log4j.FileAppender\n\
         log4j.appender.FILE.File={file}\n\
         log4j.appender.FILE.Append=true\n\
         log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} %-5p [%t:%C{{1}}@%L] - %m%n\n"
    )
}

fn logback_xml(log_file: &Path) -> String {
    let file = log_file
        .display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<configuration>\n\
         \x20 <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">\n\
         \x20   <file>{file}</file>\n\
         \x20   <encoder><pattern>%d{{ISO8601}} %-5level [%thread] %logger{{1}} - %msg%n</pattern></encoder>\n\
         \x20 </appender>\n\
         \x20 <root level=\"INFO\"><appender-ref ref=\"FILE\"/></root>\n\
         </configuration>\n"
    )
}

/// A `file:` URL for a local path, as log4j's `log4j.configuration` property expects.
pub(crate) fn file_url(path: &Path) -> String {
    let mut url = String::from("file:");
    for byte in path.display().to_string().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(char::from(byte))
            }
            other => {
                let _ = write!(url, "%{other:02X}");
            }
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_cfg_lists_every_peer_on_loopback() {
        let config = ServerConfig::default();
        let peers = vec![
            Peer {
                id: 1,
                quorum_port: 1001,
                election_port: 1002,
            },
            Peer {
                id: 2,
                quorum_port: 2001,
                election_port: 2002,
            },
        ];
        let cfg = zoo_cfg(
            &config,
            Path::new("/tmp/x/data"),
            3000,
            None,
            &Role::Quorum { myid: 2, peers },
        );
        for expected in [
            "tickTime=100\n",
            "initLimit=100\n",
            "syncLimit=50\n",
            "dataDir=/tmp/x/data\n",
            "clientPort=3000\n",
            "clientPortAddress=127.0.0.1\n",
            "maxSessionTimeout=60000\n",
            "admin.enableServer=false\n",
            "4lw.commands.whitelist=*\n",
            "server.1=127.0.0.1:1001:1002\n",
            "server.2=127.0.0.1:2001:2002\n",
            "standaloneEnabled=false\n",
        ] {
            assert!(cfg.contains(expected), "missing {expected:?} in:\n{cfg}");
        }
    }

    #[test]
    fn standalone_cfg_has_no_server_lines_and_keeps_user_entries_last() {
        let config = ServerConfig::builder()
            .cfg_entry("maxClientCnxns", "10")
            .build()
            .expect("valid config");
        let cfg = zoo_cfg(&config, Path::new("/d"), 1, None, &Role::Standalone);
        assert!(!cfg.contains("server."));
        assert!(!cfg.contains("secureClientPort"), "{cfg}");
        assert!(cfg.ends_with("maxClientCnxns=10\n"), "{cfg}");
    }

    #[test]
    fn tls_cfg_serves_pem_stores_on_a_loopback_secure_port() {
        let secure = SecureCfg {
            port: 3001,
            key_store: PathBuf::from("/d/tls/keystore.pem"),
            trust_store: PathBuf::from("/d/tls/truststore.pem"),
            client_auth: ClientAuth::Need,
        };
        let cfg = zoo_cfg(
            &ServerConfig::default(),
            Path::new("/d/data"),
            3000,
            Some(&secure),
            &Role::Standalone,
        );
        for expected in [
            "clientPort=3000\n",
            "secureClientPort=3001\n",
            "secureClientPortAddress=127.0.0.1\n",
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
            "ssl.keyStore.location=/d/tls/keystore.pem\n",
            "ssl.keyStore.type=PEM\n",
            "ssl.trustStore.location=/d/tls/truststore.pem\n",
            "ssl.trustStore.type=PEM\n",
            "ssl.clientAuth=need\n",
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n",
        ] {
            assert!(cfg.contains(expected), "missing {expected:?} in:\n{cfg}");
        }
    }

    #[test]
    fn sasl_cfg_adds_the_sasl_provider_and_enforcement_when_required() {
        let config = ServerConfig::builder()
            .sasl(
                crate::ServerSasl::digest_md5()
                    .user("alice", "pw")
                    .required(true),
            )
            .build()
            .expect("valid config");
        let cfg = zoo_cfg(&config, Path::new("/d"), 1, None, &Role::Standalone);
        for expected in [
            "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
            "enforce.auth.enabled=true\n",
            "enforce.auth.schemes=sasl\n",
        ] {
            assert!(cfg.contains(expected), "missing {expected:?} in:\n{cfg}");
        }
        assert!(!cfg.contains("pw"), "passwords stay in jaas.conf: {cfg}");
    }

    #[test]
    fn file_urls_escape_what_a_url_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/log4j.properties")),
            "file:/tmp/a%20b/log4j.properties"
        );
    }
}
