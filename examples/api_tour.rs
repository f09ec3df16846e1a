//! Every call of DESIGN.md's example, in order, against a real server: this file
//! keeps the public contract compiled, and running it shows each call working.
//!
//! ```text
//! cargo run --example api_tour                      # starts its own ZooKeeper server
//! cargo run --example api_tour -- --connect HOST:PORT[,...]
//! ```

use std::error::Error;
use std::time::Duration;

use futures::StreamExt;
use zkit::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let connect = args
        .iter()
        .position(|a| a == "--connect")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // Without --connect, run against a server of our own (dropped, and so stopped, at the end).
    let server = match connect {
        Some(_) => None,
        None => Some(zk_testing::TestingServer::start().await?),
    };
    let hosts = connect.unwrap_or_else(|| {
        server
            .as_ref()
            .map(|s| s.connect_string())
            .unwrap_or_default()
    });

    let client = Client::builder()
        .connect_string(format!("{hosts}/myapp")) // host list + optional chroot
        .session_timeout(Duration::from_secs(60)) // Curator's defaults: 60 s session, 15 s connection
        .connection_timeout(Duration::from_secs(15))
        .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(1000), 3))
        .build()?; // connects in the background
    let mut states = client.connection_states(); // a Stream of ConnectionState
    client
        .block_until_connected(Duration::from_secs(15))
        .await?;
    println!("state: {:?}", states.next().await);

    // The chroot must exist before the client can use it: make it from a plain client.
    let root = Client::builder().connect_string(hosts.clone()).build()?;
    root.create("/myapp", b"").idempotent().await?;
    root.close().await;

    let created = client
        .create("/workers/w-", b"payload")
        .mode(CreateMode::EphemeralSequential)
        .protected() // "_c_<uuid>-" prefix: safe to retry after ConnectionLoss
        .create_parents()
        .await?; // -> the created path
    println!("created {created}");
    client.create("/config", b"v1").idempotent().await?;
    let (data, stat) = client.get_data("/config").await?;
    println!(
        "/config = {:?} (version {})",
        String::from_utf8_lossy(&data),
        stat.version
    );
    let stat = client
        .set_data("/config", b"v2")
        .version(stat.version)
        .await?;
    println!("/config is at version {}", stat.version);
    let children: Vec<String> = client.get_children("/workers").await?;
    println!("workers: {children:?}");
    let maybe: Option<Stat> = client.exists(&created).await?;
    println!("exists: {}", maybe.is_some());
    client.create("/workers/w-1", b"").await?;
    client.delete("/workers/w-1").guaranteed().await?; // keeps trying in the background after ConnectionLoss
    let (data, stat, changed) = client.get_data("/config").watched().await?; // one-shot watch
    client
        .set_data("/config", b"v3")
        .version(stat.version)
        .await?;
    let event = changed.await?; // a WatchedEvent (or the session's end)
    println!(
        "watch saw {:?} on {} (data was {:?})",
        event.event_type,
        event.path,
        String::from_utf8_lossy(&data)
    );
    let mut tree = client
        .watch("/config", AddWatchMode::PersistentRecursive)
        .await?; // a Stream
    client.set_data("/config", b"v4").await?;
    println!("persistent watch: {:?}", tree.next().await);
    client.create("/a", b"").idempotent().await?;
    client.create("/c", b"").idempotent().await?;
    let (_, a) = client.get_data("/a").await?;
    let results = client
        .transaction()
        .check("/a", a.version)
        .create("/b", b"")
        .delete("/c")
        .await?;
    println!("transaction: {results:?}");

    let discovery = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path("/services")
        .this_instance(
            ServiceInstance::builder()
                .name("api.user")
                .address("10.0.0.7")
                .port(8080)
                .build()?,
        )
        .build()?;
    discovery.start().await?; // registers, and re-registers after session loss
    let provider = discovery
        .service_provider("api.user")
        .strategy(RoundRobin::default())
        .build()
        .await?;
    let instance = provider.get_instance(); // from an in-memory cache, no round trip
    println!(
        "provider picked {:?}",
        instance.map(|i| format!("{}:{:?}", i.address().unwrap_or("?"), i.port()))
    );

    let cache = PathChildrenCache::builder(client.clone(), "/services/api.user")
        .cache_data(true)
        .build();
    let mut events = cache.events(); // ChildAdded, ChildUpdated, ChildRemoved,
    cache.start().await?; // ConnectionSuspended, ConnectionReconnected,
    // ConnectionLost, Initialized
    println!(
        "cache event: {:?}",
        tokio::time::timeout(Duration::from_secs(10), events.next()).await?
    );

    let latch = LeaderLatch::new(client.clone(), "/election/scheduler", "node-1");
    latch.start().await?;
    latch.await_leadership().await?; // has_leadership() drops at SUSPENDED/LOST
    println!(
        "leader: {} (token {:?})",
        latch.has_leadership(),
        latch.fencing_token()
    );

    let mutex = InterProcessMutex::new(client.clone(), "/locks/orders");
    let guard = mutex.acquire().await?; // waits without bound
    let token: FencingToken = guard.fencing_token(); // lock node's sequence and czxid
    // A second handle is another contender: it times out while the first holds.
    let other = InterProcessMutex::new(client.clone(), "/locks/orders");
    let maybe: Option<LockGuard> = other.acquire_timeout(Duration::from_millis(200)).await?;
    guard
        .transaction() // commits only while the lock is still ours
        .create("/orders-total", b"42")
        .await?;
    tokio::select! {
        _ = guard.lost() => println!("lock lost"), // SUSPENDED (standard policy) or LOST
        _ = tokio::time::sleep(Duration::from_millis(10)) => {}
    }
    println!(
        "lock held: {} (token {:?}), other got it: {}",
        guard.is_held(),
        token,
        maybe.is_some()
    );
    guard.release().await?; // also released in the background when dropped

    latch.close().await?;
    cache.close().await;
    provider.close().await;
    discovery.close().await?;
    client.close().await;
    println!("done");
    Ok(())
}
