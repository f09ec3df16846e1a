//! The JVM command line of one server: flags for a fast start and a small footprint, the system
//! properties the kit relies on, the user's own, the classpath and the main class.

use std::ffi::OsString;

use crate::config::ServerConfig;
use crate::install::Installation;
use crate::server_files::{Role, ServerPaths, file_url};

/// Main class of a standalone server.
pub(crate) const STANDALONE_MAIN: &str = "org.apache.zookeeper.server.ZooKeeperServerMain";
/// Main class of an ensemble member.
pub(crate) const QUORUM_MAIN: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

/// The arguments after `java`.
pub(crate) fn jvm_args(
    install: &Installation,
    config: &ServerConfig,
    paths: &ServerPaths,
    role: &Role,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        format!("-Xmx{}m", config.max_heap_mb()).into(),
        // One GC thread, no JIT tiers past C1, the shared class archive, no hsperfdata files:
        // tests start many short-lived servers on few cores.
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-Xshare:auto".into(),
        "-XX:-UsePerfData".into(),
        "-Djava.awt.headless=true".into(),
    ];
    let mut property = |key: &str, value: &str| args.push(format!("-D{key}={value}").into());
    property("jute.maxbuffer", &config.jute_max_buffer().to_string());
    property("zookeeper.admin.enableServer", "false");
    property("zookeeper.jmx.log4j.disable", "true");
    // Tests kill servers, they do not pull the power: the page cache survives a SIGKILL.
    property("zookeeper.forceSync", "no");
    property("zookeeper.log.dir", &paths.root.display().to_string());
    property("zookeeper.log.file", "server.log");
    property("log4j.configuration", &file_url(&paths.log4j_properties()));
    property(
        "logback.configurationFile",
        &paths.logback_xml().display().to_string(),
    );
    if let Some(sasl) = config.sasl() {
        property(
            "java.security.auth.login.config",
            &paths.jaas_conf().display().to_string(),
        );
        if let Some(krb5_conf) = sasl.krb5_conf() {
            property("java.security.krb5.conf", &krb5_conf.display().to_string());
        }
    }
    for (key, value) in config.system_properties() {
        property(key, value);
    }
    for option in config.jvm_options() {
        args.push(option.into());
    }
    args.push("-cp".into());
    args.push(install.classpath_arg());
    args.push(
        match role {
            Role::Standalone => STANDALONE_MAIN,
            Role::Quorum { .. } => QUORUM_MAIN,
        }
        .into(),
    );
    args.push(paths.zoo_cfg().into_os_string());
    args
}
