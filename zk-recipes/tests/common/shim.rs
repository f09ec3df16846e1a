//! TEMPORARY stand-in for `zk_testing::TestingServer` until branch `testing` lands:
//! one standalone ZooKeeper 3.8 on a free loopback port. Same method names, so the
//! switch is one `use` line.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestingServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TestingServer {
    pub async fn start() -> std::io::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir =
            std::env::temp_dir().join(format!("zk-recipes-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data"))?;
        let cfg = format!(
            "tickTime=100\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nminSessionTimeout=200\nmaxSessionTimeout=60000\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg)?;
        let child = Command::new("java")
            .arg("-Xmx256m")
            .arg("-cp")
            .arg("/usr/share/java/zookeeper.jar")
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(dir.join("zoo.cfg"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = TestingServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if ruok(port) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(std::io::Error::other("server did not start"))
    }

    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pause(&mut self) -> std::io::Result<()> {
        signal(self.child.id(), libc::SIGSTOP)
    }

    pub fn resume(&mut self) -> std::io::Result<()> {
        signal(self.child.id(), libc::SIGCONT)
    }
}

fn signal(pid: u32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill(2) on the pid of a child this handle owns and has not reaped.
    let r = unsafe { libc::kill(pid as i32, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn ruok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"ruok").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out == "imok"
}

impl Drop for TestingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
