//! Finding a Java runtime and the ZooKeeper jars on this machine.
//!
//! Two layouts are understood:
//! - Debian's (`scripts/setup` installs it): the jars live in `/usr/share/java` under unversioned names,
//!   and the server logs through slf4j to log4j 1.2, as Debian's own start script does.
//! - Any directory named by [`JARS_ENV`]: every `*.jar` in it goes on the classpath, which fits the
//!   `lib/` directory of an upstream ZooKeeper release.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming a directory of ZooKeeper jars to use instead of Debian's.
pub const JARS_ENV: &str = "ZK_TESTING_JARS";

/// Where Debian installs Java libraries.
pub const DEBIAN_JAR_DIR: &str = "/usr/share/java";

/// Jars the server cannot start without (the server itself, its records, and its logging).
const DEBIAN_REQUIRED_JARS: &[&str] = &[
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "slf4j-api.jar",
    "slf4j-log4j12.jar",
    "log4j-1.2.jar",
];

/// Jars the server loads for optional features (netty transport, metrics, snapshot compression,
/// the command-line parser). `zookeeper.jar`'s manifest names most of them too; listing the ones
/// present keeps the classpath explicit.
const DEBIAN_OPTIONAL_JARS: &[&str] = &[
    "netty-buffer.jar",
    "netty-codec.jar",
    "netty-common.jar",
    "netty-handler.jar",
    "netty-resolver.jar",
    "netty-transport.jar",
    "netty-transport-native-epoll.jar",
    "netty-transport-native-unix-common.jar",
    "metrics-core.jar",
    "snappy-java.jar",
    "commons-cli.jar",
    "commons-io.jar",
];

/// What a TLS server (`NettyServerCnxnFactory`) loads besides the server itself: netty. Each
/// is a jar name without version and `.jar` (Debian's `netty-handler.jar`, an upstream
/// release's `netty-handler-4.1.94.Final.jar`).
const TLS_JARS: &[&str] = &[
    "netty-buffer",
    "netty-codec",
    "netty-common",
    "netty-handler",
    "netty-resolver",
    "netty-transport",
];

/// A Java runtime plus the classpath that runs a ZooKeeper server.
#[derive(Clone, Debug)]
pub struct Installation {
    java: PathBuf,
    classpath: Vec<PathBuf>,
}

impl Installation {
    /// Looks for Java (`$JAVA_HOME/bin/java`, then `java` on `PATH`) and for the jars
    /// (`$ZK_TESTING_JARS`, else Debian's `/usr/share/java`).
    pub fn detect() -> Result<Self> {
        let java = find_java()?;
        let classpath = match env::var_os(JARS_ENV) {
            Some(dir) if !dir.is_empty() => jars_in_dir(Path::new(&dir))?,
            _ => debian_jars(Path::new(DEBIAN_JAR_DIR))?,
        };
        Ok(Installation { java, classpath })
    }

    /// The `java` executable.
    pub fn java(&self) -> &Path {
        &self.java
    }

    /// The jars, in classpath order.
    pub fn classpath(&self) -> &[PathBuf] {
        &self.classpath
    }

    /// Checks that the classpath can serve TLS (netty's jars are there), so that a missing
    /// jar is named before a server starts rather than found in its log.
    pub(crate) fn require_tls(&self) -> Result<()> {
        let missing: Vec<String> = TLS_JARS
            .iter()
            .filter(|jar| !self.classpath.iter().any(|path| is_jar_named(path, jar)))
            .map(|jar| format!("{jar}.jar"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let searched = self
            .classpath
            .first()
            .and_then(|jar| jar.parent())
            .map_or_else(|| PathBuf::from(DEBIAN_JAR_DIR), Path::to_path_buf);
        Err(Error::ZooKeeperNotInstalled { searched, missing })
    }

    /// The classpath as the single `-cp` argument Java expects.
    pub(crate) fn classpath_arg(&self) -> OsString {
        env::join_paths(&self.classpath).unwrap_or_else(|_| {
            // join_paths only fails when a path contains ':'; fall back to a plain join so
            // Java reports the odd path itself.
            let mut joined = OsString::new();
            for (i, jar) in self.classpath.iter().enumerate() {
                if i > 0 {
                    joined.push(":");
                }
                joined.push(jar);
            }
            joined
        })
    }
}

/// Whether `path` is the jar `name`, with or without a version (`name-4.1.48.Final.jar`).
fn is_jar_named(path: &Path, name: &str) -> bool {
    let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
        return false;
    };
    let Some(stem) = file.strip_suffix(".jar") else {
        return false;
    };
    stem == name
        || stem
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
}

fn find_java() -> Result<PathBuf> {
    let mut searched = Vec::new();
    if let Some(home) = env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        let candidate = Path::new(&home).join("bin").join("java");
        if is_executable(&candidate) {
            return Ok(candidate);
        }
        searched.push(candidate.display().to_string());
    }
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            let candidate = dir.join("java");
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
        searched.push("`java` on PATH".to_owned());
    }
    Err(Error::JavaNotFound {
        searched: searched.join(", "),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn debian_jars(dir: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<String> = DEBIAN_REQUIRED_JARS
        .iter()
        .filter(|jar| !dir.join(jar).is_file())
        .map(|jar| (*jar).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(Error::ZooKeeperNotInstalled {
            searched: dir.to_path_buf(),
            missing,
        });
    }
    Ok(DEBIAN_REQUIRED_JARS
        .iter()
        .chain(DEBIAN_OPTIONAL_JARS)
        .map(|jar| dir.join(jar))
        .filter(|path| path.is_file())
        .collect())
}

fn jars_in_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("reading {JARS_ENV} directory {}", dir.display()), e))?;
    let mut jars: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jar"))
        .collect();
    jars.sort();
    let has_server = jars.iter().any(|jar| {
        jar.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("zookeeper") && !n.starts_with("zookeeper-jute"))
    });
    if !has_server {
        return Err(Error::ZooKeeperNotInstalled {
            searched: dir.to_path_buf(),
            missing: vec!["zookeeper*.jar".to_owned()],
        });
    }
    Ok(jars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_layout_without_jars_names_what_is_missing() {
        let empty = tempfile::tempdir().expect("a temporary directory can be created");
        let err = debian_jars(empty.path()).unwrap_err();
        match &err {
            Error::ZooKeeperNotInstalled { missing, .. } => {
                assert!(missing.contains(&"zookeeper.jar".to_owned()));
                assert!(missing.contains(&"log4j-1.2.jar".to_owned()));
            }
            other => panic!("expected ZooKeeperNotInstalled, got {other:?}"),
        }
        assert!(err.to_string().contains("scripts/setup"), "{err}");
    }

    #[test]
    fn tls_needs_netty_with_or_without_versions_in_jar_names() {
        assert!(is_jar_named(
            Path::new("/j/netty-handler.jar"),
            "netty-handler"
        ));
        assert!(is_jar_named(
            Path::new("/j/netty-handler-4.1.94.Final.jar"),
            "netty-handler"
        ));
        assert!(!is_jar_named(
            Path::new("/j/netty-transport-native-epoll.jar"),
            "netty-transport"
        ));
        let install = Installation {
            java: PathBuf::from("/usr/bin/java"),
            classpath: vec![PathBuf::from("/j/zookeeper.jar")],
        };
        match install.require_tls() {
            Err(Error::ZooKeeperNotInstalled { missing, .. }) => {
                assert!(
                    missing.contains(&"netty-handler.jar".to_owned()),
                    "{missing:?}"
                );
            }
            other => panic!("expected the netty jars to be missing, got {other:?}"),
        }
    }

    #[test]
    fn jar_directory_needs_a_server_jar() {
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        std::fs::write(dir.path().join("zookeeper-jute-3.8.4.jar"), b"").expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"").expect("write");
        assert!(matches!(
            jars_in_dir(dir.path()),
            Err(Error::ZooKeeperNotInstalled { .. })
        ));

        std::fs::write(dir.path().join("zookeeper-3.8.4.jar"), b"").expect("write");
        let jars = jars_in_dir(dir.path()).expect("a server jar is present");
        let names: Vec<_> = jars
            .iter()
            .filter_map(|j| j.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["zookeeper-3.8.4.jar", "zookeeper-jute-3.8.4.jar"]);
    }
}
