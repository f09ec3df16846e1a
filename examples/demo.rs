//! The project's demo. Until the recipes exist it shows the ground everything stands on: a real
//! ZooKeeper ensemble on loopback, started through `zk-testing`, and what it costs to start.
//!
//! ```text
//! cargo run --example demo
//! ```

use std::error::Error;
use std::time::Duration;

use zk_testing::{TestingCluster, TestingServer, four_letter_word};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    println!("Starting a standalone ZooKeeper server...");
    let server = TestingServer::start().await?;
    println!(
        "  {} (pid {}) answered ruok with `{}` after {:?}",
        server.connect_string(),
        server.pid().unwrap_or_default(),
        four_letter_word(server.addr(), "ruok").await?,
        server.startup_time()
    );
    drop(server);

    println!("Starting a 3-server ensemble...");
    let mut cluster = TestingCluster::start(3).await?;
    println!("  serving after {:?}", cluster.startup_time());
    println!("  connect string: {}", cluster.connect_string());
    let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
    print_state(&cluster, leader).await?;

    println!("Killing the leader (server {leader})...");
    cluster.kill(leader)?;
    let new_leader = cluster.wait_for_leader(Duration::from_secs(60)).await?;
    println!("  server {new_leader} leads now");
    println!("Restarting server {leader} on its old ports...");
    cluster.restart(leader).await?;
    let leader = cluster.wait_for_leader(Duration::from_secs(30)).await?;
    print_state(&cluster, leader).await?;

    println!("Done: dropping the ensemble stops every server and removes its data.");
    Ok(())
}

async fn print_state(cluster: &TestingCluster, leader: usize) -> Result<(), Box<dyn Error>> {
    println!("  leader: server {leader}");
    for i in 0..cluster.len() {
        let mode = match cluster.mode(i).await? {
            Some(mode) => mode.to_string(),
            None => "not serving".to_owned(),
        };
        println!(
            "  server {i}: client port {}, pid {}, {mode}",
            cluster.client_port(i)?,
            cluster
                .pid(i)?
                .map_or_else(|| "-".to_owned(), |p| p.to_string()),
        );
    }
    Ok(())
}
