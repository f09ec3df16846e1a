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
    let result = match ensemble {
        None => run_standalone().await,
        Some(n) => run_ensemble(n).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("zk-testing-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_standalone() -> Result<(), String> {
    let server = TestingServer::start().await.map_err(|e| e.to_string())?;
    println!(
        "server 0 pid {} port {} dir {}",
        server.pid().unwrap_or(0),
        server.port(),
        server.dir().display()
    );
    println!("connect {}", server.connect_string());
    println!("ready");
    wait_for_shutdown().await
}

async fn run_ensemble(n: usize) -> Result<(), String> {
    let cluster = TestingCluster::start(n).await.map_err(|e| e.to_string())?;
    for i in 0..cluster.len() {
        let pid = cluster.pid(i).map_err(|e| e.to_string())?;
        let port = cluster.client_port(i).map_err(|e| e.to_string())?;
        let dir = cluster.dir(i).map_err(|e| e.to_string())?;
        println!(
            "server {i} pid {} port {port} dir {}",
            pid.unwrap_or(0),
            dir.display()
        );
    }
    println!("connect {}", cluster.connect_string());
    println!("ready");
    wait_for_shutdown().await
}

/// Returns when stdin closes (how a parent process says "done"), on Ctrl-C, or on SIGTERM.
async fn wait_for_shutdown() -> Result<(), String> {
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
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
    Ok(())
}
