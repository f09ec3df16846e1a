//! A session on a 3-server ensemble: it survives the loss of the server it is
//! connected to, and its watches survive a restart of that server.

mod common;

use std::time::Duration;

use common::*;
use zk_core::{Acl, Code, CreateMode, Error, EventType, Session, SessionEvent, SessionState};
use zk_testing::{ServerConfig, ServerMode, TestingCluster, four_letter_word};

async fn cluster() -> TestingCluster {
    let cluster = TestingCluster::start(3).await.expect("ensemble starts");
    cluster
        .wait_for_leader(Duration::from_secs(60))
        .await
        .expect("ensemble has a leader");
    cluster
}

/// The index of the server whose `cons` lists the session.
async fn server_of(cluster: &TestingCluster, session_id: i64) -> Option<usize> {
    for i in 0..cluster.len() {
        let addr = cluster.client_addr(i).expect("index in range");
        if let Ok(cons) = four_letter_word(addr, "cons").await
            && mentions_session(&cons, session_id)
        {
            return Some(i);
        }
    }
    None
}

#[tokio::test]
async fn killing_the_sessions_server_moves_it_to_another_within_the_timeout_and_its_ephemerals_survive()
 {
    let mut cluster = cluster().await;
    let timeout = Duration::from_secs(8);
    let (s, mut events) = start_with_events(config(&cluster.connect_string(), timeout)).await;
    let id = s.session_id();
    let base = unique("move");
    let (eph, _) = s
        .create(&base, b"mine", &[Acl::open_unsafe()], CreateMode::Ephemeral)
        .await
        .unwrap();

    let victim = bounded("finding the session's server", async {
        loop {
            if let Some(i) = server_of(&cluster, id).await {
                return i;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let killed_at = tokio::time::Instant::now();
    cluster.kill(victim).expect("kill");

    let (ev, _) = wait_event(&mut events, timeout, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    assert!(matches!(ev, SessionEvent::Disconnected(_)));
    let (_, skipped) = wait_event(&mut events, timeout, "SyncConnected elsewhere", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert!(
        skipped.is_empty(),
        "only one Disconnected before the reconnect: {skipped:?}"
    );
    assert!(
        killed_at.elapsed() < timeout,
        "reconnected within the session timeout"
    );
    assert_eq!(s.session_id(), id, "the same session moved");
    let now = bounded("finding the new server", server_of(&cluster, id))
        .await
        .expect("some live server lists the session");
    assert_ne!(now, victim);

    // The ephemeral is still there and still ours, seen by another client.
    let survivors: Vec<String> = (0..3)
        .filter(|&i| i != victim)
        .map(|i| cluster.server_connect_string(i).unwrap())
        .collect();
    let other = connect(&survivors.join(",")).await;
    let stat = other
        .exists(&eph)
        .await
        .unwrap()
        .expect("ephemeral survives");
    assert_eq!(stat.ephemeral_owner, id);
    assert_eq!(&s.get_data(&eph).await.unwrap().0[..], b"mine");
    s.set_data(&eph, b"still mine", None).await.unwrap();
    s.close().await;
    // `other` may sit on a follower that has not applied the close yet: ZooKeeper
    // orders reads per client, not across clients. A sync brings its server up to
    // date with the leader first.
    other.sync(&eph).await.unwrap();
    assert_eq!(other.exists(&eph).await.unwrap(), None);
    other.close().await;
}

/// The story: stop the server, change the node from another client, restart,
/// and the watch fires. The watching session only knows its own server, so it waits
/// for exactly that server to come back; the change is made through the rest of the
/// ensemble while it is down.
#[tokio::test]
async fn a_watch_fires_after_its_server_restarts_for_a_change_made_while_it_was_down() {
    let mut cluster = cluster().await;
    let leader = cluster.leader().await.expect("a leader");
    let follower = (0..3).find(|&i| i != leader).expect("a follower");
    let timeout = Duration::from_secs(30);
    let pinned = cluster.server_connect_string(follower).unwrap();
    let (s, mut events) = start_with_events(config(&pinned, timeout)).await;
    let other = connect(&cluster.server_connect_string(leader).unwrap()).await;
    let node = mk(&other, &unique("restart"), b"before").await;
    let missing = format!("{node}-later");
    s.sync(&node).await.unwrap();
    let (data, _, changed) = s.get_data_watched(&node).await.unwrap();
    assert_eq!(&data[..], b"before");
    let (_, created) = s.exists_watched(&missing).await.unwrap();
    let id = s.session_id();

    cluster.stop(follower).await.expect("stop");
    let (ev, _) = wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    assert!(matches!(ev, SessionEvent::Disconnected(_)));
    other.set_data(&node, b"after", None).await.unwrap();
    mk(&other, &missing, b"").await;

    within(
        Duration::from_secs(60),
        "the restart",
        cluster.restart(follower),
    )
    .await
    .expect("restart");
    wait_event(&mut events, timeout, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert_eq!(s.session_id(), id);
    let ev = bounded("the missed data change", changed).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, node.as_str())
    );
    let ev = bounded("the missed creation", created).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, missing.as_str())
    );
    assert_eq!(&s.get_data(&node).await.unwrap().0[..], b"after");
    s.close().await;
    other.close().await;
}

/// With `readonlymode.enabled`, a server cut off from its quorum serves reads to
/// clients that accept read-only servers; once the quorum is back, the session
/// reconnects read-write and can write. A read-only server can only open local
/// sessions (it answers a global createSession with NotReadOnly), so local
/// sessions are enabled (and upgraded to global ones by their first ephemeral).
/// The read-only session lives only on its server: back in read-write mode the
/// client gets a new session, as the Java client does.
#[tokio::test]
async fn a_read_only_session_reads_in_a_minority_and_turns_read_write_when_the_quorum_returns() {
    let config_ = ServerConfig::builder()
        .system_property("readonlymode.enabled", "true")
        // The lone server keeps looking for peers; cap its back-off so it sees
        // the restarted one quickly.
        .system_property("zookeeper.fastleader.maxNotificationInterval", "1000")
        .cfg_entry("localSessionsEnabled", "true")
        .cfg_entry("localSessionsUpgradingEnabled", "true")
        .build()
        .expect("valid config");
    let mut cluster = TestingCluster::start_with(3, config_)
        .await
        .expect("ensemble starts");
    let root = connect(&cluster.connect_string()).await;
    let node = mk(&root, &unique("ro"), b"readable").await;
    root.close().await;

    let lone = 0;
    cluster.kill(1).expect("kill");
    cluster.kill(2).expect("kill");
    within(
        Duration::from_secs(60),
        "the lone server to go read-only",
        async {
            while cluster.mode(lone).await.ok().flatten() != Some(ServerMode::ReadOnly) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        },
    )
    .await;
    let pinned = cluster.server_connect_string(lone).unwrap();

    // A client that does not accept read-only servers is turned away.
    let strict = Session::connect(&pinned, SESSION_TIMEOUT).unwrap();
    let err = strict
        .wait_connected(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionTimeout(_)), "{err:?}");
    strict.close().await;

    let mut cfg = config(&pinned, SESSION_TIMEOUT);
    cfg = cfg.with_read_only(true);
    let (s, mut events) = Session::start_with_events(cfg);
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::ConnectedReadOnly
    ));
    let read_only_id = s.session_id();
    assert_eq!(s.state(), SessionState::ConnectedReadOnly);
    s.wait_connected(DEADLINE).await.unwrap();
    assert_eq!(&s.get_data(&node).await.unwrap().0[..], b"readable");
    let err = s.set_data(&node, b"no", None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                code: Code::NotReadOnly,
                ..
            }
        ),
        "{err:?}"
    );

    // Two of three make a quorum again.
    within(Duration::from_secs(60), "a restart", cluster.restart(1))
        .await
        .expect("restart");
    let (ev, skipped) = wait_event(&mut events, Duration::from_secs(60), "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected) || e.is_terminal()
    })
    .await;
    assert!(
        matches!(ev, SessionEvent::SyncConnected),
        "{ev:?} after {skipped:?}"
    );
    assert_eq!(s.state(), SessionState::Connected);
    assert_ne!(s.session_id(), read_only_id, "a new, global session");
    s.set_data(&node, b"written", None).await.unwrap();
    let (eph, _) = s
        .create(
            &format!("{node}-eph"),
            b"",
            &[Acl::open_unsafe()],
            CreateMode::Ephemeral,
        )
        .await
        .unwrap();
    let stat = s.exists(&eph).await.unwrap().expect("created");
    assert_eq!(stat.ephemeral_owner, s.session_id());
    s.close().await;
}
