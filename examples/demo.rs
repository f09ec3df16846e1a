//! The project's demo: three `api.user` instances register through service discovery,
//! a provider picks among them, three participants elect a leader; then the leader's
//! session is expired on purpose, and the demo prints, with timestamps, what a user of
//! the framework sees: SUSPENDED, LOST, RECONNECTED, the cache's ChildRemoved, the
//! re-registration and the leader failover.
//!
//! ```text
//! cargo run --example demo                               # starts a 3-server ensemble on loopback
//! cargo run --example demo -- --connect 127.0.0.1:2181   # uses your ensemble instead
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use zkit::prelude::*;

/// How long the demo waits for any one thing before it gives up.
const STEP_DEADLINE: Duration = Duration::from_secs(30);
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
const BASE_PATH: &str = "/demo/services";
const ELECTION: &str = "/demo/election";

/// What the background watchers report to the main flow.
#[derive(Debug)]
enum Seen {
    State(usize, ConnectionState),
    Cache(PathChildrenCacheEvent),
    Leadership(usize, LeadershipEvent),
}

/// One service process: its client, its registration and its election participant.
struct Service {
    client: Client,
    discovery: ServiceDiscovery,
    latch: LeaderLatch,
    instance_id: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .init();
    let t0 = Instant::now();
    let say = |msg: String| println!("[{:>7.3}s] {msg}", t0.elapsed().as_secs_f64());

    let args: Vec<String> = std::env::args().collect();
    let connect = args
        .iter()
        .position(|a| a == "--connect")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let cluster = match &connect {
        Some(_) => None,
        None => {
            say("starting a 3-server ZooKeeper ensemble on 127.0.0.1 ...".into());
            let c = zk_testing::TestingCluster::start(3).await?;
            say(format!(
                "ensemble serving after {:?}: {}",
                c.startup_time(),
                c.connect_string()
            ));
            Some(c)
        }
    };
    let hosts = match (&connect, &cluster) {
        (Some(h), _) => h.clone(),
        (None, Some(c)) => c.connect_string(),
        (None, None) => unreachable!("either --connect or an embedded ensemble"),
    };

    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut services = Vec::new();
    for i in 0..3 {
        let client = Client::builder()
            .connect_string(hosts.clone())
            .session_timeout(SESSION_TIMEOUT)
            .connection_timeout(Duration::from_secs(10))
            .build()?;
        client.block_until_connected(STEP_DEADLINE).await?;
        forward(client.connection_states(), seen_tx.clone(), move |s| {
            Seen::State(i, s)
        });
        let instance = ServiceInstance::builder()
            .name("api.user")
            .address("127.0.0.1")
            .port(8080 + i as u16)
            .build()?;
        let instance_id = instance.id().to_string();
        let discovery = ServiceDiscovery::builder()
            .client(client.clone())
            .base_path(BASE_PATH)
            .this_instance(instance)
            .build()?;
        discovery.start().await?;
        let latch = LeaderLatch::new(client.clone(), ELECTION, format!("node-{i}"));
        forward(latch.events(), seen_tx.clone(), move |e| {
            Seen::Leadership(i, e)
        });
        latch.start().await?;
        say(format!(
            "service {i}: session {:#x}, registered api.user:{} as {instance_id}",
            client.session_id(),
            8080 + i
        ));
        services.push(Service {
            client,
            discovery,
            latch,
            instance_id,
        });
    }

    // Another process watches the registrations and picks instances.
    let observer = Client::builder().connect_string(hosts.clone()).build()?;
    let cache = PathChildrenCache::builder(observer.clone(), format!("{BASE_PATH}/api.user"))
        .start_mode(StartMode::BuildInitialCache)
        .build();
    forward(cache.events(), seen_tx.clone(), Seen::Cache);
    cache.start().await?;
    say(format!(
        "observer's cache holds {} instances",
        cache.current_data().len()
    ));
    let lookup = ServiceDiscovery::<serde_json::Value>::builder()
        .client(observer.clone())
        .base_path(BASE_PATH)
        .build()?;
    lookup.start().await?;
    let provider = lookup
        .service_provider("api.user")
        .strategy(RoundRobin::default())
        .build()
        .await?;
    let picks: Vec<String> = (0..4)
        .filter_map(|_| provider.get_instance())
        .map(|i| format!(":{}", i.port().unwrap_or(0)))
        .collect();
    say(format!(
        "provider (round robin, from memory) picks {}",
        picks.join(" ")
    ));

    let leader = wait_for(&mut seen, &say, |s| {
        matches!(s, Seen::Leadership(_, LeadershipEvent::IsLeader(_)))
    })
    .await?;
    let Seen::Leadership(leader, _) = leader else {
        unreachable!("matched above")
    };
    let participants = services[leader].latch.get_participants().await?;
    say(format!(
        "service {leader} leads; participants in order: {}",
        participants
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    let victim = &services[leader];
    let old_session = victim.client.session_id();
    say(format!(
        "expiring service {leader}'s session {old_session:#x} (as if its machine slept past the timeout)"
    ));
    zk_testing::expire_session(
        &hosts,
        old_session,
        &victim.client.session().session_password(),
    )
    .await?;

    // Now the story, in the order it happens. Each step waits for its event.
    let mut removed = false;
    let mut re_added = false;
    let mut new_leader = None;
    let mut states = Vec::new();
    let deadline = Instant::now() + STEP_DEADLINE;
    while !(removed
        && re_added
        && new_leader.is_some()
        && states.ends_with(&[ConnectionState::Reconnected]))
    {
        let event = tokio::time::timeout_at(deadline.into(), seen.recv())
            .await?
            .ok_or("watchers stopped")?;
        match event {
            Seen::State(i, s) if i == leader => {
                states.push(s);
                say(format!("service {i} connection: {s:?}"));
            }
            Seen::Cache(PathChildrenCacheEvent::ChildRemoved(c))
                if c.path.ends_with(&victim.instance_id) =>
            {
                removed = true;
                say(format!("observer cache: ChildRemoved {}", c.path));
            }
            Seen::Cache(PathChildrenCacheEvent::ChildAdded(c))
                if c.path.ends_with(&victim.instance_id) =>
            {
                re_added = true;
                say(format!(
                    "observer cache: ChildAdded {} (re-registered, owner {:#x})",
                    c.path, c.stat.ephemeral_owner
                ));
            }
            Seen::Leadership(i, e) => {
                say(format!("service {i} leadership: {e:?}"));
                if i != leader && matches!(e, LeadershipEvent::IsLeader(_)) {
                    new_leader = Some(i);
                }
            }
            other => say(format!("(also seen: {other:?})")),
        }
    }
    let instances = lookup.query_for_instances("api.user").await?;
    say(format!(
        "done: service {leader} has new session {:#x}; {} api.user instances registered; service {} leads now",
        victim.client.session_id(),
        instances.len(),
        new_leader.unwrap_or(leader)
    ));

    provider.close().await;
    lookup.close().await?;
    cache.close().await;
    for s in services {
        s.latch.close().await?;
        s.discovery.close().await?;
        s.client.close().await;
    }
    observer.close().await;
    drop(cluster);
    say("closed everything".into());
    Ok(())
}

/// Forwards every item of `stream` to `tx`, tagged by `tag`, from a task of its own.
fn forward<S, T>(
    stream: S,
    tx: mpsc::UnboundedSender<Seen>,
    tag: impl Fn(T) -> Seen + Send + 'static,
) where
    S: futures::Stream<Item = T> + Send + Unpin + 'static,
    T: Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = stream;
        while let Some(item) = stream.next().await {
            if tx.send(tag(item)).is_err() {
                return;
            }
        }
    });
}

/// Waits for the first event that `want` accepts, printing nothing for the others.
async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    _say: &impl Fn(String),
    want: impl Fn(&Seen) -> bool,
) -> Result<Seen, Box<dyn Error>> {
    let deadline = tokio::time::Instant::now() + STEP_DEADLINE;
    loop {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await?
            .ok_or("watchers stopped")?;
        if want(&event) {
            return Ok(event);
        }
    }
}
