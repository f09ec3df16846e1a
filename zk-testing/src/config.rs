//! How test servers are configured: tick time, session limits, JVM properties.
//!
//! The defaults suit tests on a small, busy machine: a short tick so sessions of a few seconds are
//! allowed, a maximum session timeout high enough for Curator's 60 s default, generous
//! init/sync limits in wall time so an ensemble keeps its quorum under load, and a raised
//! `jute.maxbuffer`.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::sasl::ServerSasl;
use crate::tls::ServerTls;

/// Default tick: short, so session timeouts down to 2 ticks are allowed.
pub const DEFAULT_TICK_TIME: Duration = Duration::from_millis(100);
/// Default maximum session timeout: a client asking for Curator's 60 s default gets it.
pub const DEFAULT_MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Default wall time a follower has to connect and sync to a leader (`initLimit * tickTime`).
pub const DEFAULT_INIT_LIMIT: Duration = Duration::from_secs(10);
/// Default wall time a follower may lag behind the leader (`syncLimit * tickTime`).
pub const DEFAULT_SYNC_LIMIT: Duration = Duration::from_secs(5);
/// Default `jute.maxbuffer`: 16 MiB, so large transactions (a session closing with many
/// ephemerals) can still be read back from the log.
pub const DEFAULT_JUTE_MAX_BUFFER: usize = 16 * 1024 * 1024;
/// Default JVM heap limit in MiB.
pub const DEFAULT_MAX_HEAP_MB: u32 = 256;
/// Default deadline for a server or an ensemble to come up.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The settings every server of a [`TestingServer`](crate::TestingServer) or
/// [`TestingCluster`](crate::TestingCluster) starts with. Build one with [`ServerConfig::builder`];
/// [`ServerConfig::default`] gives the defaults described in this module.
///
/// ```
/// use std::time::Duration;
/// use zk_testing::ServerConfig;
///
/// let config = ServerConfig::builder()
///     .tick_time(Duration::from_millis(200))
///     .session_timeouts(Duration::from_millis(400), Duration::from_secs(30))
///     .extended_types(true) // TTL nodes
///     .build()?;
/// assert_eq!(config.max_session_timeout(), Duration::from_secs(30));
/// # Ok::<(), zk_testing::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    tick_time: Duration,
    min_session_timeout: Option<Duration>,
    max_session_timeout: Duration,
    init_limit: Duration,
    sync_limit: Duration,
    jute_max_buffer: usize,
    max_heap_mb: u32,
    startup_timeout: Duration,
    system_properties: Vec<(String, String)>,
    jvm_options: Vec<String>,
    cfg_entries: Vec<(String, String)>,
    tls: Option<ServerTls>,
    sasl: Option<ServerSasl>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tick_time: DEFAULT_TICK_TIME,
            min_session_timeout: None,
            max_session_timeout: DEFAULT_MAX_SESSION_TIMEOUT,
            init_limit: DEFAULT_INIT_LIMIT,
            sync_limit: DEFAULT_SYNC_LIMIT,
            jute_max_buffer: DEFAULT_JUTE_MAX_BUFFER,
            max_heap_mb: DEFAULT_MAX_HEAP_MB,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            system_properties: Vec::new(),
            jvm_options: Vec::new(),
            cfg_entries: Vec::new(),
            tls: None,
            sasl: None,
        }
    }
}

impl ServerConfig {
    /// Starts a builder from the defaults.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: ServerConfig::default(),
        }
    }

    /// The server's tick.
    pub fn tick_time(&self) -> Duration {
        self.tick_time
    }

    /// The smallest session timeout the server grants (ZooKeeper's default: two ticks).
    pub fn min_session_timeout(&self) -> Duration {
        self.min_session_timeout.unwrap_or(self.tick_time * 2)
    }

    /// The largest session timeout the server grants.
    pub fn max_session_timeout(&self) -> Duration {
        self.max_session_timeout
    }

    /// `initLimit` in ticks: at least the configured wall time, rounded up.
    pub fn init_limit_ticks(&self) -> u64 {
        ticks_covering(self.init_limit, self.tick_time)
    }

    /// `syncLimit` in ticks: at least the configured wall time, rounded up.
    pub fn sync_limit_ticks(&self) -> u64 {
        ticks_covering(self.sync_limit, self.tick_time)
    }

    /// The `jute.maxbuffer` the server runs with, in bytes.
    pub fn jute_max_buffer(&self) -> usize {
        self.jute_max_buffer
    }

    /// The JVM heap limit in MiB.
    pub fn max_heap_mb(&self) -> u32 {
        self.max_heap_mb
    }

    /// How long a start or restart may take before it fails with [`Error::Timeout`].
    pub fn startup_timeout(&self) -> Duration {
        self.startup_timeout
    }

    /// Extra JVM system properties, in the order they were added.
    pub fn system_properties(&self) -> &[(String, String)] {
        &self.system_properties
    }

    /// Extra JVM options, in the order they were added.
    pub fn jvm_options(&self) -> &[String] {
        &self.jvm_options
    }

    /// Extra `zoo.cfg` lines, in the order they were added.
    pub fn cfg_entries(&self) -> &[(String, String)] {
        &self.cfg_entries
    }

    /// How the servers serve TLS, if they do.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// The SASL users the servers accept, if any.
    pub fn sasl(&self) -> Option<&ServerSasl> {
        self.sasl.as_ref()
    }
}

fn ticks_covering(wall: Duration, tick: Duration) -> u64 {
    let tick_ms = tick.as_millis().max(1);
    let ticks = wall.as_millis().div_ceil(tick_ms);
    u64::try_from(ticks).unwrap_or(u64::MAX).max(2)
}

/// Builds a [`ServerConfig`]; [`build`](ServerConfigBuilder::build) checks the values.
#[derive(Clone, Debug)]
pub struct ServerConfigBuilder {
    config: ServerConfig,
}

impl ServerConfigBuilder {
    /// The server's tick (`tickTime`). Whole milliseconds, at least 1 ms. Default 100 ms.
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.config.tick_time = tick;
        self
    }

    /// The range of session timeouts the server grants (`minSessionTimeout`, `maxSessionTimeout`).
    /// Default: two ticks to 60 s.
    pub fn session_timeouts(mut self, min: Duration, max: Duration) -> Self {
        self.config.min_session_timeout = Some(min);
        self.config.max_session_timeout = max;
        self
    }

    /// Only the largest session timeout the server grants. Default 60 s.
    pub fn max_session_timeout(mut self, max: Duration) -> Self {
        self.config.max_session_timeout = max;
        self
    }

    /// Wall time a follower has to connect and sync to a new leader; turned into `initLimit`
    /// ticks. Default 10 s.
    pub fn init_limit(mut self, wall: Duration) -> Self {
        self.config.init_limit = wall;
        self
    }

    /// Wall time a follower may go without hearing from the leader; turned into `syncLimit`
    /// ticks. This is also how long an ensemble takes to notice a paused leader. Default 5 s.
    pub fn sync_limit(mut self, wall: Duration) -> Self {
        self.config.sync_limit = wall;
        self
    }

    /// The server's `jute.maxbuffer` in bytes. Default 16 MiB.
    pub fn jute_max_buffer(mut self, bytes: usize) -> Self {
        self.config.jute_max_buffer = bytes;
        self
    }

    /// The JVM heap limit (`-Xmx`) in MiB. Default 256.
    pub fn max_heap_mb(mut self, mb: u32) -> Self {
        self.config.max_heap_mb = mb;
        self
    }

    /// How long a start or restart may take. Default 60 s.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.config.startup_timeout = timeout;
        self
    }

    /// Adds a JVM system property (`-Dkey=value`), e.g. `zookeeper.extendedTypesEnabled`.
    /// Later properties win over earlier ones and over the kit's own.
    pub fn system_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config
            .system_properties
            .push((key.into(), value.into()));
        self
    }

    /// Enables TTL nodes (`-Dzookeeper.extendedTypesEnabled=true`).
    pub fn extended_types(self, enabled: bool) -> Self {
        self.system_property("zookeeper.extendedTypesEnabled", enabled.to_string())
    }

    /// Adds a JVM option after the kit's own, e.g. `-XX:TieredStopAtLevel=4` to get the full JIT
    /// back for a benchmark (the kit favours fast startup with C1 only). The last one of a kind wins.
    pub fn jvm_option(mut self, option: impl Into<String>) -> Self {
        self.config.jvm_options.push(option.into());
        self
    }

    /// Adds a `key=value` line to `zoo.cfg`, after the kit's own (ZooKeeper keeps the last one).
    pub fn cfg_entry(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.cfg_entries.push((key.into(), value.into()));
        self
    }

    /// Serves TLS on a `secureClientPort` of its own (on `127.0.0.1`, beside the plain client
    /// port, which stays for four-letter words and plain clients), with certificates from the
    /// [`ServerTls`]'s CA. See [`ServerTls`] for what the servers then run with.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Accepts SASL DIGEST-MD5 logins of the [`ServerSasl`]'s users, on the plain port and
    /// on the TLS port alike. See [`ServerSasl`] for what the servers then run with.
    pub fn sasl(mut self, sasl: ServerSasl) -> Self {
        self.config.sasl = Some(sasl);
        self
    }

    /// Checks the values and returns the configuration.
    pub fn build(self) -> Result<ServerConfig> {
        let c = &self.config;
        if c.tick_time < Duration::from_millis(1)
            || !c.tick_time.subsec_nanos().is_multiple_of(1_000_000)
        {
            return Err(Error::InvalidConfig(format!(
                "tick time must be a whole number of milliseconds, at least 1 ms (got {:?})",
                c.tick_time
            )));
        }
        let min = c.min_session_timeout();
        if min > c.max_session_timeout {
            return Err(Error::InvalidConfig(format!(
                "minimum session timeout {min:?} is larger than the maximum {:?}",
                c.max_session_timeout
            )));
        }
        for (what, value) in [
            ("minimum session timeout", min),
            ("maximum session timeout", c.max_session_timeout),
        ] {
            if value.as_millis() > i32::MAX as u128 {
                return Err(Error::InvalidConfig(format!(
                    "{what} {value:?} is too large"
                )));
            }
        }
        if c.jute_max_buffer == 0 || c.jute_max_buffer > i32::MAX as usize {
            return Err(Error::InvalidConfig(format!(
                "jute.maxbuffer must be between 1 and {} bytes (got {})",
                i32::MAX,
                c.jute_max_buffer
            )));
        }
        if c.max_heap_mb < 16 {
            return Err(Error::InvalidConfig(format!(
                "a heap of {} MiB is too small for a ZooKeeper server (at least 16)",
                c.max_heap_mb
            )));
        }
        if c.startup_timeout.is_zero() {
            return Err(Error::InvalidConfig(
                "startup timeout must be longer than zero".into(),
            ));
        }
        for (key, value) in &c.system_properties {
            check_key("system property", key)?;
            check_value("system property", key, value)?;
        }
        for option in &c.jvm_options {
            if !option.starts_with('-') || option.contains('\0') {
                return Err(Error::InvalidConfig(format!(
                    "JVM option {option:?} must start with '-' and hold no NUL"
                )));
            }
        }
        for (key, value) in &c.cfg_entries {
            check_key("zoo.cfg entry", key)?;
            check_value("zoo.cfg entry", key, value)?;
        }
        if c.tls.as_ref().is_some_and(|tls| tls.names().is_empty()) {
            return Err(Error::InvalidConfig(
                "TLS server certificates need at least one name".into(),
            ));
        }
        if let Some(sasl) = &c.sasl {
            sasl.check()?;
        }
        Ok(self.config)
    }
}

fn check_key(what: &str, key: &str) -> Result<()> {
    if key.is_empty() || key.chars().any(|ch| ch.is_whitespace() || ch == '=') {
        return Err(Error::InvalidConfig(format!(
            "{what} name {key:?} must be non-empty, without spaces or '='"
        )));
    }
    Ok(())
}

fn check_value(what: &str, key: &str, value: &str) -> Result<()> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(Error::InvalidConfig(format!(
            "{what} {key} has a line break or NUL in its value"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_limits_generous_in_wall_time() {
        let c = ServerConfig::default();
        assert_eq!(c.tick_time(), Duration::from_millis(100));
        assert_eq!(c.init_limit_ticks(), 100);
        assert_eq!(c.sync_limit_ticks(), 50);
        assert_eq!(c.min_session_timeout(), Duration::from_millis(200));
        assert_eq!(c.max_session_timeout(), Duration::from_secs(60));
    }

    #[test]
    fn limits_round_up_to_cover_the_wall_time() {
        let c = ServerConfig::builder()
            .tick_time(Duration::from_millis(300))
            .build()
            .expect("valid config");
        assert_eq!(c.init_limit_ticks(), 34); // 34 * 300 ms >= 10 s
        assert_eq!(c.sync_limit_ticks(), 17); // 17 * 300 ms >= 5 s
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let sub_ms = ServerConfig::builder()
            .tick_time(Duration::from_micros(1500))
            .build();
        assert!(matches!(sub_ms, Err(Error::InvalidConfig(_))));

        let inverted = ServerConfig::builder()
            .session_timeouts(Duration::from_secs(10), Duration::from_secs(5))
            .build();
        assert!(matches!(inverted, Err(Error::InvalidConfig(m)) if m.contains("larger")));

        let bad_key = ServerConfig::builder().system_property("a b", "1").build();
        assert!(matches!(bad_key, Err(Error::InvalidConfig(_))));

        let bad_value = ServerConfig::builder().cfg_entry("x", "1\nevil=2").build();
        assert!(matches!(bad_value, Err(Error::InvalidConfig(_))));
    }
}
