//! How a session begins and ends on a real standalone server: the events of a
//! restart, expiry (by a long pause, by `expire_session`, by `abandon`), `close()`
//! and its bound, and nothing left behind once the last handle is dropped.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use zk_core::{
    Acl, CreateMode, Disconnect, Error, EventType, KeeperState, Session, SessionEvent,
    SessionEvents, SessionState,
};
use zk_testing::{Proxy, ServerConfig, TestingServer, expire_session, four_letter_word};

async fn ephemeral(s: &Session, name: &str) -> String {
    s.create(
        &unique(name),
        b"",
        &[Acl::open_unsafe()],
        CreateMode::Ephemeral,
    )
    .await
    .expect("create ephemeral")
    .0
}

/// Waits until `path` is gone, as seen by `observer`.
async fn gone(observer: &Session, path: &str, limit: Duration) {
    within(limit, &format!("{path} to disappear"), async {
        match observer.exists_watched(path).await.unwrap() {
            (None, _) => {}
            (Some(_), w) => {
                let ev = w.await;
                assert_eq!(ev.event_type, EventType::NodeDeleted, "{ev:?}");
            }
        }
    })
    .await
}

/// Whether the server's `cons` lists the session's connection.
async fn server_lists(server: SocketAddr, session_id: i64) -> bool {
    let cons = four_letter_word(server, "cons").await.expect("cons");
    mentions_session(&cons, session_id)
}

#[tokio::test]
async fn a_server_restart_shows_disconnected_then_syncconnected_and_the_session_survives() {
    let mut server = own_server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let id = s.session_id();
    let eph = ephemeral(&s, "restart").await;

    server.stop().await;
    match next_event(&mut events).await {
        SessionEvent::Disconnected(Disconnect::Eof | Disconnect::Io(_)) => {}
        other => panic!("expected Disconnected by the server, got {other:?}"),
    }
    // Operations issued meanwhile fail as connection loss, retryable.
    let err = bounded("an op while the server is down", s.exists("/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLoss(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(s.state(), SessionState::Connecting);

    within(Duration::from_secs(60), "the restart", server.restart())
        .await
        .expect("restart");
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::SyncConnected
    ));
    assert_eq!(s.state(), SessionState::Connected);
    assert_eq!(s.session_id(), id, "the same session resumed");
    let stat = s
        .exists(&eph)
        .await
        .unwrap()
        .expect("the ephemeral survived");
    assert_eq!(stat.ephemeral_owner, id);
    s.close().await;
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::Closed
    ));
}

/// The session goes through a proxy, cut the moment the server is frozen, so that
/// nothing of the session's reaches the server after the freeze: no ping sent during
/// the pause and no reconnect attempt queued in the frozen server's accept backlog,
/// which the server would otherwise read on thawing and take as signs of life.
#[tokio::test]
async fn a_pause_longer_than_the_session_timeout_shows_expired_after_resume() {
    let config_ = ServerConfig::builder()
        .tick_time(Duration::from_millis(100))
        .session_timeouts(Duration::from_millis(200), Duration::from_secs(60))
        .build()
        .expect("valid config");
    let mut server = TestingServer::start_with(config_)
        .await
        .expect("ZooKeeper starts");
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let timeout = Duration::from_secs(2);
    let (s, mut events) = start_with_events(config(&proxy.connect_string(), timeout)).await;
    assert_eq!(s.negotiated_timeout(), timeout);
    let eph = ephemeral(&s, "paused").await;
    // The reply to this request arrives before the freeze, and resets the ping timer:
    // the next ping is due a third of the timeout from now, long after the cut.
    let (_, _, watch) = s.get_data_watched(&eph).await.unwrap();

    server.pause().expect("pause");
    proxy.cut().await;
    let (ev, _) = wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    assert!(matches!(ev, SessionEvent::Disconnected(_)));
    // Frozen for more than the session timeout (bounded sleep: nothing to await).
    tokio::time::sleep(timeout * 2).await;
    server.resume().expect("resume");

    // The thawed server expires the session: a fresh client sees the ephemeral go.
    let observer = connect(&server.connect_string()).await;
    gone(&observer, &eph, DEADLINE).await;

    proxy.heal().await.expect("heal");
    let (ev, skipped) = wait_event(&mut events, DEADLINE, "Expired", |e| {
        matches!(e, SessionEvent::Expired)
    })
    .await;
    assert!(matches!(ev, SessionEvent::Expired));
    assert!(
        !skipped
            .iter()
            .any(|e| matches!(e, SessionEvent::SyncConnected)),
        "never reconnected on the dead session: {skipped:?}"
    );
    assert_eq!(s.state(), SessionState::Expired);
    let ev = bounded("the watch's end", watch).await;
    assert!(ev.is_session_end());
    assert_eq!(ev.keeper_state, KeeperState::Expired);
    assert!(matches!(s.exists("/").await, Err(Error::SessionExpired)));
    assert!(matches!(
        s.wait_connected(DEADLINE).await,
        Err(Error::SessionExpired)
    ));
    observer.close().await;
}

#[tokio::test]
async fn expire_session_from_the_test_kit_expires_the_owner() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let observer = connect(&server.connect_string()).await;
    let eph = ephemeral(&s, "expire").await;
    let (_, _, watch) = s.get_data_watched(&eph).await.unwrap();

    bounded(
        "expire_session",
        expire_session(
            &server.connect_string(),
            s.session_id(),
            &s.session_password(),
        ),
    )
    .await
    .expect("expire_session");
    // The server removed the session at once.
    assert_eq!(observer.exists(&eph).await.unwrap(), None);

    let (ev, skipped) = wait_event(&mut events, DEADLINE, "Expired", |e| {
        matches!(e, SessionEvent::Expired)
    })
    .await;
    assert!(matches!(ev, SessionEvent::Expired));
    assert!(
        skipped
            .iter()
            .all(|e| matches!(e, SessionEvent::Disconnected(_))),
        "{skipped:?}"
    );
    let ev = bounded("the watch's end", watch).await;
    assert_eq!(ev.keeper_state, KeeperState::Expired);
    assert!(matches!(s.exists("/").await, Err(Error::SessionExpired)));
    assert!(Error::SessionExpired.is_retryable());

    // A session that no longer exists cannot be expired again.
    let again = expire_session(
        &server.connect_string(),
        s.session_id(),
        &s.session_password(),
    )
    .await;
    assert!(again.is_err(), "{again:?}");
    observer.close().await;
}

#[tokio::test]
async fn abandon_ends_the_session_as_expired_and_drops_its_ephemerals_now() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let observer = connect(&server.connect_string()).await;
    let eph = ephemeral(&s, "abandon").await;
    bounded("abandon", s.abandon()).await;
    assert_eq!(s.state(), SessionState::Expired);
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::Expired
    ));
    assert_eq!(observer.exists(&eph).await.unwrap(), None);
    assert!(matches!(s.get_data(&eph).await, Err(Error::SessionExpired)));
    observer.close().await;
}

#[tokio::test]
async fn close_sends_closesession_so_ephemerals_vanish_at_once_and_the_connection_is_gone() {
    let server = server().await;
    let (s, mut events) =
        start_with_events(config(&server.connect_string(), SESSION_TIMEOUT)).await;
    let observer = connect(&server.connect_string()).await;
    let id = s.session_id();
    let eph = ephemeral(&s, "close").await;
    assert!(server_lists(server.addr(), id).await);

    bounded("close", s.close()).await;
    assert_eq!(s.state(), SessionState::Closed);
    assert!(matches!(
        next_event(&mut events).await,
        SessionEvent::Closed
    ));
    assert_eq!(
        observer.exists(&eph).await.unwrap(),
        None,
        "closeSession removed the ephemeral before close() returned"
    );
    bounded("the server to drop the connection", async {
        while server_lists(server.addr(), id).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    observer.close().await;
}

#[tokio::test]
async fn close_is_bounded_while_the_server_is_frozen() {
    let mut server = own_server().await;
    let mut cfg = config(&server.connect_string(), SESSION_TIMEOUT);
    cfg = cfg.with_close_timeout(Duration::from_secs(1));
    let (s, mut events) = start_with_events(cfg).await;
    server.pause().expect("pause");
    let started = tokio::time::Instant::now();
    within(
        Duration::from_secs(5),
        "close on a frozen server",
        s.close(),
    )
    .await;
    let took = started.elapsed();
    let (last, before) = wait_event(&mut events, DEADLINE, "Closed", |e| e.is_terminal()).await;
    assert!(matches!(last, SessionEvent::Closed), "{last:?}");
    assert!(before.is_empty(), "the connection stayed up: {before:?}");
    assert!(
        took >= Duration::from_millis(900),
        "waited for the ack: {took:?}"
    );
    assert_eq!(s.state(), SessionState::Closed);
    server.resume().expect("resume");
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_session_promptly() {
    let server = server().await;
    let observer = connect(&server.connect_string()).await;
    // A long timeout: if the session were merely abandoned, its ephemeral would stay
    // for a minute, far past the wait below.
    let s = connect_with(&server.connect_string(), Duration::from_secs(60)).await;
    let id = s.session_id();
    let eph = ephemeral(&s, "dropped").await;
    let clone = s.clone();
    let mut state = s.state_watch();
    drop(s);
    assert!(
        observer.exists(&eph).await.unwrap().is_some(),
        "a clone still holds it"
    );
    drop(clone);
    gone(&observer, &eph, Duration::from_secs(10)).await;
    bounded(
        "the task's final state",
        state.wait_for(|s| s.is_terminal()),
    )
    .await
    .expect("state published");
    assert_eq!(*state.borrow(), SessionState::Closed);
    bounded("the server to drop the connection", async {
        while server_lists(server.addr(), id).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    observer.close().await;
}

#[tokio::test]
async fn a_session_with_no_reachable_server_fails_operations_and_times_out_waiting() {
    // A port nobody listens on: bind one, then free it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = Session::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
    let err = s
        .wait_connected(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionTimeout(_)), "{err:?}");
    let err = bounded("an op with no server", s.exists("/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLoss(_)), "{err:?}");
    bounded("close with no server", s.close()).await;
    assert_eq!(s.state(), SessionState::Closed);

    let err = Session::connect("127.0.0.1:notaport", Duration::from_secs(2)).unwrap_err();
    assert!(matches!(err, Error::InvalidConnectString(_)), "{err:?}");
}

/// The first handle goes through a proxy, cut before the second handle resumes
/// its session: otherwise the two would take the session from each other in turn
/// (the server gives a session to its newest connection).
#[tokio::test]
async fn a_session_resumed_from_its_id_and_password_is_the_same_session() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let (first, mut first_events) =
        start_with_events(config(&proxy.connect_string(), SESSION_TIMEOUT)).await;
    let eph = ephemeral(&first, "resumed").await;
    proxy.cut().await;
    let (ev, _) = wait_event(&mut first_events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    assert!(matches!(ev, SessionEvent::Disconnected(_)));

    let mut cfg = config(&server.connect_string(), SESSION_TIMEOUT);
    cfg = cfg.with_resume(first.session_id(), first.session_password());
    let (second, mut second_events) = start_with_events(cfg).await;
    assert_eq!(second.session_id(), first.session_id());
    assert_eq!(second.get_ephemerals("/").await.unwrap(), vec![eph.clone()]);

    // Closing it through the second handle ends it for the first too.
    second.close().await;
    assert!(matches!(
        next_event(&mut second_events).await,
        SessionEvent::Closed
    ));
    proxy.heal().await.expect("heal");
    let (ev, skipped) =
        wait_event(&mut first_events, DEADLINE, "Expired", |e| e.is_terminal()).await;
    assert!(matches!(ev, SessionEvent::Expired), "{ev:?}");
    assert!(
        !skipped
            .iter()
            .any(|e| matches!(e, SessionEvent::SyncConnected)),
        "{skipped:?}"
    );

    // Resuming a session that is gone is an expiry from the start.
    let mut cfg = config(&server.connect_string(), SESSION_TIMEOUT);
    cfg = cfg.with_resume(first.session_id(), first.session_password());
    let third = Session::start(cfg);
    let err = third.wait_connected(DEADLINE).await.unwrap_err();
    assert!(matches!(err, Error::SessionExpired), "{err:?}");
}

/// Waits for `s` to connect again and checks that the write of `path`, whose reply
/// was lost, was applied.
async fn applied_once_reconnected(s: &Session, events: &mut SessionEvents, path: &str) {
    wait_event(events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert!(
        s.exists(path).await.unwrap().is_some(),
        "the write was applied"
    );
}

/// The server applies a write but its reply never arrives: the client cannot know
/// the outcome, and says so with ConnectionLoss (at the read timeout, since pings go
/// unanswered too); after the reconnect the write is there.
#[tokio::test]
async fn a_write_whose_reply_is_lost_fails_with_connection_loss_though_it_was_applied() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    let timeout = Duration::from_secs(3);
    let (s, mut events) = start_with_events(config(&proxy.connect_string(), timeout)).await;
    let path = unique("lost-reply");

    proxy.drop_replies().await.expect("drop replies");
    let err = bounded(
        "the write to fail",
        s.create(&path, b"", &[Acl::open_unsafe()], CreateMode::Persistent),
    )
    .await
    .unwrap_err();
    match &err {
        Error::ConnectionLoss(Disconnect::ReadTimeout(t)) => assert_eq!(*t, timeout * 2 / 3),
        other => panic!("expected ConnectionLoss at the read timeout, got {other:?}"),
    }
    assert!(err.is_retryable());
    proxy.heal().await.expect("heal");
    applied_once_reconnected(&s, &mut events, &path).await;
    s.close().await;
}

/// A reply lost on a connection that stays up: a middlebox drops the server's reply
/// to a write and then forwards again, so pings keep the connection alive and no
/// read timeout comes. The server answers a session's requests and pings in the
/// order it read them, so the first ping answered after the write proves its reply
/// lost: the write fails with ConnectionLoss (ReplyLost) then, instead of waiting
/// for ever, and the retry after the reconnect can find it applied.
#[tokio::test]
async fn a_reply_lost_on_a_live_connection_fails_its_request_at_the_next_ping() {
    let server = server().await;
    let proxy = Proxy::start(server.addr()).await.expect("proxy");
    // A read timeout of 4 s and a ping every 2 s: the outage below is far shorter.
    let (s, mut events) =
        start_with_events(config(&proxy.connect_string(), Duration::from_secs(6))).await;
    let observer = connect(&server.connect_string()).await;
    let path = unique("lost-reply-live");
    let (absent, created) = observer.exists_watched(&path).await.unwrap();
    assert!(absent.is_none());

    proxy.drop_replies().await.expect("drop replies");
    let acl = [Acl::open_unsafe()];
    let write = s.create(&path, b"", &acl, CreateMode::Persistent);
    // The create's reply frame: length, reply header, the path. A ping's reply is
    // 20 bytes, and at most one ping falls in this short window.
    let reply_len = 4 + 16 + 4 + path.len() as u64;
    let heal_once_dropped = async {
        let ev = within(DEADLINE, "the write to reach the server", created).await;
        assert_eq!(ev.event_type, EventType::NodeCreated, "{ev:?}");
        // The observer hears of the node as the writer's reply leaves the server:
        // heal only once the proxy has thrown that reply away.
        within(DEADLINE, "the proxy to drop the write's reply", async {
            while proxy.dropped_reply_bytes() < reply_len {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        proxy.heal().await.expect("heal");
    };
    let (result, ()) = bounded("the write to fail", async {
        tokio::join!(write, heal_once_dropped)
    })
    .await;
    match result {
        Err(Error::ConnectionLoss(Disconnect::ReplyLost { .. })) => {}
        other => panic!("expected ConnectionLoss(ReplyLost), got {other:?}"),
    }
    applied_once_reconnected(&s, &mut events, &path).await;
    s.close().await;
    observer.close().await;
}
