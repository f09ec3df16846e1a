//! The lock recipes on a real ZooKeeper: mutual exclusion and fencing, re-entrancy,
//! timeouts and cancellation that leave no node, loss signals, lock-gated writes,
//! the read/write lock, the semaphore and the multi-lock.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{
    DEADLINE, SESSION_TIMEOUT, base, connect, connect_with_policy, eventually, expire_session,
    proxy, requests_received, server, until, wait_for_state,
};
use tokio::time::{Instant, timeout};
use zk_core::{Client, Code, ConnectionState, ConnectionStateErrorPolicy, Error};
use zk_recipes::locks::{
    FencingToken, InterProcessMultiLock, InterProcessMutex, InterProcessReadWriteLock,
    InterProcessSemaphoreMutex, InterProcessSemaphoreV2, LockError, Revoker,
};

/// How long a contender that must stay blocked is given to (wrongly) get in.
const BLOCKED_FOR: Duration = Duration::from_millis(800);

/// The children of `path` on the server; none if it does not exist.
async fn children(client: &Client, path: &str) -> Vec<String> {
    match client.get_children(path).await {
        Ok(c) => c,
        Err(e) if e.code() == Some(Code::NoNode) => Vec::new(),
        Err(e) => panic!("list {path}: {e}"),
    }
}

/// Waits until `path` has no children on the server.
async fn no_nodes_under(client: &Client, path: &str) {
    eventually(&format!("no node under {path}"), || async {
        children(client, path).await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contenders_on_separate_clients_never_hold_at_once_and_tokens_grow() {
    let cs = server().await.connect_string();
    let path = base("mutex-exclusion");
    const CONTENDERS: usize = 4;
    const ROUNDS: usize = 8;
    let holders = Arc::new(AtomicUsize::new(0));
    let tokens: Arc<std::sync::Mutex<Vec<FencingToken>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..CONTENDERS {
        let client = connect(&cs).await;
        let (path, holders, tokens) = (path.clone(), holders.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mutex = InterProcessMutex::new(client.clone(), path);
            for _ in 0..ROUNDS {
                let guard = mutex.acquire().await.expect("acquire");
                assert_eq!(
                    holders.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                tokens.lock().unwrap().push(guard.fencing_token());
                tokio::time::sleep(Duration::from_millis(5)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.expect("release");
            }
            client.close().await;
        }));
    }
    for t in tasks {
        timeout(DEADLINE * 2, t)
            .await
            .expect("contenders finish")
            .expect("no panic");
    }
    let tokens = tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), CONTENDERS * ROUNDS);
    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "fencing tokens must strictly increase from holder to holder: {tokens:?}"
    );
    let admin = connect(&cs).await;
    no_nodes_under(&admin, &path).await;
}

#[tokio::test]
async fn a_handle_re_enters_and_its_node_goes_with_the_last_guard() {
    let cs = server().await.connect_string();
    let path = base("mutex-reentrant");
    let client = connect(&cs).await;
    let mutex = InterProcessMutex::new(client.clone(), &path);
    let first = mutex.acquire().await.unwrap();
    let second = timeout(Duration::from_secs(5), mutex.acquire())
        .await
        .expect("a re-entrant acquire returns at once")
        .unwrap();
    assert_eq!(first.node(), second.node());
    assert_eq!(children(&client, &path).await.len(), 1);
    assert!(mutex.is_acquired());
    first.release().await.unwrap();
    assert_eq!(
        children(&client, &path).await.len(),
        1,
        "one guard is still alive"
    );
    second.release().await.unwrap();
    assert!(children(&client, &path).await.is_empty());
    assert!(!mutex.is_acquired());

    // Another handle in the same process is another contender.
    let guard = mutex.acquire().await.unwrap();
    let other = InterProcessMutex::new(client.clone(), &path);
    assert!(other.acquire_timeout(BLOCKED_FOR).await.unwrap().is_none());
    drop(guard);
    let taken = other.acquire_timeout(DEADLINE).await.unwrap();
    assert!(
        taken.is_some(),
        "a dropped guard releases in the background"
    );
}

/// Data watches of `client`'s session, in its own registry.
async fn data_watches(client: &Client) -> usize {
    client.session().watch_counts().await.unwrap().data
}

#[tokio::test]
async fn a_release_costs_create_list_read_and_delete_and_leaves_no_watch() {
    let server = server().await;
    let path = base("mutex-release-requests");
    let client = connect(&server.connect_string()).await;
    let mutex = InterProcessMutex::new(client.clone(), &path);
    // The lock's parent exists from the first acquisition on: from then, an
    // uncontended cycle is a create, a getChildren, the holder's watched read and
    // the delete, and the delete fires that watch, so no removeWatches follows.
    mutex.acquire().await.unwrap().release().await.unwrap();
    const CYCLES: u64 = 20;
    let session = client.session_id();
    let before = requests_received(server, session).await;
    for _ in 0..CYCLES {
        let guard = mutex.acquire().await.unwrap();
        eventually("the holder's watch on its node", || async {
            (data_watches(&client).await == 1).then_some(())
        })
        .await;
        guard.release().await.unwrap();
        assert_eq!(
            data_watches(&client).await,
            0,
            "the delete consumed the watch"
        );
    }
    let sent = requests_received(server, session).await - before;
    // `cons` itself is no request of this session; a ping or two may come in.
    assert!(
        (4 * CYCLES..=4 * CYCLES + 3).contains(&sent),
        "{CYCLES} cycles sent {sent} requests"
    );
}

#[tokio::test]
async fn a_timed_out_or_aborted_acquire_leaves_no_node() {
    let cs = server().await.connect_string();
    let path = base("mutex-cancel");
    let holder_client = connect(&cs).await;
    let holder = InterProcessMutex::new(holder_client.clone(), &path)
        .acquire()
        .await
        .unwrap();
    let client = connect(&cs).await;
    let waiter = InterProcessMutex::new(client.clone(), &path);
    let started = Instant::now();
    assert!(waiter.acquire_timeout(BLOCKED_FOR).await.unwrap().is_none());
    assert!(started.elapsed() >= BLOCKED_FOR);
    // The timed-out acquire deleted its node before it returned.
    assert_eq!(
        children(&client, &path).await,
        vec![path_name(holder.node())]
    );

    // An acquire task aborted while it waits.
    let task = {
        let waiter = waiter.clone();
        tokio::spawn(async move { waiter.acquire().await.map(|g| g.node().to_string()) })
    };
    eventually("the aborted waiter's node appears", || async {
        (children(&client, &path).await.len() == 2).then_some(())
    })
    .await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    eventually("the aborted waiter's node goes", || async {
        (children(&client, &path).await.len() == 1).then_some(())
    })
    .await;

    // Dropped at every point of its first steps (the create in flight included).
    for cut_after in [0u64, 1, 2, 3, 5, 8] {
        let attempt = waiter.acquire();
        let _ = timeout(Duration::from_millis(cut_after), attempt).await;
    }
    eventually("every cancelled acquire's node goes", || async {
        (children(&client, &path).await == vec![path_name(holder.node())]).then_some(())
    })
    .await;
    holder.release().await.unwrap();
    no_nodes_under(&client, &path).await;
}

fn path_name(node: &str) -> String {
    zk_core::path::node_name(node).to_string()
}

#[tokio::test]
async fn connection_loss_during_the_create_leaves_one_node_of_ours() {
    let server = server().await;
    let path = base("mutex-drop-replies");
    let proxy = proxy(server.addr()).await;
    let client = connect(&proxy.connect_string()).await;
    let admin = connect(&server.connect_string()).await;
    // Make the parent first, so the create below is the one whose reply is lost.
    admin.create(&path, b"").create_parents().await.unwrap();
    proxy.drop_replies().await.unwrap();
    let mutex = InterProcessMutex::new(client.clone(), &path);
    let acquiring =
        tokio::spawn(async move { mutex.acquire().await.map(|g| (g.node().to_string(), g)) });
    // The create reached the server; its reply did not come back.
    eventually("the lock node is created on the server", || async {
        (!children(&admin, &path).await.is_empty()).then_some(())
    })
    .await;
    // The connection breaks with the reply lost: the outcome is unknown to the
    // client, which reconnects (same session) and retries.
    proxy.cut().await;
    proxy.heal().await.unwrap();
    let (node, guard) = timeout(DEADLINE, acquiring)
        .await
        .expect("the acquire completes after the heal")
        .unwrap()
        .expect("acquire");
    let nodes = children(&admin, &path).await;
    assert_eq!(nodes, vec![path_name(&node)], "one node, no duplicate");
    let stat = admin.exists(&node).await.unwrap().expect("the node exists");
    assert_eq!(
        stat.ephemeral_owner,
        client.session_id(),
        "owned by our session"
    );
    assert!(guard.is_held());
    guard.release().await.unwrap();
}

#[tokio::test]
async fn a_guard_is_lost_at_suspended_under_the_standard_policy_and_at_lost_only_otherwise() {
    let server = server().await;
    let path = base("mutex-lost");
    for policy in [
        ConnectionStateErrorPolicy::Standard,
        ConnectionStateErrorPolicy::SessionOnly,
    ] {
        let proxy = proxy(server.addr()).await;
        let client = connect_with_policy(&proxy.connect_string(), SESSION_TIMEOUT, policy).await;
        let mut states = client.connection_states();
        let guard = InterProcessMutex::new(client.clone(), &path)
            .acquire()
            .await
            .unwrap();
        assert!(guard.is_held());
        proxy.cut().await;
        wait_for_state(&mut states, ConnectionState::Suspended).await;
        if policy == ConnectionStateErrorPolicy::Standard {
            timeout(DEADLINE, guard.lost())
                .await
                .expect("lost at SUSPENDED");
            assert!(!guard.is_held());
        } else {
            // Still held while only suspended; LOST ends it.
            assert!(guard.is_held());
            wait_for_state(&mut states, ConnectionState::Lost).await;
            timeout(DEADLINE, guard.lost()).await.expect("lost at LOST");
        }
        proxy.heal().await.unwrap();
        client.close().await;
    }
}

#[tokio::test]
async fn after_expiry_the_guard_is_lost_the_next_contender_holds_and_release_says_so() {
    let server = server().await;
    let cs = server.connect_string();
    let path = base("mutex-expiry");
    let client = connect(&cs).await;
    let guard = InterProcessMutex::new(client.clone(), &path)
        .acquire()
        .await
        .unwrap();
    let other_client = connect(&cs).await;
    let other = InterProcessMutex::new(other_client.clone(), &path);
    let waiting = tokio::spawn(async move { other.acquire().await });
    eventually("the other contender waits", || async {
        (children(&other_client, &path).await.len() == 2).then_some(())
    })
    .await;
    expire_session(&cs, &client).await;
    timeout(DEADLINE, guard.lost())
        .await
        .expect("the guard learns of the loss");
    assert!(!guard.is_held());
    let next = timeout(DEADLINE, waiting).await.unwrap().unwrap().unwrap();
    assert!(next.fencing_token() > guard.fencing_token());
    // The write gated on the old guard no longer commits.
    let gated = guard
        .transaction()
        .create(format!("{path}-gated"), b"x")
        .await;
    assert!(
        gated.is_err(),
        "a lock-gated write after the loss must fail"
    );
    assert!(admin_missing(&other_client, &format!("{path}-gated")).await);
    match guard.release().await {
        Err(LockError::LostBeforeRelease { node }) => assert!(node.starts_with(&path)),
        other => panic!("release after expiry: {other:?}"),
    }
    next.release().await.unwrap();
}

async fn admin_missing(client: &Client, path: &str) -> bool {
    client.exists(path).await.unwrap().is_none()
}

#[tokio::test]
async fn lock_gated_writes_commit_while_held() {
    let cs = server().await.connect_string();
    let path = base("mutex-gated");
    let client = connect(&cs).await;
    let guard = InterProcessMutex::new(client.clone(), &path)
        .acquire()
        .await
        .unwrap();
    let data = format!("{path}-data");
    guard
        .transaction()
        .create(&data, b"v1")
        .await
        .expect("the gated write commits");
    assert_eq!(client.get_data(&data).await.unwrap().0.as_ref(), b"v1");
    let node = guard.node().to_string();
    guard.release().await.unwrap();
    // The same check on the released node fails, and writes nothing.
    let late = client
        .transaction()
        .check(node, -1)
        .set_data(&data, b"v2")
        .await;
    assert!(late.is_err());
    assert_eq!(client.get_data(&data).await.unwrap().0.as_ref(), b"v1");
}

#[tokio::test]
async fn bad_input_gets_a_typed_error() {
    let cs = server().await.connect_string();
    let client = connect(&cs).await;
    let bad = InterProcessMutex::new(client.clone(), "no-leading-slash");
    match bad.acquire().await {
        Err(LockError::ZooKeeper(Error::InvalidPath(_))) => {}
        other => panic!("invalid path: {other:?}"),
    }
    let zero = InterProcessSemaphoreV2::new(client.clone(), base("sem-zero"), 0);
    assert!(matches!(
        zero.acquire().await,
        Err(LockError::InvalidArgument(_))
    ));
    let two = InterProcessSemaphoreV2::new(client.clone(), base("sem-many"), 2);
    assert!(matches!(
        two.acquire_many(0, DEADLINE).await,
        Err(LockError::InvalidArgument(_))
    ));
    assert!(matches!(
        two.acquire_many(3, DEADLINE).await,
        Err(LockError::InvalidArgument(_))
    ));
    client.close().await;
    let closed = InterProcessMutex::new(client.clone(), base("closed"));
    match closed.acquire().await {
        Err(LockError::ZooKeeper(Error::Closed)) => {}
        other => panic!("acquire on a closed client: {other:?}"),
    }
}

#[tokio::test]
async fn readers_share_a_writer_excludes_and_a_writer_downgrades() {
    let cs = server().await.connect_string();
    let path = base("rwlock");
    let (a, b, c) = (connect(&cs).await, connect(&cs).await, connect(&cs).await);
    let lock_a = InterProcessReadWriteLock::new(a.clone(), &path);
    let lock_b = InterProcessReadWriteLock::new(b.clone(), &path);
    let lock_c = InterProcessReadWriteLock::new(c.clone(), &path);

    let read_a = lock_a.read_lock().acquire().await.unwrap();
    let read_b = timeout(DEADLINE, lock_b.read_lock().acquire())
        .await
        .expect("readers share")
        .unwrap();
    assert!(
        lock_c
            .write_lock()
            .acquire_timeout(BLOCKED_FOR)
            .await
            .unwrap()
            .is_none()
    );
    read_a.release().await.unwrap();
    read_b.release().await.unwrap();

    let write = lock_c.write_lock().acquire().await.unwrap();
    assert!(zk_core::path::node_name(write.node()).contains("__WRIT__"));
    assert!(
        lock_a
            .read_lock()
            .acquire_timeout(BLOCKED_FOR)
            .await
            .unwrap()
            .is_none()
    );

    // Downgrade: the writer takes the read lock at once, then lets the write go.
    let downgraded = timeout(Duration::from_secs(5), lock_c.read_lock().acquire())
        .await
        .expect("a writer takes the read lock at once")
        .unwrap();
    assert!(zk_core::path::node_name(downgraded.node()).contains("__READ__"));
    let writer_b = {
        let lock_b = lock_b.clone();
        tokio::spawn(async move { lock_b.write_lock().acquire().await })
    };
    eventually("the second writer waits", || async {
        (children(&a, &path).await.len() == 3).then_some(())
    })
    .await;
    write.release().await.unwrap();
    // The downgraded reader still reads: the waiting writer must not get in
    // (Curator 5.4 let it: CURATOR-621).
    let reader_a = timeout(DEADLINE, lock_a.read_lock().acquire_timeout(BLOCKED_FOR))
        .await
        .unwrap()
        .unwrap();
    // A reader behind the waiting writer waits for it.
    assert!(reader_a.is_none());
    assert!(
        !writer_b.is_finished(),
        "the writer got in while a reader held"
    );
    downgraded.release().await.unwrap();
    let w = timeout(DEADLINE, writer_b).await.unwrap().unwrap().unwrap();
    w.release().await.unwrap();
    no_nodes_under(&a, &path).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_semaphore_never_grants_more_than_its_leases() {
    let cs = server().await.connect_string();
    let path = base("semaphore");
    const MAX: usize = 2;
    const CONTENDERS: usize = 5;
    const ROUNDS: usize = 4;
    let holding = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONTENDERS {
        let client = connect(&cs).await;
        let (path, holding, most) = (path.clone(), holding.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            let semaphore = InterProcessSemaphoreV2::new(client.clone(), path, MAX);
            for _ in 0..ROUNDS {
                let lease = semaphore.acquire().await.expect("a lease");
                let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                assert!(now <= MAX, "{now} leases held at once");
                tokio::time::sleep(Duration::from_millis(20)).await;
                holding.fetch_sub(1, Ordering::SeqCst);
                lease.release().await.expect("release");
            }
            client.close().await;
        }));
    }
    for t in tasks {
        timeout(DEADLINE * 2, t)
            .await
            .expect("contenders finish")
            .expect("no panic");
    }
    assert_eq!(most.load(Ordering::SeqCst), MAX, "the leases were shared");

    // All or nothing: two leases of two while one is out times out and keeps none.
    let client = connect(&cs).await;
    let semaphore = InterProcessSemaphoreV2::new(client.clone(), &path, MAX);
    let one = semaphore.acquire().await.unwrap();
    assert!(zk_core::path::node_name(one.node()).contains("lease-"));
    let other = InterProcessSemaphoreV2::new(connect(&cs).await, &path, MAX);
    assert!(other.acquire_many(2, BLOCKED_FOR).await.unwrap().is_none());
    assert_eq!(children(&client, &format!("{path}/leases")).await.len(), 1);
    one.release().await.unwrap();
    let both = other
        .acquire_many(2, DEADLINE)
        .await
        .unwrap()
        .expect("two leases");
    assert_eq!(both.len(), 2);
    for lease in both {
        lease.release().await.unwrap();
    }
    no_nodes_under(&client, &format!("{path}/leases")).await;
}

#[tokio::test]
async fn a_semaphore_mutex_is_not_re_entrant() {
    let cs = server().await.connect_string();
    let client = connect(&cs).await;
    let mutex = InterProcessSemaphoreMutex::new(client.clone(), base("semaphore-mutex"));
    let guard = mutex.acquire().await.unwrap();
    assert!(mutex.acquire_timeout(BLOCKED_FOR).await.unwrap().is_none());
    guard.release().await.unwrap();
    let again = mutex.acquire_timeout(DEADLINE).await.unwrap();
    assert!(again.is_some());
}

#[tokio::test]
async fn a_multi_lock_takes_all_or_nothing() {
    let cs = server().await.connect_string();
    let (p1, p2) = (base("multi-1"), base("multi-2"));
    let client = connect(&cs).await;
    let other = connect(&cs).await;
    let blocker = InterProcessMutex::new(other.clone(), &p2)
        .acquire()
        .await
        .unwrap();
    let multi = InterProcessMultiLock::new([
        InterProcessMutex::new(client.clone(), &p1),
        InterProcessMutex::new(client.clone(), &p2),
    ]);
    assert!(multi.acquire_timeout(BLOCKED_FOR).await.unwrap().is_none());
    assert!(
        children(&client, &p1).await.is_empty(),
        "the first lock was given back"
    );
    blocker.release().await.unwrap();
    let all = multi
        .acquire_timeout(DEADLINE)
        .await
        .unwrap()
        .expect("both locks");
    assert_eq!(all.fencing_tokens().len(), 2);
    assert!(all.is_held());
    all.transaction()
        .create(format!("{p1}-gated"), b"")
        .await
        .expect("a write gated on both locks");
    all.release().await.unwrap();
    no_nodes_under(&client, &p1).await;
    no_nodes_under(&client, &p2).await;
}

#[tokio::test]
async fn a_revocable_holder_hears_a_revocation_request() {
    let cs = server().await.connect_string();
    let path = base("revocable");
    let client = connect(&cs).await;
    let mutex = InterProcessMutex::new(client.clone(), &path);
    let asked = Arc::new(AtomicUsize::new(0));
    {
        let asked = asked.clone();
        mutex.make_revocable(move || {
            asked.fetch_add(1, Ordering::SeqCst);
        });
    }
    let guard = mutex.acquire().await.unwrap();
    let (data, _) = client.get_data(guard.node()).await.unwrap();
    assert!(
        data.is_empty(),
        "a revocable lock's node holds no data, as Curator's"
    );
    let nodes = mutex.participant_nodes().await.unwrap();
    assert_eq!(nodes, vec![guard.node().to_string()]);
    let other = connect(&cs).await;
    Revoker::attempt_revoke(&other, &nodes[0]).await.unwrap();
    until("the revocation listener is called", || {
        asked.load(Ordering::SeqCst) == 1
    })
    .await;
    assert!(guard.is_held(), "a revocation is a request, not a loss");
    guard.release().await.unwrap();
    // Revoking a gone node is fine.
    Revoker::attempt_revoke(&other, &nodes[0]).await.unwrap();
}

#[tokio::test]
async fn a_held_node_deleted_by_someone_else_makes_the_guard_lost() {
    let cs = server().await.connect_string();
    let path = base("mutex-deleted");
    let client = connect(&cs).await;
    let guard = InterProcessMutex::new(client.clone(), &path)
        .acquire()
        .await
        .unwrap();
    let admin = connect(&cs).await;
    admin.delete(guard.node()).await.unwrap();
    timeout(DEADLINE, guard.lost())
        .await
        .expect("the holder learns its node is gone");
    assert!(!guard.is_held());
    assert!(matches!(
        guard.release().await,
        Err(LockError::LostBeforeRelease { .. })
    ));
}
