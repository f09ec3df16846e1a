//! LeaderSelector on a real ZooKeeper: Curator's lock-node layout, one callback at a
//! time, auto-requeue, cancellation on a lost connection, close.

mod support;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{DEADLINE, connect, is_protected_sequential, proxy, serial, server, until};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use zk_core::path;
use zk_recipes::leader::{FencingToken, LeaderSelector, LeadershipContext, Participant};

/// Counts callbacks running at once; decrements even when the callback's future
/// is dropped mid-way.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn enter(count: &Arc<AtomicUsize>, max: &AtomicUsize) -> Running {
        let now = count.fetch_add(1, Ordering::AcqRel) + 1;
        max.fetch_max(now, Ordering::AcqRel);
        Running(count.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sends a message when dropped: tells the test a callback's future was dropped.
struct DropSignal(Option<mpsc::UnboundedSender<&'static str>>, &'static str);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(self.1);
        }
    }
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<&'static str>) -> &'static str {
    timeout(DEADLINE, rx.recv())
        .await
        .expect("a message in time")
        .expect("channel open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_callback_at_a_time_across_three_selectors_and_auto_requeue_runs_again() {
    let _serial = serial().await;
    let server = server().await;
    let running = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let runs: Arc<Mutex<Vec<String>>> = Arc::default();
    let tokens: Arc<Mutex<Vec<FencingToken>>> = Arc::default();
    let mut selectors = Vec::new();
    let mut clients = Vec::new();
    for i in 0..3 {
        let c = connect(&server.connect_string()).await;
        let (running, max, runs, tokens) =
            (running.clone(), max.clone(), runs.clone(), tokens.clone());
        let selector = LeaderSelector::new(
            c.clone(),
            "/election/selector",
            move |ctx: LeadershipContext| {
                let (running, max, runs, tokens) =
                    (running.clone(), max.clone(), runs.clone(), tokens.clone());
                async move {
                    let _inside = Running::enter(&running, &max);
                    tokens.lock().unwrap().push(ctx.fencing_token());
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    runs.lock().unwrap().push(ctx.id().to_string());
                }
            },
        )
        .with_id(format!("s{i}"));
        selector.auto_requeue();
        selector.start().await.unwrap();
        selectors.push(selector);
        clients.push(c);
    }
    until("every selector led at least twice", || {
        let runs = runs.lock().unwrap();
        (0..3).all(|i| runs.iter().filter(|r| **r == format!("s{i}")).count() >= 2)
    })
    .await;
    for s in &selectors {
        s.close().await.unwrap();
    }
    assert_eq!(
        max.load(Ordering::Acquire),
        1,
        "never two callbacks at once"
    );
    assert_eq!(running.load(Ordering::Acquire), 0);
    let tokens = tokens.lock().unwrap().clone();
    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "each leadership has a larger token: {tokens:?}"
    );
    assert!(selectors.iter().all(|s| !s.has_leadership()));
    let c = &clients[0];
    assert!(
        c.get_children("/election/selector")
            .await
            .unwrap()
            .is_empty(),
        "closed selectors leave no lock node"
    );
    for c in clients {
        c.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_nodes_follow_curators_layout_and_requeue_runs_once_more() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (release_tx, release_rx) = tokio::sync::watch::channel(0u32);
    let selector = LeaderSelector::new(
        c.clone(),
        "/election/layout",
        move |ctx: LeadershipContext| {
            let (tx, mut release) = (tx.clone(), release_rx.clone());
            async move {
                let _ = tx.send(ctx.node_path().to_string());
                let seen = *release.borrow_and_update();
                let _ = release.wait_for(|n| *n > seen).await;
            }
        },
    )
    .with_id("rust-1");
    selector.start().await.unwrap();
    let node = timeout(DEADLINE, rx.recv()).await.unwrap().unwrap();
    assert!(selector.has_leadership());
    assert_eq!(path::parent(&node), Some("/election/layout"));
    assert!(
        is_protected_sequential(path::node_name(&node), "lock-"),
        "{node}"
    );
    assert_eq!(c.get_data(&node).await.unwrap().0.as_ref(), b"rust-1");
    assert_eq!(
        selector.get_participants().await.unwrap(),
        vec![Participant {
            id: "rust-1".into(),
            is_leader: true
        }]
    );
    assert!(!selector.requeue().unwrap(), "a round is running");

    // Without auto-requeue the round ends for good when the callback returns ...
    release_tx.send_modify(|n| *n += 1);
    until("leadership released", || !selector.has_leadership()).await;
    let deadline = Instant::now() + DEADLINE;
    while !c.get_children("/election/layout").await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the lock node is deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and requeue() runs it once more, on a new node. The round deletes its node
    // and only then ends; until it has, requeue() still finds it running and does
    // nothing, so ask until it queues.
    until("requeue() to queue a round once the last one ended", || {
        selector.requeue().unwrap()
    })
    .await;
    let second = timeout(DEADLINE, rx.recv()).await.unwrap().unwrap();
    assert_ne!(second, node);
    release_tx.send_modify(|n| *n += 1);
    selector.close().await.unwrap();
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_leaders_work_is_cancelled_before_the_next_leader_runs() {
    let _serial = serial().await;
    let server = server().await;
    let proxy = proxy(server.addr()).await;
    let cut_client = connect(&proxy.connect_string()).await;
    let other_client = connect(&server.connect_string()).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();

    let work = |name: &'static str, tx: mpsc::UnboundedSender<&'static str>| {
        move |ctx: LeadershipContext| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(name);
                let _dropped = DropSignal(
                    Some(tx.clone()),
                    if name == "old" {
                        "old dropped"
                    } else {
                        "new dropped"
                    },
                );
                // Lead until cancelled; `cancelled()` must resolve by then too.
                ctx.cancelled().await;
                let _ = tx.send(if name == "old" {
                    "old saw cancel"
                } else {
                    "new saw cancel"
                });
                std::future::pending::<()>().await;
            }
        }
    };
    let old = LeaderSelector::new(cut_client.clone(), "/election/cut", work("old", tx.clone()))
        .with_id("old");
    old.start().await.unwrap();
    assert_eq!(recv(&mut rx).await, "old");
    let new = LeaderSelector::new(
        other_client.clone(),
        "/election/cut",
        work("new", tx.clone()),
    )
    .with_id("new");
    new.auto_requeue();
    new.start().await.unwrap();
    eventually_participants(&new, 2).await;

    proxy.cut().await;
    // The old leader's future is dropped first (it may see the cancellation first).
    let mut seen = Vec::new();
    while !seen.contains(&"old dropped") {
        seen.push(recv(&mut rx).await);
    }
    assert!(
        !seen.contains(&"new"),
        "the new leader ran before the old one stopped: {seen:?}"
    );
    assert_eq!(
        cut_client.state(),
        Some(zk_core::ConnectionState::Suspended),
        "the work is cancelled at SUSPENDED"
    );
    assert!(!old.has_leadership());
    loop {
        let m = recv(&mut rx).await;
        if m == "new" {
            break;
        }
        assert_eq!(m, "old saw cancel", "unexpected {m}");
    }
    assert!(new.has_leadership());
    assert!(!old.has_leadership());

    // Closing the new leader cancels its work and stops it.
    new.close().await.unwrap();
    let mut after = Vec::new();
    while !after.contains(&"new dropped") {
        after.push(recv(&mut rx).await);
    }
    assert!(!new.has_leadership());
    old.close().await.unwrap();
    cut_client.close().await;
    other_client.close().await;
}

async fn eventually_participants(selector: &LeaderSelector, n: usize) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let ps = selector.get_participants().await.unwrap();
        if ps.len() == n {
            return;
        }
        assert!(Instant::now() < deadline, "participants: {ps:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_cancels_the_running_callback_and_removes_the_node() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let selector = LeaderSelector::new(
        c.clone(),
        "/election/close",
        move |_ctx: LeadershipContext| {
            let tx = tx.clone();
            async move {
                let _ = tx.send("started");
                let _dropped = DropSignal(Some(tx.clone()), "dropped");
                std::future::pending::<()>().await;
            }
        },
    )
    .with_id("closer");
    selector.auto_requeue();
    selector.start().await.unwrap();
    assert_eq!(recv(&mut rx).await, "started");
    assert!(selector.has_leadership());
    selector.close().await.unwrap();
    assert_eq!(recv(&mut rx).await, "dropped");
    assert!(!selector.has_leadership());
    assert!(c.get_children("/election/close").await.unwrap().is_empty());
    assert!(selector.requeue().is_err());
    // No round runs after close, even with auto-requeue: the channel's senders
    // (held only by the listener and its rounds) are all gone once it is dropped.
    drop(selector);
    assert_eq!(timeout(DEADLINE, rx.recv()).await.unwrap(), None);
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_leaders_lock_node_cancels_its_work_and_interrupt_requeues() {
    let _serial = serial().await;
    let server = server().await;
    let c = connect(&server.connect_string()).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let (nodes_tx, mut nodes) = mpsc::unbounded_channel::<String>();
    let selector = LeaderSelector::new(
        c.clone(),
        "/election/deleted",
        move |ctx: LeadershipContext| {
            let (tx, nodes_tx) = (tx.clone(), nodes_tx.clone());
            async move {
                let _ = nodes_tx.send(ctx.node_path().to_string());
                let _dropped = DropSignal(Some(tx.clone()), "dropped");
                std::future::pending::<()>().await;
            }
        },
    )
    .with_id("doomed");
    selector.auto_requeue();
    selector.start().await.unwrap();
    let first = timeout(DEADLINE, nodes.recv()).await.unwrap().unwrap();

    // Someone deletes the lock node: the work is cancelled, and auto-requeue runs
    // for leadership again on a new node.
    c.delete(&first).await.unwrap();
    assert_eq!(recv(&mut rx).await, "dropped");
    let second = timeout(DEADLINE, nodes.recv()).await.unwrap().unwrap();
    assert_ne!(second, first);
    assert!(selector.has_leadership());

    // interrupt_leadership() ends this leadership the same way.
    selector.interrupt_leadership();
    assert_eq!(recv(&mut rx).await, "dropped");
    let third = timeout(DEADLINE, nodes.recv()).await.unwrap().unwrap();
    assert_ne!(third, second);
    selector.close().await.unwrap();
    assert_eq!(recv(&mut rx).await, "dropped");
    c.close().await;
}
