//! A session on a 3-server ensemble: it survives the loss of the server it is
//! connected to, and its watches survive a restart of that server.

mod common;

use std::time::Duration;

use common::*;
use zk_core::{Acl, CreateMode, EventType, SessionEvent};
use zk_testing::{TestingCluster, four_letter_word};

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
