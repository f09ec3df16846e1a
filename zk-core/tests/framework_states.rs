//! Connection-state sequences of the framework `Client` on real servers: each fault
//! gives exactly Curator 5's sequence, in order, with nothing after it.

mod framework_common;

use std::time::Duration;

use framework_common::*;
use tokio::time::Instant;
use zk_core::{ConnectionState::*, CreateMode, Session, SessionConfig};
use zk_testing::{Proxy, TestingServer, expire_session};

/// The session timeout of the restart tests: a JVM restart fits in it easily.
const RESTART_SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Restarts `server` while `proxy` keeps its clients away from it. ZooKeeper 3.8
/// binds its port before it has loaded its database, and a connection arriving in
/// that window can be left open and silent (closing it fails on the missing
/// database); a client stuck on it waits its whole connect timeout (session timeout
/// / number of hosts, as the Java client does) and, with one host, loses its
/// session. The cut keeps that server bug out of these tests: the client returns
/// once the server serves.
async fn restart_behind(proxy: &Proxy, server: &mut TestingServer) {
    proxy.cut().await;
    server.restart().await.expect("server restarts");
    proxy.heal().await.expect("heal");
}

/// How much later than the client's own clock a test may notice a state: the
/// timestamps of a recorder are taken when it reads the state.
const SLACK: Duration = Duration::from_millis(50);

/// An ephemeral node of `client`'s session, to see whether the session still lives.
async fn ephemeral(client: &zk_core::Client, name: &str) -> String {
    client
        .create(&unique(name), b"")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("ephemeral created")
}

#[tokio::test]
async fn restart_within_session_timeout_is_suspended_then_reconnected_on_the_same_session() {
    let mut server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client =
        connect(builder(&proxy.connect_string()).session_timeout(RESTART_SESSION_TIMEOUT)).await;
    let mut states = States::of(&client);
    // The recorder was made after the connection: CONNECTED was already sent; a new
    // recorder must not see it again.
    let before = client.session_id();
    let node = ephemeral(&client, "restart").await;

    restart_behind(&proxy, &mut server).await;
    states.expect_seq(&[Suspended, Reconnected], SOON).await;
    states.expect_quiet(GRACE).await;

    assert_eq!(
        client.session_id(),
        before,
        "the session survived the restart"
    );
    let observer = client_of(&server).await;
    assert!(
        observer.exists(&node).await.unwrap().is_some(),
        "the ephemeral node of a surviving session stays"
    );
}

#[tokio::test]
async fn connected_is_sent_once_for_the_first_connection_only() {
    let mut server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let client = builder(&proxy.connect_string())
        .session_timeout(RESTART_SESSION_TIMEOUT)
        .build()
        .unwrap();
    // A current-thread runtime: the client cannot connect before the recorder exists.
    let mut states = States::of(&client);
    states.expect(Connected, SOON).await;
    for _ in 0..2 {
        restart_behind(&proxy, &mut server).await;
        states.expect_seq(&[Suspended, Reconnected], SOON).await;
    }
    states.expect_quiet(GRACE).await;
    assert!(!states.history().contains(&ReadOnly));
}

async fn client_of(server: &TestingServer) -> zk_core::Client {
    client(&server.connect_string()).await
}

#[tokio::test]
async fn pause_past_session_timeout_is_suspended_lost_reconnected_with_a_new_session() {
    let mut server = server().await;
    let client = client_of(&server).await;
    let mut states = States::of(&client);
    let old = client.session_id();
    let node = ephemeral(&client, "paused").await;
    let timeout = client.session().negotiated_timeout();

    server.pause().expect("server paused");
    states.expect(Suspended, SOON).await;
    // The client gives the session up itself: the server is frozen and says nothing.
    states.expect(Lost, timeout + SOON).await;
    server.resume().expect("server resumed");
    states.expect(Reconnected, SOON).await;
    states.expect_quiet(GRACE).await;

    let new = client.session_id();
    assert_ne!(new, old, "a new session after LOST");
    let observer = client_of(&server).await;
    // The server expires the old session once it runs again.
    wait_gone(&observer, &node, timeout * 3).await;
    // The new session works.
    ephemeral(&client, "after").await;
}

#[tokio::test]
async fn injected_expiry_is_suspended_lost_reconnected() {
    let server = server().await;
    let client = client_of(&server).await;
    let mut states = States::of(&client);
    let old = client.session();
    let node = ephemeral(&client, "expired").await;

    expire_session(
        &server.connect_string(),
        old.session_id(),
        &old.session_password(),
    )
    .await
    .expect("session expired on purpose");
    states
        .expect_seq(&[Suspended, Lost, Reconnected], SOON)
        .await;
    states.expect_quiet(GRACE).await;

    assert_ne!(client.session_id(), old.session_id());
    let observer = client_of(&server).await;
    assert!(observer.exists(&node).await.unwrap().is_none());
}

/// A blackhole leaves the client hearing nothing: it suspends at its read timeout
/// and declares the session LOST one negotiated session timeout later, on its own.
/// To prove that LOST is the client's decision and not news from the server, a
/// second connection keeps the very same session alive on the server meanwhile:
/// when LOST arrives, the session and its ephemeral node still exist there.
#[tokio::test]
async fn blackhole_past_session_timeout_client_declares_lost_while_server_keeps_the_session() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy starts");
    let client = framework_common::client(&proxy.connect_string()).await;
    let observer = client_of(&server).await;
    let mut states = States::of(&client);
    let old = client.session();
    let node = ephemeral(&client, "blackholed").await;
    let negotiated = old.negotiated_timeout();
    let read_timeout = negotiated * 2 / 3;
    let ping_interval = read_timeout / 2;

    proxy.blackhole().await.expect("blackhole");
    let cut_at = Instant::now();
    let suspended_at = states.expect(Suspended, SOON).await;
    let silent = suspended_at - cut_at;
    // The last reply came at most one ping interval before the blackhole.
    assert!(
        silent + ping_interval + Duration::from_millis(100) >= read_timeout
            && silent <= read_timeout + Duration::from_millis(500),
        "SUSPENDED {silent:?} after the blackhole; read timeout {read_timeout:?}"
    );

    // Keep the old session alive on the server from a second connection, as a
    // client on the other side of a partition could.
    let mut keep = SessionConfig::new(server.connect_string().parse().unwrap(), negotiated);
    keep = keep.with_resume(old.session_id(), old.session_password());
    let keeper = Session::start(keep);
    keeper
        .wait_connected(SOON)
        .await
        .expect("the session is resumed on a second connection");
    assert_eq!(keeper.session_id(), old.session_id());

    let lost_at = states.expect(Lost, negotiated + SOON).await;
    let after = lost_at - suspended_at;
    assert!(
        after + SLACK >= negotiated && after <= negotiated + Duration::from_millis(700),
        "LOST {after:?} after SUSPENDED; negotiated session timeout {negotiated:?}"
    );
    // At that moment the server still holds the session: LOST came from the client.
    assert!(keeper.state().is_connected());
    let stat = observer
        .exists(&node)
        .await
        .unwrap()
        .expect("the old session's ephemeral node is still there when LOST arrives");
    assert_eq!(stat.ephemeral_owner, old.session_id());

    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
    states.expect_quiet(GRACE).await;
    assert_ne!(
        client.session_id(),
        old.session_id(),
        "a new session after LOST"
    );

    keeper.close().await;
    wait_gone(&observer, &node, SOON).await;
}

/// Without anyone keeping it alive, the server expires the session of a client
/// behind a blackhole; the client still reports exactly SUSPENDED, LOST,
/// RECONNECTED, and LOST comes from its own clock while nothing can reach it.
#[tokio::test]
async fn blackhole_gives_suspended_lost_reconnected_without_hearing_from_the_server() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy starts");
    let client = framework_common::client(&proxy.connect_string()).await;
    let mut states = States::of(&client);
    let old = client.session_id();
    let negotiated = client.session().negotiated_timeout();

    proxy.blackhole().await.expect("blackhole");
    let suspended_at = states.expect(Suspended, SOON).await;
    let lost_at = states.expect(Lost, negotiated + SOON).await;
    assert!(lost_at - suspended_at + SLACK >= negotiated);
    // Still blackholed: the client cannot have been told.
    assert_eq!(proxy.mode(), zk_testing::ProxyMode::Blackhole);
    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
    states.expect_quiet(GRACE).await;
    assert_ne!(client.session_id(), old);
}

#[tokio::test]
async fn a_brief_cut_is_suspended_then_reconnected_without_lost() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy starts");
    let client = framework_common::client(&proxy.connect_string()).await;
    let mut states = States::of(&client);
    let old = client.session_id();

    proxy.cut().await;
    states.expect(Suspended, SOON).await;
    proxy.heal().await.expect("heal");
    states.expect(Reconnected, SOON).await;
    states.expect_quiet(GRACE).await;
    assert_eq!(client.session_id(), old);
}

/// READ_ONLY is reported only to a client that asked for read-only mode. When its
/// server loses the quorum and turns read-only, ZooKeeper 3.8 does not let the old
/// session back in (a read-only server refuses a global session and answers an
/// unknown local one as expired), so the session is lost; the new session of a
/// client that asked for read-only mode is accepted read-only: SUSPENDED, LOST,
/// READ_ONLY. A client that did not ask is refused outright: SUSPENDED, LOST and
/// nothing more. Both are pinned to the same server. When the quorum returns, both
/// are RECONNECTED read-write. (A read-only server can only open local sessions,
/// hence `localSessionsEnabled`.)
#[tokio::test]
async fn read_only_is_reported_only_when_asked_for() {
    init_tracing();
    let config = zk_testing::ServerConfig::builder()
        .tick_time(TICK)
        .session_timeouts(TICK * 2, Duration::from_secs(60))
        .system_property("readonlymode.enabled", "true")
        // A read-only server can only open local sessions.
        .cfg_entry("localSessionsEnabled", "true")
        .build()
        .unwrap();
    let mut cluster = zk_testing::TestingCluster::start_with(3, config)
        .await
        .expect("ensemble starts");
    let pinned = cluster.server_connect_string(0).unwrap();
    let ro = connect(builder(&pinned).can_be_read_only(true)).await;
    let rw = connect(builder(&pinned)).await;
    let (ro_session, rw_session) = (ro.session_id(), rw.session_id());
    let mut ro_states = States::of(&ro);
    let mut rw_states = States::of(&rw);
    let node = rw.create(&unique("ro"), b"data").await.unwrap();

    cluster.stop(1).await.unwrap();
    cluster.stop(2).await.unwrap();
    ro_states.expect_seq(&[Suspended, Lost], SOON).await;
    ro_states.expect(ReadOnly, SOON).await;
    assert_ne!(ro.session_id(), ro_session);
    assert_eq!(ro.get_data(&node).await.unwrap().0.as_ref(), b"data");
    let write = ro.create(&unique("refused"), b"").await;
    assert_eq!(write.unwrap_err().code(), Some(zk_core::Code::NotReadOnly));

    rw_states.expect_seq(&[Suspended, Lost], SOON).await;
    rw_states.expect_quiet(GRACE).await;
    ro_states.expect_quiet(GRACE).await;
    assert_ne!(rw.session_id(), rw_session);
    assert!(!rw.is_connected());

    // A quorum again: the read-only server rejoins it, dropping its clients, and
    // both clients come back read-write.
    let read_only_session = ro.session_id();
    cluster.restart(1).await.expect("server 1 rejoins");
    ro_states.expect_seq(&[Suspended, Reconnected], SOON).await;
    rw_states.expect(Reconnected, SOON).await;
    ro.create(&unique("writable"), b"")
        .await
        .expect("writes again");
    rw.create(&unique("writable"), b"")
        .await
        .expect("writes again");
    // The read-only server's session lived only there; a new one replaced it.
    assert_ne!(ro.session_id(), read_only_session);
    ro_states.expect_quiet(GRACE).await;
    rw_states.expect_quiet(GRACE).await;
}

/// After `block_until_connected`, the state says connected and CONNECTED has gone
/// out already: a stream opened now never sees it. Repeated on a multi-threaded
/// runtime, where the manager runs beside the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_until_connected_returns_once_connected_is_published() {
    let server = server().await;
    for _ in 0..10 {
        let client = builder(&server.connect_string()).build().unwrap();
        client.block_until_connected(SOON).await.unwrap();
        assert_eq!(client.state(), Some(Connected));
        assert!(client.is_connected());
        let mut states = States::of(&client);
        states.expect_quiet(Duration::from_millis(50)).await;
        client.close().await;
    }
}

/// Whoever hears a state on a stream and then asks `Client::state` gets that state,
/// never the one before it: a recipe that rechecks "am I connected?" when it hears
/// RECONNECTED must not be told SUSPENDED and skip its recovery (the chaos soak
/// found a PathChildrenCache stale for good that way). The listener here runs on a
/// thread of its own, woken the moment its state is sent, while 50,000 other
/// streams keep the manager sending for milliseconds after it: any window between
/// the streams and the state is wide open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_heard_on_a_stream_is_already_the_clients_state() {
    const OTHER_STREAMS: usize = 50_000;
    const CYCLES: usize = 3;
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy starts");
    let client = framework_common::client(&proxy.connect_string()).await;
    let mut heard = client.connection_states();
    let others: Vec<_> = (0..OTHER_STREAMS)
        .map(|_| client.connection_states())
        .collect();
    let observer = client.clone();
    let listener = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..CYCLES * 2 {
            let Some(state) = futures::executor::block_on(futures::StreamExt::next(&mut heard))
            else {
                break;
            };
            seen.push((state, observer.state()));
        }
        seen
    });
    let mut states = States::of(&client);
    for _ in 0..CYCLES {
        proxy.cut().await;
        states.expect(Suspended, SOON).await;
        proxy.heal().await.expect("heal");
        states.expect(Reconnected, SOON).await;
    }
    let seen = tokio::task::spawn_blocking(move || listener.join().expect("listener thread"))
        .await
        .expect("join");
    assert_eq!(seen.len(), CYCLES * 2, "every state reached the listener");
    for (heard, then) in seen {
        assert_eq!(then, Some(heard), "state() lagged the state just heard");
    }
    drop(others);
}
