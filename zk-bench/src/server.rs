//! One standalone ZooKeeper server on 127.0.0.1 for the benchmark, started from
//! Debian's jars the way zk-testing starts them, and killed when dropped.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to answer `ruok`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server; dropping it kills the process and removes its data.
pub struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with `java` and `classpath` (which must hold zookeeper.jar).
    /// Transaction log syncs are off (`forceSync=no`) so that the disk does not
    /// hide the clients' differences; `BENCHMARKS.md` says so.
    pub fn start(java: &str, classpath: &str, heap: &str) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("zk-bench-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let port = free_port()?;
        let cfg = dir.path().join("zoo.cfg");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        std::fs::write(&cfg, config(port, &data)).map_err(|e| format!("{}: {e}", cfg.display()))?;
        let log = std::fs::File::create(dir.path().join("server.log"))
            .map_err(|e| format!("server log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("server log: {e}"))?;
        let mut cmd = Command::new(java);
        cmd.arg(format!("-Xmx{heap}"))
            .arg(format!("-Xms{heap}"))
            .arg("-cp")
            .arg(classpath)
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the
        // server if this process dies, so a crashed or killed driver leaves no server.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| format!("{java}: {e}"))?;
        let mut server = Server { child, port, dir };
        server.wait_ready()?;
        Ok(server)
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "server exited with {status}; its log:\n{}",
                    self.log()
                ));
            }
            if four_letter(self.port, "ruok").as_deref() == Some("imok") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "server not ready within {START_TIMEOUT:?}; its log:\n{}",
            self.log()
        ))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(port: u16, data: &Path) -> String {
    format!(
        "tickTime=2000\n\
         initLimit=10\n\
         syncLimit=5\n\
         dataDir={}\n\
         clientPort={port}\n\
         clientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=*\n\
         forceSync=no\n\
         autopurge.purgeInterval=0\n",
        data.display()
    )
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local addr: {e}"))
}

/// Sends a four-letter command and returns the answer, or `None` if the server
/// does not answer.
fn four_letter(port: u16, cmd: &str) -> Option<String> {
    let addr = (Ipv4Addr::LOCALHOST, port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(cmd.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// CPU time (user + system) used so far by process `pid`, from /proc, in
/// nanoseconds (10 ms resolution).
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some((utime + stime) * 1_000_000_000 / hz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_cpu_time_is_read_from_proc() {
        // Spinning must make this process's CPU time, as read from /proc, grow by
        // 20 ms. The wall-clock bound only stops the loop if the reading never grows;
        // on a loaded machine the spin may take far longer than 20 ms of wall time.
        let me = std::process::id();
        let before = process_cpu_ns(me).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut x = 0u64;
        let mut now = before;
        while now < before + 20_000_000 && Instant::now() < deadline {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            now = process_cpu_ns(me).unwrap();
        }
        assert!(
            now >= before + 20_000_000,
            "cpu time did not grow: {before} -> {now}"
        );
        assert!(process_cpu_ns(u32::MAX).is_none());
    }
}
