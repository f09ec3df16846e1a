//! The benchmark's ZooKeeper server: zk-testing's standalone server on 127.0.0.1,
//! configured the way a plain `java ... ZooKeeperServerMain` with ZooKeeper's own
//! defaults would run, except for `forceSync=no`, so the disk does not hide the
//! clients' differences (`BENCHMARKS.md` says so).
//!
//! zk-testing picks test-friendly values where ZooKeeper's defaults are slow to start
//! or to expire sessions (a 100 ms tick, C1-only JIT, the serial collector, 4 MiB log
//! preallocation). [`config`] puts ZooKeeper's and the JVM's defaults back for what
//! can change the server's throughput.

use std::str::FromStr;
use std::time::Duration;

use zk_testing::{ServerConfig, TestingServer};

/// The server's JVM heap (`-Xms` and `-Xmx`), given as `256m` or `1g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeapSize {
    mb: u32,
}

impl HeapSize {
    /// A heap of `mb` MiB.
    pub(crate) const fn from_mb(mb: u32) -> HeapSize {
        HeapSize { mb }
    }

    /// The size in MiB.
    pub(crate) fn mb(self) -> u32 {
        self.mb
    }
}

impl FromStr for HeapSize {
    type Err = String;

    /// A whole number followed by `m` (MiB) or `g` (GiB), either case, as the JVM's
    /// `-Xmx` takes them. Bytes and kilobytes are refused: the server wants megabytes.
    fn from_str(text: &str) -> Result<HeapSize, String> {
        let expected = || "expected a whole number of megabytes or gigabytes, like 256m or 1g";
        let (number, unit_mb) = if let Some(n) = text.strip_suffix(['g', 'G']) {
            (n, 1024)
        } else if let Some(n) = text.strip_suffix(['m', 'M']) {
            (n, 1)
        } else {
            return Err(expected().to_string());
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(expected().to_string());
        }
        let mb = number
            .parse::<u32>()
            .ok()
            .and_then(|n| n.checked_mul(unit_mb))
            .ok_or_else(|| format!("too large (at most {} MiB)", u32::MAX))?;
        if mb == 0 {
            return Err("a heap cannot be empty".to_string());
        }
        Ok(HeapSize { mb })
    }
}

/// ZooKeeper's default tick; with it, sessions of 4 to 40 s are granted and every
/// client of the benchmark asks for 30 s.
const TICK: Duration = Duration::from_millis(2000);

/// The benchmark server's settings. zk-testing already listens on 127.0.0.1 only and
/// writes `maxClientCnxns=0`, `forceSync=no` and the admin server off; those are
/// repeated here so that the benchmark does not change when the kit's defaults do.
pub(crate) fn config(heap: HeapSize) -> Result<ServerConfig, String> {
    builder(heap)
        .build()
        .map_err(|e| format!("server settings: {e}"))
}

/// [`config`] with the server's connections served by Netty
/// (`NettyServerCnxnFactory`, which a TLS server needs) instead of ZooKeeper's default
/// NIO factory: the plain-TCP reference for a TLS run.
pub(crate) fn netty_config(heap: HeapSize) -> Result<ServerConfig, String> {
    builder(heap)
        .cfg_entry(
            "serverCnxnFactory",
            "org.apache.zookeeper.server.NettyServerCnxnFactory",
        )
        .build()
        .map_err(|e| format!("server settings: {e}"))
}

/// [`config`] serving TLS on a `secureClientPort` too, with certificates from a CA
/// made for the run and no client certificates asked for.
pub(crate) fn tls_config(heap: HeapSize) -> Result<ServerConfig, String> {
    let tls = zk_testing::ServerTls::new().map_err(|e| format!("a CA for the run: {e}"))?;
    builder(heap)
        .tls(tls)
        .build()
        .map_err(|e| format!("server settings: {e}"))
}

/// The recipe benchmark's server: [`config`] with `jute.maxbuffer` at 4 MiB, as its
/// clients have, since a list of 100,000 children is over ZooKeeper's 1 MiB default.
pub(crate) fn recipes_config(heap: HeapSize) -> Result<ServerConfig, String> {
    builder(heap)
        .jute_max_buffer(crate::recipes::client::MAX_FRAME_LEN)
        .build()
        .map_err(|e| format!("server settings: {e}"))
}

fn builder(heap: HeapSize) -> zk_testing::ServerConfigBuilder {
    ServerConfig::builder()
        // zoo.cfg and JVM properties: ZooKeeper's defaults for a 2 s tick.
        .tick_time(TICK)
        .session_timeouts(TICK * 2, TICK * 20)
        .init_limit(TICK * 10)
        .sync_limit(TICK * 5)
        .jute_max_buffer(0xfffff)
        // Transaction log preallocation in KiB: ZooKeeper's 64 MiB.
        .cfg_entry("preAllocSize", "65536")
        .cfg_entry("forceSync", "no")
        .cfg_entry("maxClientCnxns", "0")
        .cfg_entry("admin.enableServer", "false")
        .cfg_entry("autopurge.purgeInterval", "0")
        // JVM: a fixed heap, and the JVM's own choices of JIT and collector. The
        // options come after zk-testing's, and the JVM keeps the last of each:
        // `-UseSerialGC` undoes the kit's `+UseSerialGC`, and with no collector
        // named the JVM picks as a plain `java` would (G1 on 2 cores and 24 GiB).
        .max_heap_mb(heap.mb())
        .jvm_option(format!("-Xms{}m", heap.mb()))
        .jvm_option("-XX:TieredStopAtLevel=4")
        .jvm_option("-XX:-UseSerialGC")
        .jvm_option("-XX:+UsePerfData")
}

/// The running server. Dropping it kills the JVM, reaps it and removes its directory.
///
/// zk-testing ties the JVM to the thread that starts it (`PR_SET_PDEATHSIG`): start it
/// on the thread that lives for the whole run (the driver's main thread). If the
/// driver dies or is killed, the kernel kills the server.
pub(crate) struct BenchServer {
    // Declared first so that it drops first, before the runtime that spawned its JVM.
    server: TestingServer,
    pid: u32,
    _runtime: tokio::runtime::Runtime,
}

impl BenchServer {
    /// Starts a server with `config` and waits until it serves. The driver is
    /// synchronous; a current-thread runtime of the server's own runs the start.
    pub(crate) fn start(config: ServerConfig) -> Result<BenchServer, String> {
        let runtime = crate::runtime::current_thread()?;
        let server = runtime
            .block_on(TestingServer::start_with(config))
            .map_err(|e| format!("starting ZooKeeper: {e}"))?;
        let pid = server
            .pid()
            .ok_or("starting ZooKeeper: the server serves but has no pid")?;
        Ok(BenchServer {
            server,
            pid,
            _runtime: runtime,
        })
    }

    /// [`start`](Self::start), then says where the server is on standard error.
    pub(crate) fn start_announced(config: ServerConfig) -> Result<BenchServer, String> {
        let server = BenchServer::start(config)?;
        eprintln!("server up at {} (pid {})", server.addr(), server.pid());
        Ok(server)
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn addr(&self) -> String {
        self.server.connect_string()
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The TLS port's `127.0.0.1:<port>` and the CA's PEM, when the server serves TLS.
    pub(crate) fn tls(&self) -> Option<(String, String)> {
        let addr = self.server.secure_connect_string()?;
        let tls = self.server.tls()?;
        Some((addr, tls.ca().cert_pem().to_string()))
    }

    /// The server's directory (removed with it).
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.server.dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sizes_read_as_the_jvm_writes_them() {
        assert_eq!("256m".parse(), Ok(HeapSize::from_mb(256)));
        assert_eq!("256M".parse(), Ok(HeapSize::from_mb(256)));
        assert_eq!("1g".parse(), Ok(HeapSize::from_mb(1024)));
        assert_eq!("2G".parse(), Ok(HeapSize::from_mb(2048)));
        for bad in [
            "", "m", "g", "1", "512k", "1.5g", "-1g", " 1g", "1gb", "1 g", "1m1g",
        ] {
            let err = bad.parse::<HeapSize>().unwrap_err();
            assert!(err.contains("like 256m or 1g"), "{bad:?}: {err}");
        }
        assert!("0m".parse::<HeapSize>().unwrap_err().contains("empty"));
        let huge = "4194304g".parse::<HeapSize>().unwrap_err();
        assert!(huge.contains("too large"), "{huge}");
    }

    #[test]
    fn a_heap_too_small_for_zookeeper_is_refused_before_the_run() {
        let err = config(HeapSize::from_mb(8)).unwrap_err();
        assert!(err.contains("heap"), "{err}");
        assert!(config(HeapSize::from_mb(16)).is_ok());
    }

    /// The value the last `key=...` line of `zoo.cfg` gives `key`: ZooKeeper keeps the last.
    fn effective<'a>(zoo_cfg: &'a str, key: &str) -> Option<&'a str> {
        zoo_cfg
            .lines()
            .filter_map(|line| line.split_once('='))
            .rfind(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn the_server_runs_with_zookeeper_defaults_but_no_sync_and_dies_with_its_handle() {
        let server = BenchServer::start(config(HeapSize::from_mb(64)).unwrap()).unwrap();
        assert!(server.addr().starts_with("127.0.0.1:"), "{}", server.addr());
        let pid = server.pid();

        // The JVM keeps the last of each option: full JIT, the JVM's own collector.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let last = |prefix: &str| args.iter().rposition(|a| a.starts_with(prefix));
        let tier = last("-XX:TieredStopAtLevel=").expect("a JIT tier option");
        assert_eq!(args[tier], "-XX:TieredStopAtLevel=4");
        if let Some(serial_on) = args.iter().position(|a| a == "-XX:+UseSerialGC") {
            assert!(last("-XX:-UseSerialGC") > Some(serial_on), "{args:?}");
        }
        assert_eq!(args[last("-Xmx").unwrap()], "-Xmx64m");
        assert_eq!(args[last("-Xms").unwrap()], "-Xms64m");
        assert!(args.contains(&"-XX:+UsePerfData".to_string()), "{args:?}");

        // zoo.cfg, the JVM's last argument, as ZooKeeper reads it.
        let zoo_cfg = std::fs::read_to_string(args.iter().rfind(|a| !a.is_empty()).unwrap())
            .expect("zoo.cfg is the last argument");
        for (key, value) in [
            ("tickTime", "2000"),
            ("minSessionTimeout", "4000"),
            ("maxSessionTimeout", "40000"),
            ("clientPortAddress", "127.0.0.1"),
            ("forceSync", "no"),
            ("preAllocSize", "65536"),
            ("maxClientCnxns", "0"),
            ("admin.enableServer", "false"),
            ("autopurge.purgeInterval", "0"),
        ] {
            assert_eq!(
                effective(&zoo_cfg, key),
                Some(value),
                "{key} in:\n{zoo_cfg}"
            );
        }

        // And the server itself says so.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conf = rt
            .block_on(zk_testing::four_letter_word(server.addr(), "conf"))
            .unwrap();
        for line in [
            "tickTime=2000",
            "maxClientCnxns=0",
            "maxSessionTimeout=40000",
        ] {
            assert!(conf.lines().any(|l| l == line), "no {line} in:\n{conf}");
        }

        // Gone once the handle is: no process, or (pid reused) another one.
        drop(server);
        let after = std::fs::read(format!("/proc/{pid}/cmdline")).ok();
        assert_ne!(after, Some(cmdline), "server {pid} still runs");
    }
}
