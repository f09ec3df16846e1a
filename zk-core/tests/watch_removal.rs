//! Dropped watches are removed, from the client's table and from the server: a
//! watch dropped before it fired is forgotten, and the server's watch goes once no
//! other local watch on its path needs it. Each test has a server of its own, as
//! the server's watch counts are the server's, not a session's.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use zk_core::{AddWatchMode, EventType, Session, WatchCounts};

/// The server's watches over both of its tables (`mntr` `zk_watch_count`; `wchs`
/// counts the data table only).
async fn server_watches(addr: SocketAddr) -> usize {
    let mntr = zk_testing::four_letter_word(addr, "mntr").await.unwrap();
    mntr.lines()
        .find_map(|l| l.strip_prefix("zk_watch_count"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no zk_watch_count in mntr: {mntr}"))
}

/// The data table's watches as `wchs` reports them: (paths, total watches).
async fn wchs(addr: SocketAddr) -> (usize, usize) {
    let out = zk_testing::four_letter_word(addr, "wchs").await.unwrap();
    let num = |after: &str| -> usize {
        let at = out
            .find(after)
            .unwrap_or_else(|| panic!("{after} in {out}"))
            + after.len();
        out[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number after {after} in {out}"))
    };
    (num("watching"), num("Total watches:"))
}

/// The session's local watch table, once every drop notice sent so far is handled.
async fn local(s: &Session) -> WatchCounts {
    bounded("the watch counts", s.watch_counts()).await.unwrap()
}

/// One request answered: everything the session wrote before it (the removals
/// its drops caused included) has been handled by the server.
async fn round_trip(s: &Session) {
    bounded("a round trip", s.exists("/")).await.unwrap();
}

/// Waits until the server counts `want` watches, within the deadline; the count is
/// polled because nothing tells the client when a removal it did not await is done.
async fn wait_server_watches(addr: SocketAddr, want: usize) {
    let mut last = usize::MAX;
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            last = server_watches(addr).await;
            if last == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "server watches {last}, want {want}");
}

#[tokio::test]
async fn dropped_watches_leave_neither_the_client_table_nor_the_server() {
    let server = own_server().await;
    let addr = server.addr();
    let s = connect(&server.connect_string()).await;
    let base = mk(&s, "/dropped", b"").await;
    const N: usize = 50;
    let mut nodes = Vec::new();
    for i in 0..N {
        nodes.push(mk(&s, &format!("{base}/n{i}"), b"x").await);
    }
    let mut watches = Vec::new();
    for n in &nodes {
        watches.push(s.get_data_watched(n).await.unwrap().2);
        watches.push(s.get_children_watched(n).await.unwrap().2);
        let (stat, w) = s.exists_watched(&format!("{n}-missing")).await.unwrap();
        assert!(stat.is_none());
        watches.push(w);
    }
    let persistent = s
        .add_watch(&nodes[0], AddWatchMode::Persistent)
        .await
        .unwrap();
    let recursive = s
        .add_watch(&base, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let before = local(&s).await;
    assert_eq!(
        before,
        WatchCounts {
            data: N,
            exist: N,
            child: N,
            persistent: 1,
            recursive: 1,
        }
    );
    // Data and exist watches in the data table, child watches in the child table;
    // the persistent watch shares both entries of nodes[0], the recursive one adds
    // an entry to each table (a 3.8 server keeps it in both).
    assert_eq!(server_watches(addr).await, 3 * N + 2);
    assert_eq!(wchs(addr).await, (2 * N + 1, 2 * N + 1));

    drop(watches);
    drop(persistent);
    drop(recursive);
    assert_eq!(local(&s).await, WatchCounts::default());
    round_trip(&s).await;
    assert_eq!(server_watches(addr).await, 0);
    assert_eq!(wchs(addr).await, (0, 0));
    s.close().await;
}

#[tokio::test]
async fn two_watchers_on_one_path_share_the_server_watch_until_the_last_goes() {
    let server = own_server().await;
    let addr = server.addr();
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let node = mk(&s, "/shared", b"0").await;
    let (_, _, first) = s.get_data_watched(&node).await.unwrap();
    let (_, _, second) = s.get_data_watched(&node).await.unwrap();
    assert_eq!(server_watches(addr).await, 1, "one server watch for both");

    drop(first);
    assert_eq!(local(&s).await.data, 1);
    round_trip(&s).await;
    assert_eq!(
        server_watches(addr).await,
        1,
        "the second watcher still needs it"
    );

    other.set_data(&node, b"1", None).await.unwrap();
    let ev = bounded("the remaining watch", second).await;
    assert_eq!(ev.event_type, EventType::NodeDataChanged);
    assert_eq!(local(&s).await, WatchCounts::default());
    assert_eq!(server_watches(addr).await, 0, "a fired watch is gone");
    s.close().await;
    other.close().await;
}

/// The race the session task guards against: a watch dropped while a watched read
/// of its path is in flight. A removal sent behind that read would remove the watch
/// the read sets; the task sends none, and the new watch fires.
#[tokio::test]
async fn a_drop_racing_a_watched_read_keeps_the_new_watch() {
    let server = own_server().await;
    let addr = server.addr();
    let s = connect(&server.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let node = mk(&s, "/raced", b"0").await;
    let (_, _, old) = s.get_data_watched(&node).await.unwrap();

    // The new read is sent first (one poll puts it on the task's channel), then the
    // old watch is dropped: on this single-threaded runtime the task takes both in
    // that order, before the read's reply can arrive.
    let mut read = Box::pin(s.get_data_watched(&node));
    let early = futures::poll!(&mut read);
    drop(old);
    let new = match early {
        std::task::Poll::Ready(r) => r.unwrap().2,
        std::task::Poll::Pending => bounded("the watched read", read).await.unwrap().2,
    };
    assert_eq!(local(&s).await.data, 1);
    round_trip(&s).await;
    assert_eq!(
        server_watches(addr).await,
        1,
        "the new watch is on the server"
    );

    other.set_data(&node, b"1", None).await.unwrap();
    let ev = bounded("the new watch", new).await;
    assert_eq!(ev.event_type, EventType::NodeDataChanged);
    s.close().await;
    other.close().await;
}

/// A watched read whose caller gives up while it is in flight: the reply adds a
/// watch nobody holds, and the task removes it from the server at once.
#[tokio::test]
async fn a_watched_read_abandoned_in_flight_leaves_no_server_watch() {
    let server = own_server().await;
    let addr = server.addr();
    let s = connect(&server.connect_string()).await;
    let node = mk(&s, "/abandoned", b"0").await;
    let mut read = Box::pin(s.get_children_watched(&node));
    assert!(
        futures::poll!(&mut read).is_pending(),
        "a reply cannot arrive before the task has run"
    );
    drop(read);
    round_trip(&s).await;
    wait_server_watches(addr, 0).await;
    assert_eq!(local(&s).await, WatchCounts::default());
    s.close().await;
}

/// While disconnected nothing is sent; the reconnection's SetWatches leaves the
/// dropped watch out, and the kept one still fires.
#[tokio::test]
async fn a_watch_dropped_while_disconnected_is_not_reregistered() {
    let server = own_server().await;
    let proxy = zk_testing::Proxy::start(server.addr()).await.unwrap();
    let s = connect(&proxy.connect_string()).await;
    let other = connect(&server.connect_string()).await;
    let gone = mk(&s, "/gone-while-away", b"0").await;
    let kept = mk(&s, "/kept-while-away", b"0").await;
    let (_, _, dropped) = s.get_data_watched(&gone).await.unwrap();
    let (_, _, watch) = s.get_data_watched(&kept).await.unwrap();

    let mut states = s.state_watch();
    proxy.cut().await;
    bounded("the disconnect", states.wait_for(|st| !st.is_connected()))
        .await
        .unwrap();
    drop(dropped);
    assert_eq!(local(&s).await.data, 1, "forgotten while disconnected");
    proxy.heal().await.unwrap();
    bounded("the reconnect", states.wait_for(|st| st.is_connected()))
        .await
        .unwrap();
    round_trip(&s).await;
    wait_server_watches(server.addr(), 1).await;
    other.set_data(&kept, b"1", None).await.unwrap();
    assert_eq!(
        bounded("the kept watch", watch).await.event_type,
        EventType::NodeDataChanged
    );
    s.close().await;
    other.close().await;
}
