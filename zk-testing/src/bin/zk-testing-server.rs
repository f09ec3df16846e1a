//! `zk-testing-server`: start a throwaway ZooKeeper server (or ensemble) on loopback for manual
//! poking, and keep it until stdin closes or the process is interrupted.
//!
//! ```text
//! cargo run -p zk-testing --bin zk-testing-server              # one standalone server
//! cargo run -p zk-testing --bin zk-testing-server -- --ensemble 3
//! ```
//!
//! It prints one `server <i> pid <pid> port <port> dir <dir>` line per server, then
//! `connect <connect string>`, then `ready`. Its servers die with it, even on SIGKILL.

use std::process::ExitCode;

use tokio::signal::unix::{SignalKind, signal};
use zk_testing::{TestingCluster, TestingServer};

enum Servers {
    Standalone(Box<TestingServer>),
    Ensemble(TestingCluster),
}

fn parse_args() -> Result<Option<usize>, String> {
    let mut args = std::env::args().skip(1);
    let mut ensemble = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ensemble" => {
                let n = args
                    .next()
                    .ok_or("--ensemble needs a server count")?
                    .parse::<usize>()
                    .map_err(|e| format!("--ensemble: {e}"))?;
                ensemble = Some(n);
            }
            "-h" | "--help" => {
                return Err("usage: zk-testing-server [--ensemble N]".into());
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(ensemble)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let ensemble = match parse_args() {
        Ok(ensemble) => ensemble,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let started = match ensemble {
        None => TestingServer::start()
            .await
            .map(|s| Servers::Standalone(Box::new(s))),
        Some(n) => TestingCluster::start(n).await.map(Servers::Ensemble),
    };
    let servers = match started {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("zk-testing-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &servers {
        Servers::Standalone(server) => {
            println!(
                "server 0 pid {} port {} dir {}",
                server.pid().unwrap_or(0),
                server.port(),
                server.dir().display()
            );
            println!("connect {}", server.connect_string());
        }
        Servers::Ensemble(cluster) => {
            for i in 0..cluster.len() {
                let (Ok(pid), Ok(port), Ok(dir)) =
                    (cluster.pid(i), cluster.client_port(i), cluster.dir(i))
                else {
                    continue;
                };
                println!(
                    "server {i} pid {} port {port} dir {}",
                    pid.unwrap_or(0),
                    dir.display()
                );
            }
            println!("connect {}", cluster.connect_string());
        }
    }
    println!("ready");

    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zk-testing-server: cannot watch SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A plain thread reads stdin to its end; closing stdin is how a parent says "done".
    let (stdin_closed, closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = stdin_closed.send(());
    });
    tokio::select! {
        _ = closed => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    drop(servers);
    ExitCode::SUCCESS
}
