//! The seeds' scenario: the project's headline integration tests, on a real 3-server
//! ZooKeeper ensemble.
//!
//! A service registered through `ServiceDiscovery`, watched by a `PathChildrenCache`
//! on another client, must stay registered exactly once through whatever befalls its
//! session: its server pausing past the session timeout, an injected expiry, someone
//! deleting its node, and its own server (a follower) being killed. Three
//! `LeaderLatch` participants must never have two leaders at once, and a leader cut
//! off from the ensemble must have stepped down before the next one leads.
//!
//! Every wait is on an event with a generous deadline; the only fixed waits are the
//! quiet windows in which "nothing else happens" is asserted. Each test prints how long
//! its scenarios took (`cargo test --test seeds_scenario -- --nocapture`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use tokio::time::{Instant, timeout};
use zk_testing::{Proxy, ServerConfig, ServerMode, TestingCluster};
use zkit::zk_core::path::join;
use zkit::zk_core::{Client, ConnectionState, ConnectionStates, Stat};
use zkit::zk_recipes::{
    CacheEvents, ChildData, JsonInstanceSerializer, LeaderLatch, LeadershipEvent, LeadershipEvents,
    Participant, PathChildrenCache, PathChildrenCacheEvent, ServiceDiscovery, ServiceInstance,
    StartMode,
};
use zkit::zk_retry::ExponentialBackoffRetry;

/// The session timeout every client asks for (and the servers grant).
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// A generous bound for anything awaited.
const DEADLINE: Duration = Duration::from_secs(30);
/// The quiet window in which no further event may arrive.
const SETTLE: Duration = Duration::from_secs(2);
/// How long the sampler of the leader test may run at most.
const SAMPLER_LIMIT: Duration = Duration::from_secs(120);
/// How long an ensemble may take to start on a busy machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the sampler reads every participant's leadership flag.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// Servers with a short tick whose session limits bracket [`SESSION_TIMEOUT`], so a
/// session really ends a few seconds after its client goes silent.
fn server_config() -> ServerConfig {
    ServerConfig::builder()
        .tick_time(Duration::from_millis(100))
        .session_timeouts(Duration::from_secs(1), Duration::from_secs(6))
        .startup_timeout(STARTUP_TIMEOUT)
        .build()
        .expect("valid server config")
}

/// One ensemble at a time: the tests of this file run on parallel threads, and two
/// ensembles starting and running side by side on a small machine stretch startup and
/// session timing for no gain. Hold the guard for the whole test.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

async fn ensemble() -> TestingCluster {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    TestingCluster::start_with(3, server_config())
        .await
        .expect("the ensemble starts")
}

/// A connected client with the tests' short session timeout.
async fn client(connect_string: &str) -> Client {
    let client = Client::builder()
        .connect_string(connect_string)
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(Duration::from_secs(5))
        .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(100), 5))
        .build()
        .expect("client config");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("the client connects");
    client
}

/// Waits for `want` on a connection-state stream, skipping the states before it;
/// returns the states seen on the way, `want` included.
async fn wait_for_state(
    states: &mut ConnectionStates,
    want: ConnectionState,
) -> Vec<ConnectionState> {
    let mut seen = Vec::new();
    timeout(DEADLINE, async {
        while let Some(state) = states.next().await {
            seen.push(state);
            if state == want {
                return;
            }
        }
        panic!("the client closed before {want:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {want:?} within {DEADLINE:?}; saw {seen:?}"));
    seen
}

/// The items a stream holds ready now, without waiting.
fn pending<S: futures::Stream + Unpin>(stream: &mut S) -> Vec<S::Item> {
    let mut ready = Vec::new();
    while let Some(Some(item)) = stream.next().now_or_never() {
        ready.push(item);
    }
    ready
}

/// The child events (added, updated, removed) of a cache's stream; the watching
/// client's own connection events are skipped.
fn child_event(event: PathChildrenCacheEvent) -> Option<PathChildrenCacheEvent> {
    match event {
        PathChildrenCacheEvent::ChildAdded(_)
        | PathChildrenCacheEvent::ChildUpdated(_)
        | PathChildrenCacheEvent::ChildRemoved(_) => Some(event),
        _ => None,
    }
}

/// The next child event, within [`DEADLINE`].
async fn next_child_event(
    events: &mut CacheEvents<PathChildrenCacheEvent>,
) -> PathChildrenCacheEvent {
    timeout(DEADLINE, async {
        while let Some(event) = events.next().await {
            if let Some(event) = child_event(event) {
                return event;
            }
        }
        panic!("the cache's event stream ended");
    })
    .await
    .expect("a child event within the deadline")
}

async fn expect_removed(events: &mut CacheEvents<PathChildrenCacheEvent>, path: &str) -> ChildData {
    match next_child_event(events).await {
        PathChildrenCacheEvent::ChildRemoved(child) if child.path == path => child,
        other => panic!("expected ChildRemoved of {path}, got {other:?}"),
    }
}

async fn expect_added(events: &mut CacheEvents<PathChildrenCacheEvent>, path: &str) -> ChildData {
    match next_child_event(events).await {
        PathChildrenCacheEvent::ChildAdded(child) if child.path == path => child,
        other => panic!("expected ChildAdded of {path}, got {other:?}"),
    }
}

/// Every child event that arrives within `window`.
async fn child_events_during(
    events: &mut CacheEvents<PathChildrenCacheEvent>,
    window: Duration,
) -> Vec<PathChildrenCacheEvent> {
    let end = Instant::now() + window;
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout_at(end, events.next()).await {
        seen.extend(child_event(event));
    }
    seen
}

/// What the ensemble holds for the instance: exactly one child under the service's
/// path, the instance's node, with the instance's JSON. Returns its stat.
async fn registered_once(
    observer: &Client,
    service_path: &str,
    instance: &ServiceInstance,
) -> Stat {
    let children = observer
        .get_children(service_path)
        .await
        .expect("list the service's instances");
    assert_eq!(
        children,
        vec![instance.id().to_string()],
        "exactly one node for the instance"
    );
    let (bytes, stat) = observer
        .get_data(&join(service_path, instance.id()))
        .await
        .expect("read the instance's node");
    let stored: ServiceInstance = JsonInstanceSerializer::new()
        .deserialize(&bytes)
        .expect("the node holds an instance's JSON");
    assert_eq!(&stored, instance, "the node holds the same instance");
    stat
}

/// The instance a cache event carries, parsed from its data.
fn instance_in(child: &ChildData) -> ServiceInstance {
    let bytes = child.data.as_ref().expect("the cache keeps data");
    JsonInstanceSerializer::new()
        .deserialize(bytes)
        .expect("the cached data is an instance's JSON")
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_stays_registered_once_through_pause_expiry_deletion_and_a_killed_follower() {
    let _one = one_at_a_time().await;
    let started = Instant::now();
    let mut cluster = ensemble().await;
    let ensemble_up = started.elapsed();
    let leader = cluster
        .wait_for_leader(DEADLINE)
        .await
        .expect("the ensemble has a leader");
    // The service's own server is a follower: pausing or killing it leaves a quorum
    // (the leader and the other follower) that goes on expiring sessions.
    let home = (0..3).find(|&i| i != leader).expect("two followers");
    let other = (0..3)
        .find(|&i| i != leader && i != home)
        .expect("two followers");
    let home_addr = cluster.server_connect_string(home).expect("home server");
    let others = format!(
        "{},{}",
        cluster.server_connect_string(leader).expect("leader"),
        cluster
            .server_connect_string(other)
            .expect("other follower"),
    );

    // The service's client knows its home server and one more address: a gate to the
    // other follower that stays shut (nothing listens) until the last scenario, so
    // until then the client can only ever talk to its home server.
    let gate = Proxy::start(cluster.client_addr(other).expect("other follower"))
        .await
        .expect("the gate starts");
    gate.cut().await;
    let service_client = client(&format!("{home_addr},{}", gate.connect_string())).await;
    let watcher = client(&others).await;
    let meddler = client(&others).await;

    let base = "/seeds/discovery";
    let instance = ServiceInstance::builder()
        .name("api.seeds")
        .id("seed-1")
        .address("10.0.0.7")
        .port(8080)
        .payload(serde_json::json!({"zone": "eu-1"}))
        .build()
        .expect("a valid instance");
    let service_path = join(base, instance.name());
    let node_path = join(&service_path, instance.id());

    let discovery = ServiceDiscovery::builder()
        .client(service_client.clone())
        .base_path(base)
        .this_instance(instance.clone())
        .build()
        .expect("a valid discovery");
    discovery.start().await.expect("the service registers");

    let cache = PathChildrenCache::builder(watcher.clone(), service_path.clone())
        .start_mode(StartMode::BuildInitialCache)
        .build();
    let mut events = cache.events();
    cache.start().await.expect("the cache starts");
    let cached = cache.current_data();
    assert_eq!(
        cached.len(),
        1,
        "the cache starts with the instance: {cached:?}"
    );
    assert_eq!(cached[0].path, node_path);
    let first_session = service_client.session_id();
    assert_eq!(cached[0].stat.ephemeral_owner, first_session);
    registered_once(&watcher, &service_path, &instance).await;
    let mut states = service_client.connection_states();

    // 1. The home server pauses past the session timeout, then resumes.
    let t = Instant::now();
    cluster.pause(home).expect("pause the home server");
    let removed = expect_removed(&mut events, &node_path).await;
    let paused_to_removed = t.elapsed();
    assert_eq!(removed.stat.ephemeral_owner, first_session);
    wait_for_state(&mut states, ConnectionState::Lost).await;
    let paused_for = t.elapsed();
    assert!(
        paused_for >= SESSION_TIMEOUT,
        "the client gave up its session only after the session timeout ({paused_for:?})"
    );
    cluster.resume(home).expect("resume the home server");
    let added = expect_added(&mut events, &node_path).await;
    let paused_to_added = t.elapsed();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    let second_session = service_client.session_id();
    assert_ne!(second_session, first_session, "a new session after expiry");
    assert_eq!(added.stat.ephemeral_owner, second_session);
    assert_eq!(instance_in(&added), instance);
    let quiet = child_events_during(&mut events, SETTLE).await;
    assert!(
        quiet.is_empty(),
        "registered again exactly once, then nothing: {quiet:?}"
    );
    let stat = registered_once(&watcher, &service_path, &instance).await;
    assert_eq!(stat.ephemeral_owner, second_session);
    let pause_total = t.elapsed();

    // 2. An injected expiry: the same outcome.
    let t = Instant::now();
    let session = service_client.session();
    zk_testing::expire_session(&others, session.session_id(), &session.session_password())
        .await
        .expect("expire the service's session");
    let removed = expect_removed(&mut events, &node_path).await;
    assert_eq!(removed.stat.ephemeral_owner, second_session);
    let added = expect_added(&mut events, &node_path).await;
    let expiry_to_added = t.elapsed();
    let seen = wait_for_state(&mut states, ConnectionState::Reconnected).await;
    assert!(
        seen.contains(&ConnectionState::Lost),
        "the client saw its session end: {seen:?}"
    );
    let third_session = service_client.session_id();
    assert_ne!(third_session, second_session, "a new session after expiry");
    assert_eq!(added.stat.ephemeral_owner, third_session);
    assert_eq!(instance_in(&added), instance);
    let quiet = child_events_during(&mut events, SETTLE).await;
    assert!(
        quiet.is_empty(),
        "registered again exactly once, then nothing: {quiet:?}"
    );
    let stat = registered_once(&watcher, &service_path, &instance).await;
    assert_eq!(stat.ephemeral_owner, third_session);
    let expiry_total = t.elapsed();

    // 3. Someone deletes the node: it is created again, on the same session.
    let t = Instant::now();
    meddler
        .delete(&node_path)
        .await
        .expect("delete the instance's node");
    let removed = expect_removed(&mut events, &node_path).await;
    assert_eq!(removed.stat.ephemeral_owner, third_session);
    let added = expect_added(&mut events, &node_path).await;
    let deleted_to_added = t.elapsed();
    assert_eq!(
        added.stat.ephemeral_owner, third_session,
        "the same session"
    );
    assert_ne!(added.stat.czxid, removed.stat.czxid, "a new node");
    assert_eq!(instance_in(&added), instance);
    let quiet = child_events_during(&mut events, SETTLE).await;
    assert!(
        quiet.is_empty(),
        "created again exactly once, then nothing: {quiet:?}"
    );
    let stat = registered_once(&watcher, &service_path, &instance).await;
    assert_eq!(stat.ephemeral_owner, third_session);
    assert_eq!(
        service_client.session_id(),
        third_session,
        "no session change"
    );
    let meanwhile = pending(&mut states);
    assert!(
        !meanwhile.contains(&ConnectionState::Lost),
        "the session was never lost: {meanwhile:?}"
    );
    let deletion_total = t.elapsed();

    // 4. The home server, a follower, is killed: the client fails over to the other
    // follower within the session timeout and nothing is removed.
    assert_eq!(
        cluster.mode(home).await.expect("ask the home server"),
        Some(ServerMode::Follower),
        "the home server is still a follower"
    );
    let before = stat;
    gate.heal().await.expect("open the gate");
    let t = Instant::now();
    cluster.kill(home).expect("kill the home server");
    let seen = wait_for_state(&mut states, ConnectionState::Reconnected).await;
    let failover = t.elapsed();
    assert!(
        seen.ends_with(&[ConnectionState::Suspended, ConnectionState::Reconnected])
            && !seen.contains(&ConnectionState::Lost),
        "suspended, then reconnected on the same session: {seen:?}"
    );
    assert!(
        failover < SESSION_TIMEOUT,
        "failed over within the session timeout ({failover:?})"
    );
    assert_eq!(
        service_client.session_id(),
        third_session,
        "the same session"
    );
    let watch_for = (SESSION_TIMEOUT + SETTLE).saturating_sub(t.elapsed());
    let quiet = child_events_during(&mut events, watch_for).await;
    assert!(quiet.is_empty(), "nothing removed or re-created: {quiet:?}");
    let after = registered_once(&watcher, &service_path, &instance).await;
    assert_eq!(
        after.ephemeral_owner, third_session,
        "owned by the same session"
    );
    assert_eq!(after.czxid, before.czxid, "the very same node");
    let kill_total = t.elapsed();

    cache.close().await;
    discovery.close().await.expect("unregister");
    // The watcher may sit on another server, not yet up to date: sync it first.
    watcher.sync(&node_path).await.expect("sync");
    assert_eq!(
        watcher.exists(&node_path).await.expect("exists"),
        None,
        "closing the discovery removed the node"
    );
    for c in [&service_client, &watcher, &meddler] {
        c.close().await;
    }
    println!(
        "seeds discovery timings: ensemble up {}; pause: removed after {}, re-added after {}, \
         scenario {}; injected expiry: re-added after {}, scenario {}; deletion: re-created \
         after {}, scenario {}; killed follower: failover {}, scenario {}; test {}",
        millis(ensemble_up),
        millis(paused_to_removed),
        millis(paused_to_added),
        millis(pause_total),
        millis(expiry_to_added),
        millis(expiry_total),
        millis(deleted_to_added),
        millis(deletion_total),
        millis(failover),
        millis(kill_total),
        millis(started.elapsed()),
    );
}

/// What the sampler saw: how many samples, the most leaders at once, and how many
/// samples found each participant leading.
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    most_leaders: usize,
    leading: [usize; 3],
}

/// Reads every participant's `has_leadership()` every [`SAMPLE_EVERY`] until `stop`
/// (or [`SAMPLER_LIMIT`]), and fails at once if two lead in one sample.
async fn sample(latches: [Arc<LeaderLatch>; 3], stop: Arc<AtomicBool>) -> Samples {
    let mut samples = Samples::default();
    let end = Instant::now() + SAMPLER_LIMIT;
    while !stop.load(Ordering::Acquire) && Instant::now() < end {
        let flags: Vec<bool> = latches.iter().map(|l| l.has_leadership()).collect();
        let leaders = flags.iter().filter(|&&f| f).count();
        assert!(leaders <= 1, "two leaders at once: {flags:?}");
        samples.taken += 1;
        samples.most_leaders = samples.most_leaders.max(leaders);
        for (count, &flag) in samples.leading.iter_mut().zip(&flags) {
            *count += usize::from(flag);
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    samples
}

async fn next_leadership(events: &mut LeadershipEvents) -> LeadershipEvent {
    timeout(DEADLINE, events.next())
        .await
        .expect("a leadership event within the deadline")
        .expect("the latch is open")
}

async fn has_node(latch: &LeaderLatch) {
    let end = Instant::now() + DEADLINE;
    while latch.our_path().is_none() {
        assert!(Instant::now() < end, "{} never got a node", latch.id());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn participant(id: &str, is_leader: bool) -> Participant {
    Participant {
        id: id.to_string(),
        is_leader,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_at_a_time_and_a_cut_off_leader_steps_down_before_the_next_leads() {
    let _one = one_at_a_time().await;
    let started = Instant::now();
    let cluster = ensemble().await;
    let ensemble_up = started.elapsed();
    // Each participant's client reaches the ensemble through its own proxy, in front
    // of its own server, so one of them can be cut off alone.
    let mut proxies = Vec::new();
    let mut clients = Vec::new();
    for i in 0..3 {
        let proxy = Proxy::start(cluster.client_addr(i).expect("server"))
            .await
            .expect("the proxy starts");
        clients.push(client(&proxy.connect_string()).await);
        proxies.push(proxy);
    }
    let path = "/seeds/election";
    let ids = ["alpha", "beta", "gamma"];
    let latches: [Arc<LeaderLatch>; 3] =
        std::array::from_fn(|i| Arc::new(LeaderLatch::new(clients[i].clone(), path, ids[i])));
    let mut events: Vec<LeadershipEvents> = latches.iter().map(|l| l.events()).collect();
    let [alpha, beta, gamma] = latches.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample(latches.clone(), stop.clone()));

    // Two participants: the first leads, the second queues.
    let t = Instant::now();
    alpha.start().await.expect("alpha joins");
    let alpha_token = match next_leadership(&mut events[0]).await {
        LeadershipEvent::IsLeader(token) => token,
        other => panic!("alpha should lead, got {other:?}"),
    };
    let first_leader = t.elapsed();
    beta.start().await.expect("beta joins");
    has_node(&beta).await;
    // A third joins mid-way and queues behind them.
    gamma.start().await.expect("gamma joins");
    has_node(&gamma).await;
    assert_eq!(
        beta.get_participants().await.expect("participants"),
        vec![
            participant("alpha", true),
            participant("beta", false),
            participant("gamma", false)
        ]
    );
    assert!(alpha.has_leadership() && !beta.has_leadership() && !gamma.has_leadership());

    // Whatever happened so far (a connection that wavered on a busy machine, say),
    // alpha leads now and nobody else ever did.
    pending(&mut events[0]);
    for (i, queued) in events.iter_mut().enumerate().skip(1) {
        let seen = pending(queued);
        assert!(
            !seen
                .iter()
                .any(|e| matches!(e, LeadershipEvent::IsLeader(_))),
            "{} never led: {seen:?}",
            ids[i]
        );
    }
    assert!(alpha.has_leadership());

    // Alpha's connection is cut: it steps down at once (SUSPENDED), its session ends
    // on the ensemble a session timeout later, and only then does beta lead.
    let t = Instant::now();
    proxies[0].cut().await;
    assert_eq!(
        next_leadership(&mut events[0]).await,
        LeadershipEvent::NotLeader
    );
    let stepped_down = t.elapsed();
    assert!(!alpha.has_leadership());
    let beta_token = match next_leadership(&mut events[1]).await {
        LeadershipEvent::IsLeader(token) => {
            assert!(
                !alpha.has_leadership(),
                "the old leader had dropped leadership when the new one took it"
            );
            token
        }
        other => panic!("beta should lead next, got {other:?}"),
    };
    let new_leader = t.elapsed();
    assert!(
        stepped_down < new_leader,
        "alpha stepped down ({stepped_down:?}) before beta led ({new_leader:?})"
    );
    assert!(
        beta_token > alpha_token,
        "a later leadership, a larger token"
    );
    assert!(beta.has_leadership() && !gamma.has_leadership());
    assert_eq!(pending(&mut events[2]), [], "gamma never led");

    // Alpha comes back: on a new session it queues again, last.
    let t = Instant::now();
    proxies[0].heal().await.expect("heal alpha's proxy");
    let end = Instant::now() + DEADLINE;
    let want = vec![
        participant("beta", true),
        participant("gamma", false),
        participant("alpha", false),
    ];
    loop {
        let now = beta.get_participants().await.expect("participants");
        if now == want {
            break;
        }
        assert!(Instant::now() < end, "alpha never queued again: {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rejoined = t.elapsed();
    assert!(beta.has_leadership() && !alpha.has_leadership() && !gamma.has_leadership());
    let alpha_since = pending(&mut events[0]);
    assert!(
        !alpha_since
            .iter()
            .any(|e| matches!(e, LeadershipEvent::IsLeader(_))),
        "alpha did not lead again: {alpha_since:?}"
    );

    stop.store(true, Ordering::Release);
    let samples = sampler.await.expect("the sampler ran to the end");
    assert_eq!(
        samples.most_leaders, 1,
        "someone led while sampled: {samples:?}"
    );
    assert!(
        samples.leading[0] > 0 && samples.leading[1] > 0 && samples.leading[2] == 0,
        "the sampler saw alpha lead, then beta, never gamma: {samples:?}"
    );
    for latch in [&alpha, &beta, &gamma] {
        latch.close().await.expect("leave the election");
    }
    for c in &clients {
        c.close().await;
    }
    println!(
        "seeds leader timings: ensemble up {}; first leader after {}; cut: old leader stepped \
         down after {}, new leader after {}; healed: old leader queued again after {}; \
         {} samples, at most {} leader; test {}",
        millis(ensemble_up),
        millis(first_leader),
        millis(stepped_down),
        millis(new_leader),
        millis(rejoined),
        samples.taken,
        samples.most_leaders,
        millis(started.elapsed()),
    );
}
