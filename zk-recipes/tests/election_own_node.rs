//! An election participant whose own node vanishes while it waits, or is left over
//! from an older session of its client, or has a second node from one protected
//! create, gets back into the queue on its own (issue 9, finding 2). Curator's
//! waiters watch only the node before theirs and stay out of the election.

mod support;

use std::time::Duration;

use support::{DEADLINE, connect, eventually, proxy, serial, server, until, wait_for_state};
use zk_core::path;
use zk_core::{
    Client, ConnectString, ConnectionState, CreateMode, Session, SessionConfig,
    framework::protection_prefix_of,
};
use zk_recipes::leader::{LeaderLatch, LeaderSelector, LeadershipContext, Participant};

fn participant(id: &str, is_leader: bool) -> Participant {
    Participant {
        id: id.to_string(),
        is_leader,
    }
}

/// Waits until `latch` has a node that the client's current session owns, other
/// than `old`; returns its path.
async fn owns_a_new_node(latch: &LeaderLatch, client: &Client, old: &str) -> String {
    eventually("a new node of the current session", || async {
        let ours = latch.our_path().filter(|p| p != old)?;
        let (_, stat) = client.get_data(&ours).await.ok()?;
        (stat.ephemeral_owner == client.session_id()).then_some(ours)
    })
    .await
}

async fn participants_become(latch: &LeaderLatch, want: Vec<Participant>) {
    eventually("the participants", || async {
        (latch.get_participants().await.ok()? == want).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_latch_whose_node_is_deleted_rejoins_the_queue() {
    let _serial = serial().await;
    let server = server().await;
    let base = "/own-node/deleted";
    let (c1, c2, admin) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let leader = LeaderLatch::new(c1.clone(), base, "leader");
    leader.start().await.unwrap();
    assert!(leader.await_leadership().timeout(DEADLINE).await.unwrap());
    let waiter = LeaderLatch::new(c2.clone(), base, "waiter");
    waiter.start().await.unwrap();
    participants_become(
        &leader,
        vec![participant("leader", true), participant("waiter", false)],
    )
    .await;
    let first = waiter.our_path().unwrap();

    admin.delete(&first).await.unwrap();

    owns_a_new_node(&waiter, &c2, &first).await;
    participants_become(
        &leader,
        vec![participant("leader", true), participant("waiter", false)],
    )
    .await;
    leader.close().await.unwrap();
    assert!(waiter.await_leadership().timeout(DEADLINE).await.unwrap());
    waiter.close().await.unwrap();
    for c in [c1, c2, admin] {
        c.close().await;
    }
}

/// The soak's case: the client gave its session up (the session timeout passed while
/// it was cut off) and built a new one, but the server kept the old one alive a while
/// (here: another connection holds it, as a paused leader's successor would): the
/// latch's node is still there, owned by the old session, and goes only when the
/// server ends that session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_latch_whose_node_belongs_to_an_older_session_rejoins_the_queue() {
    let _serial = serial().await;
    let server = server().await;
    let base = "/own-node/old-session";
    let c1 = connect(&server.connect_string()).await;
    let leader = LeaderLatch::new(c1.clone(), base, "leader");
    leader.start().await.unwrap();
    assert!(leader.await_leadership().timeout(DEADLINE).await.unwrap());
    let cut_off = proxy(server.addr()).await;
    let c2 = connect(&cut_off.connect_string()).await;
    let mut states = c2.connection_states();
    let waiter = LeaderLatch::new(c2.clone(), base, "waiter");
    waiter.start().await.unwrap();
    participants_become(
        &leader,
        vec![participant("leader", true), participant("waiter", false)],
    )
    .await;
    let old_node = waiter.our_path().unwrap();

    // Cut the client off, and keep its session alive on the server from elsewhere.
    cut_off.blackhole().await.unwrap();
    let old = c2.session();
    let mut hold = SessionConfig::new(
        server.connect_string().parse::<ConnectString>().unwrap(),
        Duration::from_secs(4),
    );
    hold = hold.with_resume(old.session_id(), old.session_password());
    let holder = Session::start(hold);
    holder.wait_connected(DEADLINE).await.unwrap();
    wait_for_state(&mut states, ConnectionState::Lost).await;
    cut_off.heal().await.unwrap();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    assert_ne!(c2.session_id(), holder.session_id());

    // The old node is still listed (its session lives): the waiter must not wait on it.
    owns_a_new_node(&waiter, &c2, &old_node).await;
    holder.close().await;
    participants_become(
        &leader,
        vec![participant("leader", true), participant("waiter", false)],
    )
    .await;
    leader.close().await.unwrap();
    assert!(waiter.await_leadership().timeout(DEADLINE).await.unwrap());
    waiter.close().await.unwrap();
    c1.close().await;
    c2.close().await;
}

/// A second node of the latch's own protected create (what finding 1 produced)
/// held a place in the queue for the whole session; the one behind it never led.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_of_a_latchs_own_create_is_removed_and_the_queue_moves() {
    let _serial = serial().await;
    let server = server().await;
    let base = "/own-node/duplicate";
    let (c1, c2, c3) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let first = LeaderLatch::new(c1.clone(), base, "first");
    first.start().await.unwrap();
    assert!(first.await_leadership().timeout(DEADLINE).await.unwrap());
    let second = LeaderLatch::new(c2.clone(), base, "second");
    second.start().await.unwrap();
    until("second has a node", || second.our_path().is_some()).await;
    let ours = second.our_path().unwrap();
    let prefix = protection_prefix_of(path::node_name(&ours)).unwrap();
    // The duplicate, made on the second latch's own session, as a lost reply would.
    let duplicate = c2
        .create(&format!("{base}/{prefix}latch-"), b"second")
        .mode(CreateMode::EphemeralSequential)
        .await
        .unwrap();
    let third = LeaderLatch::new(c3.clone(), base, "third");
    third.start().await.unwrap();
    until("third has a node", || third.our_path().is_some()).await;

    // The queue moves: first leaves, second leads (and drops its duplicate), second
    // leaves, third leads.
    first.close().await.unwrap();
    assert!(second.await_leadership().timeout(DEADLINE).await.unwrap());
    eventually("the duplicate is gone", || async {
        c3.exists(&duplicate).await.unwrap().is_none().then_some(())
    })
    .await;
    second.close().await.unwrap();
    assert!(third.await_leadership().timeout(DEADLINE).await.unwrap());
    third.close().await.unwrap();
    for c in [c1, c2, c3] {
        c.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_selector_whose_node_is_deleted_requeues() {
    let _serial = serial().await;
    let server = server().await;
    let base = "/own-node/selector";
    let (c1, c2, admin) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let hold = |ctx: LeadershipContext| async move { ctx.cancelled().await };
    let leader = LeaderSelector::new(c1.clone(), base, hold).with_id("leader");
    leader.start().await.unwrap();
    until("the first selector leads", || leader.has_leadership()).await;
    let waiter = LeaderSelector::new(c2.clone(), base, hold).with_id("waiter");
    waiter.auto_requeue();
    waiter.start().await.unwrap();
    let both = vec![participant("leader", true), participant("waiter", false)];
    eventually("both selectors queue", || async {
        (leader.get_participants().await.ok()? == both).then_some(())
    })
    .await;
    let children = admin.get_children(base).await.unwrap();
    let mut waiter_node = None;
    for name in children {
        let node = path::join(base, &name);
        if admin.get_data(&node).await.unwrap().0.as_ref() == b"waiter" {
            waiter_node = Some(node);
        }
    }

    admin.delete(&waiter_node.unwrap()).await.unwrap();

    eventually("the waiter queues again", || async {
        let ps = leader.get_participants().await.ok()?;
        (ps == both).then_some(())
    })
    .await;
    leader.close().await.unwrap();
    until("the waiter leads", || waiter.has_leadership()).await;
    waiter.close().await.unwrap();
    for c in [c1, c2, admin] {
        c.close().await;
    }
}

/// The soak's leaderless latch: the reply to a latch's create is lost on a connection
/// that stays up (a middlebox drops it, then forwards again). The node is on the
/// server, first in the queue and owned by the latch's session, so every other
/// participant waits behind it, while the latch itself waits for the create's reply;
/// pings kept the connection alive, so it waited for good. Now the first ping answered
/// after the create drops the connection, the create's retry finds its node by its
/// protected name, and the latch leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latch_whose_create_reply_is_lost_on_a_live_connection_still_leads() {
    let _serial = serial().await;
    let server = server().await;
    let base = "/own-node/lost-reply";
    let link = proxy(server.addr()).await;
    let (behind, admin) = (
        connect(&link.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    admin.create(base, b"").create_parents().await.unwrap();
    let (_, _, queue_changed) = admin.get_children(base).watched().await.unwrap();
    let dropped_before = link.dropped_reply_bytes();

    link.drop_replies().await.unwrap();
    let latch = LeaderLatch::new(behind.clone(), base, "behind");
    latch.start().await.unwrap();
    tokio::time::timeout(DEADLINE, queue_changed)
        .await
        .expect("the latch's node appears")
        .expect("the watch fires");
    let node = admin
        .get_children(base)
        .await
        .unwrap()
        .pop()
        .expect("a node");
    // The create's reply: length, header, the path, the stat (68 bytes).
    let reply_len = (4 + 16 + 4 + base.len() + 1 + node.len() + 68) as u64;
    until("the proxy to drop the create's reply", || {
        link.dropped_reply_bytes() - dropped_before >= reply_len
    })
    .await;
    link.heal().await.unwrap();

    assert!(
        latch.await_leadership().timeout(DEADLINE).await.unwrap(),
        "the latch leads once its create is settled"
    );
    assert_eq!(
        latch.our_path().as_deref(),
        Some(path::join(base, &node).as_str()),
        "the create's retry found the node the server made"
    );
    assert_eq!(admin.get_children(base).await.unwrap(), vec![node]);
    latch.close().await.unwrap();
    for c in [behind, admin] {
        c.close().await;
    }
}
