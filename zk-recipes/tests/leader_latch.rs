//! LeaderLatch on a real ZooKeeper: Curator's node layout and order, one leader at
//! a time, leadership dropped on disconnect and session expiry, fencing tokens, close.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use support::{
    DEADLINE, connect, connect_with, connect_with_policy, expire_session, is_protected_sequential,
    proxy, serial, server, until, wait_for_state,
};
use tokio::time::{Instant, timeout};
use zk_core::{ConnectionState, ConnectionStateErrorPolicy, CreateMode, path};
use zk_recipes::leader::{
    CloseMode, FencingToken, LeaderError, LeaderLatch, LeadershipEvent, LeadershipEvents,
    Participant,
};

fn participant(id: &str, is_leader: bool) -> Participant {
    Participant {
        id: id.to_string(),
        is_leader,
    }
}

async fn next_event(events: &mut LeadershipEvents) -> LeadershipEvent {
    timeout(DEADLINE, events.next())
        .await
        .expect("a leadership event in time")
        .expect("the event stream is open")
}

async fn is_leader_event(events: &mut LeadershipEvents) -> FencingToken {
    match next_event(events).await {
        LeadershipEvent::IsLeader(token) => token,
        other => panic!("expected IsLeader, got {other:?}"),
    }
}

/// Asks `latch` for the participants until they are `want`.
async fn participants_become(latch: &LeaderLatch, want: Vec<Participant>) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let ps = latch.get_participants().await.unwrap();
        if ps == want {
            return;
        }
        assert!(Instant::now() < deadline, "participants: {ps:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latch_nodes_follow_curators_layout_and_order() {
    let _serial = serial().await;
    let server = server().await;
    let (c1, c2) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let first = LeaderLatch::new(c1.clone(), "/election/layout", "first");
    first.start().await.unwrap();
    assert!(first.await_leadership().timeout(DEADLINE).await.unwrap());
    let second = LeaderLatch::new(c2.clone(), "/election/layout", "second");
    second.start().await.unwrap();
    until("second has a node", || second.our_path().is_some()).await;

    for latch in [&first, &second] {
        let our = latch.our_path().unwrap();
        assert_eq!(path::parent(&our), Some("/election/layout"));
        let name = path::node_name(&our);
        assert!(is_protected_sequential(name, "latch-"), "{name}");
        let (data, stat) = c1.get_data(&our).await.unwrap();
        assert_eq!(data.as_ref(), latch.id().as_bytes());
        assert!(stat.ephemeral_owner != 0, "latch nodes are ephemeral");
    }
    let owner = c1.get_data(&first.our_path().unwrap()).await.unwrap().1;
    assert_eq!(owner.ephemeral_owner, c1.session_id());

    // A participant that is not this crate (a Java LeaderLatch, say) with a protected
    // prefix that sorts before ours: only the sequence number orders it, so it queues last.
    let foreign = c1
        .create(
            "/election/layout/_c_00000000-0000-0000-0000-000000000000-latch-",
            b"java",
        )
        .mode(CreateMode::EphemeralSequential)
        .await
        .unwrap();
    assert_eq!(
        first.get_participants().await.unwrap(),
        vec![
            participant("first", true),
            participant("second", false),
            participant("java", false)
        ]
    );
    assert_eq!(
        second.get_leader().await.unwrap(),
        participant("first", true)
    );
    assert!(first.has_leadership() && !second.has_leadership());

    // When the leader leaves, the next in sequence leads, whatever the prefixes.
    first.close().await.unwrap();
    assert!(second.await_leadership().timeout(DEADLINE).await.unwrap());
    assert_eq!(
        second.get_participants().await.unwrap(),
        vec![participant("second", true), participant("java", false)]
    );
    second.close().await.unwrap();
    assert_eq!(
        first.get_leader().await.unwrap(),
        participant("java", true),
        "the foreign participant leads once ours are gone"
    );
    c1.delete(&foreign).await.unwrap();
    assert_eq!(
        first.get_leader().await.unwrap(),
        participant("", false),
        "with nobody left, Curator's dummy participant"
    );
    c1.close().await;
    c2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_leader_blocks_ours_until_it_leaves() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    // A Java participant that came first, its protected prefix sorting after ours.
    let java = c
        .create(
            "/election/foreign/_c_ffffffff-ffff-ffff-ffff-ffffffffffff-latch-",
            b"java",
        )
        .mode(CreateMode::EphemeralSequential)
        .create_parents()
        .await
        .unwrap();
    let latch = LeaderLatch::new(c.clone(), "/election/foreign", "rust");
    let mut events = latch.events();
    latch.start().await.unwrap();
    assert!(
        !latch
            .await_leadership()
            .timeout(Duration::from_millis(500))
            .await
            .unwrap(),
        "a later node does not lead"
    );
    assert_eq!(latch.get_leader().await.unwrap(), participant("java", true));
    c.delete(&java).await.unwrap();
    let token = is_leader_event(&mut events).await;
    assert!(latch.has_leadership());
    let our = latch.our_path().unwrap();
    assert_eq!(
        token.sequence,
        path::node_name(&our)[path::node_name(&our).len() - 10..]
            .parse::<i64>()
            .unwrap()
    );
    assert_eq!(token.czxid, c.get_data(&our).await.unwrap().1.czxid);
    assert_eq!(latch.fencing_token(), Some(token));
    latch.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_one_leader_at_every_instant_while_leaders_change() {
    let _serial = serial().await;
    let server = server().await;
    let clients = [
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    ];
    let slots: Arc<[std::sync::Mutex<Option<Arc<LeaderLatch>>>; 3]> = Arc::new(Default::default());
    let new_latch = |i: usize, round: usize| {
        Arc::new(LeaderLatch::new(
            clients[i].clone(),
            "/election/one",
            format!("p{i}-r{round}"),
        ))
    };
    // Two participants at first; the third joins mid-way.
    for i in 0..2 {
        let latch = new_latch(i, 0);
        latch.start().await.unwrap();
        *slots[i].lock().unwrap() = Some(latch);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (max_seen, samples) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let sampler = {
        let (slots, stop, max_seen, samples) = (
            slots.clone(),
            stop.clone(),
            max_seen.clone(),
            samples.clone(),
        );
        tokio::spawn(async move {
            let end = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Acquire) && Instant::now() < end {
                let leaders = slots
                    .iter()
                    .filter(|s| {
                        s.lock()
                            .unwrap()
                            .as_ref()
                            .is_some_and(|l| l.has_leadership())
                    })
                    .count();
                max_seen.fetch_max(leaders, Ordering::AcqRel);
                samples.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    let leader_slot = |slots: &[std::sync::Mutex<Option<Arc<LeaderLatch>>>; 3]| {
        slots.iter().position(|s| {
            s.lock()
                .unwrap()
                .as_ref()
                .is_some_and(|l| l.has_leadership())
        })
    };
    for round in 1..=6 {
        let deadline = Instant::now() + DEADLINE;
        let leader = loop {
            if let Some(i) = leader_slot(&slots) {
                break i;
            }
            assert!(Instant::now() < deadline, "no leader in round {round}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        // Let the sampler look at this leadership a few times before it changes.
        let seen = samples.load(Ordering::Acquire);
        until("samples of this round", || {
            samples.load(Ordering::Acquire) >= seen + 3
        })
        .await;
        if round == 2 {
            let latch = new_latch(2, round);
            latch.start().await.unwrap();
            *slots[2].lock().unwrap() = Some(latch);
        }
        // Close the leader and put a fresh participant (at the back) in its slot.
        let old = slots[leader].lock().unwrap().take().unwrap();
        old.close().await.unwrap();
        let latch = new_latch(leader, round);
        latch.start().await.unwrap();
        *slots[leader].lock().unwrap() = Some(latch);
    }
    // Settled: exactly one leader, and ZooKeeper agrees on who.
    until("a leader after the last change", || {
        leader_slot(&slots).is_some()
    })
    .await;
    let leader = leader_slot(&slots).unwrap();
    let leader_latch = slots[leader].lock().unwrap().clone().unwrap();
    let participants = leader_latch.get_participants().await.unwrap();
    assert_eq!(participants.len(), 3);
    assert_eq!(participants[0], participant(leader_latch.id(), true));

    stop.store(true, Ordering::Release);
    sampler.await.unwrap();
    assert_eq!(
        max_seen.load(Ordering::Acquire),
        1,
        "never two leaders at once"
    );
    for s in slots.iter() {
        let latch = s.lock().unwrap().take().unwrap();
        latch.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_drops_leadership_before_a_new_leader_follows() {
    let _serial = serial().await;
    let server = server().await;
    let proxy = proxy(server.addr()).await;
    let cut_client = connect(&proxy.connect_string()).await;
    let other_client = connect(&server.connect_string()).await;

    let old = LeaderLatch::new(cut_client.clone(), "/election/cut", "old");
    let mut old_events = old.events();
    old.start().await.unwrap();
    let old_token = is_leader_event(&mut old_events).await;
    let new = LeaderLatch::new(other_client.clone(), "/election/cut", "new");
    let mut new_events = new.events();
    new.start().await.unwrap();
    until("the follower queued", || new.our_path().is_some()).await;

    let old_path = old.our_path().unwrap();
    proxy.cut().await;
    let cut_at = Instant::now();
    assert_eq!(
        next_event(&mut old_events).await,
        LeadershipEvent::NotLeader
    );
    let dropped_at = Instant::now();
    assert_eq!(
        cut_client.state(),
        Some(ConnectionState::Suspended),
        "leadership is dropped at SUSPENDED, not only once the session is lost"
    );
    assert!(!old.has_leadership());
    let new_token = is_leader_event(&mut new_events).await;
    let led_at = Instant::now();
    assert!(dropped_at <= led_at);
    assert!(!old.has_leadership(), "the old leader did not lead again");
    assert!(
        led_at - cut_at >= Duration::from_millis(500),
        "the new leader waited for the old session to expire ({:?})",
        led_at - cut_at
    );
    assert!(new_token > old_token);

    // Healed, the old participant rejoins on a new session, at the back.
    proxy.heal().await.unwrap();
    until("the old participant re-queued", || {
        old.our_path().is_some_and(|p| p != old_path)
    })
    .await;
    participants_become(
        &new,
        vec![participant("new", true), participant("old", false)],
    )
    .await;
    assert!(new.has_leadership() && !old.has_leadership());
    old.close().await.unwrap();
    new.close().await.unwrap();
    cut_client.close().await;
    other_client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_expiry_of_the_leader_elects_the_next_and_tokens_grow() {
    let _serial = serial().await;
    let server = server().await;
    let (ca, cb) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let a = LeaderLatch::new(ca.clone(), "/election/expiry", "a");
    let b = LeaderLatch::new(cb.clone(), "/election/expiry", "b");
    let (mut a_events, mut b_events) = (a.events(), b.events());
    a.start().await.unwrap();
    let t1 = is_leader_event(&mut a_events).await;
    b.start().await.unwrap();
    until("b queued", || b.our_path().is_some()).await;

    expire_session(&server.connect_string(), &ca).await;
    assert_eq!(next_event(&mut a_events).await, LeadershipEvent::NotLeader);
    let t2 = is_leader_event(&mut b_events).await;
    assert!(!a.has_leadership());
    assert!(t2 > t1, "{t2:?} > {t1:?}");

    // The expired participant rejoins on its new session, behind b.
    participants_become(&b, vec![participant("b", true), participant("a", false)]).await;
    let a_node = a.our_path().unwrap();
    assert_eq!(
        ca.get_data(&a_node).await.unwrap().1.ephemeral_owner,
        ca.session_id(),
        "a's new node belongs to its new session"
    );

    // b leaves: a leads again, with a larger token still.
    b.close().await.unwrap();
    let t3 = is_leader_event(&mut a_events).await;
    assert!(t3 > t2, "{t3:?} > {t2:?}");
    a.close().await.unwrap();
    ca.close().await;
    cb.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_leaves_the_election_and_stops_every_task() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;

    // NotifyLeader: a NotLeader event, then the stream ends.
    let notify = LeaderLatch::new(c.clone(), "/election/close", "notify")
        .with_close_mode(CloseMode::NotifyLeader);
    let mut events = notify.events();
    notify.start().await.unwrap();
    is_leader_event(&mut events).await;
    notify.close().await.unwrap();
    assert!(!notify.has_leadership());
    assert_eq!(next_event(&mut events).await, LeadershipEvent::NotLeader);
    assert_eq!(timeout(DEADLINE, events.next()).await.unwrap(), None);
    assert!(matches!(
        notify.await_leadership().timeout(DEADLINE).await,
        Err(LeaderError::Closed)
    ));
    assert!(notify.get_participants().await.unwrap().is_empty());

    // Silent (the default): no event, the stream just ends.
    let silent = LeaderLatch::new(c.clone(), "/election/close", "silent");
    let mut events = silent.events();
    silent.start().await.unwrap();
    is_leader_event(&mut events).await;
    silent.close().await.unwrap();
    assert_eq!(timeout(DEADLINE, events.next()).await.unwrap(), None);
    assert!(silent.close().await.is_ok(), "closing twice does nothing");
    assert!(matches!(silent.start().await, Err(LeaderError::Closed)));

    // After close nothing of the latch reacts any more: a session expiry makes a
    // live latch re-create its node, a closed one must not.
    expire_session(&server.connect_string(), &c).await;
    let witness = LeaderLatch::new(c.clone(), "/election/close", "witness");
    witness.start().await.unwrap();
    assert!(witness.await_leadership().timeout(DEADLINE).await.unwrap());
    c.sync("/election/close").await.unwrap();
    assert_eq!(
        witness.get_participants().await.unwrap(),
        vec![participant("witness", true)]
    );
    witness.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_paths_and_misuse_are_typed_errors() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let bad = LeaderLatch::new(c.clone(), "no-slash", "x");
    assert!(matches!(bad.start().await, Err(LeaderError::ZooKeeper(_))));
    let latent = LeaderLatch::new(c.clone(), "/election/misuse", "x");
    assert!(matches!(
        latent
            .await_leadership()
            .timeout(Duration::from_millis(10))
            .await,
        Err(LeaderError::NotStarted)
    ));
    latent.start().await.unwrap();
    assert!(matches!(
        latent.start().await,
        Err(LeaderError::AlreadyStarted)
    ));
    latent.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_disconnect_drops_leadership_and_reconnected_restores_it_on_the_same_node() {
    let _serial = serial().await;
    let server = server().await;
    let proxy = proxy(server.addr()).await;
    // A session long enough to outlive the cut.
    let c = connect_with(&proxy.connect_string(), Duration::from_secs(8)).await;
    let mut states = c.connection_states();
    let latch = LeaderLatch::new(c.clone(), "/election/blip", "blip");
    let mut events = latch.events();
    latch.start().await.unwrap();
    let before = is_leader_event(&mut events).await;
    let node = latch.our_path().unwrap();

    proxy.cut().await;
    wait_for_state(&mut states, ConnectionState::Suspended).await;
    assert_eq!(next_event(&mut events).await, LeadershipEvent::NotLeader);
    assert!(!latch.has_leadership());
    proxy.heal().await.unwrap();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    // RECONNECTED checks again: the node survived with the session, so the same
    // leadership (same token) is confirmed.
    let after = is_leader_event(&mut events).await;
    assert_eq!(after, before);
    assert_eq!(latch.our_path().as_deref(), Some(node.as_str()));
    assert!(latch.has_leadership());
    latch.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_session_only_policy_a_short_disconnect_keeps_leadership() {
    let _serial = serial().await;
    let server = server().await;
    let proxy = proxy(server.addr()).await;
    let c = connect_with_policy(
        &proxy.connect_string(),
        Duration::from_secs(8),
        ConnectionStateErrorPolicy::SessionOnly,
    )
    .await;
    let mut states = c.connection_states();
    let latch = LeaderLatch::new(c.clone(), "/election/session-only", "steady");
    let mut events = latch.events();
    latch.start().await.unwrap();
    is_leader_event(&mut events).await;

    proxy.cut().await;
    wait_for_state(&mut states, ConnectionState::Suspended).await;
    assert!(
        latch.has_leadership(),
        "SUSPENDED is no error under SessionOnly"
    );
    proxy.heal().await.unwrap();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    // The recheck after RECONNECTED confirms the same leadership without events.
    assert!(latch.await_leadership().timeout(DEADLINE).await.unwrap());
    assert_eq!(
        latch.get_leader().await.unwrap(),
        participant("steady", true)
    );
    assert!(
        futures::FutureExt::now_or_never(events.next()).is_none(),
        "no leadership change"
    );
    assert!(latch.has_leadership());
    latch.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_node_is_deleted_by_hand_steps_down_and_requeues() {
    let _serial = serial().await;
    let server = server().await;
    let (ca, cb) = (
        connect(&server.connect_string()).await,
        connect(&server.connect_string()).await,
    );
    let a = LeaderLatch::new(ca.clone(), "/election/deleted", "a");
    let b = LeaderLatch::new(cb.clone(), "/election/deleted", "b");
    let (mut a_events, mut b_events) = (a.events(), b.events());
    a.start().await.unwrap();
    is_leader_event(&mut a_events).await;
    b.start().await.unwrap();
    until("b queued", || b.our_path().is_some()).await;

    // An operator removes the leader's node: the leader notices on its own node's
    // watch, b leads, and a queues again with a new node.
    let a_node = a.our_path().unwrap();
    cb.delete(&a_node).await.unwrap();
    assert_eq!(next_event(&mut a_events).await, LeadershipEvent::NotLeader);
    is_leader_event(&mut b_events).await;
    participants_become(&b, vec![participant("b", true), participant("a", false)]).await;
    assert_ne!(a.our_path().unwrap(), a_node);
    assert!(!a.has_leadership());
    a.close().await.unwrap();
    b.close().await.unwrap();
    ca.close().await;
    cb.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_started_latch_leaves_the_election() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let dropped = LeaderLatch::new(c.clone(), "/election/drop", "dropped");
    dropped.start().await.unwrap();
    assert!(dropped.await_leadership().timeout(DEADLINE).await.unwrap());
    let next = LeaderLatch::new(c.clone(), "/election/drop", "next");
    next.start().await.unwrap();
    until("next queued", || next.our_path().is_some()).await;
    // Same client and session: only the latch's own cleanup can remove its node.
    drop(dropped);
    assert!(next.await_leadership().timeout(DEADLINE).await.unwrap());
    assert_eq!(
        next.get_participants().await.unwrap(),
        vec![participant("next", true)]
    );
    next.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaders_gated_transaction_commits_only_while_it_leads() {
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let election = format!("/election/gated-{}", uuid::Uuid::new_v4().simple());
    let latch = LeaderLatch::new(c.clone(), &election, "rust");
    let mut events = latch.events();
    assert!(latch.transaction().is_none(), "no leadership before start");
    latch.start().await.unwrap();
    is_leader_event(&mut events).await;
    let data = format!("{election}-data");
    latch
        .transaction()
        .expect("a leader gets a gated transaction")
        .create(&data, b"leader")
        .await
        .expect("the leader's gated write commits");
    let our = latch.our_path().unwrap();
    // Built while leading, committed after the node went: it must not commit.
    let late = latch.transaction().unwrap().set_data(&data, b"late");
    c.delete(&our).await.unwrap();
    assert!(
        late.await.is_err(),
        "a gated write after the node went committed"
    );
    assert_eq!(c.get_data(&data).await.unwrap().0.as_ref(), b"leader");
    latch.close().await.unwrap();
    c.close().await;
}
