//! A reply larger than the client's frame limit (Curator's CURATOR-690): the one
//! request fails with a typed error that is not retried, the reply is read past,
//! and the connection and the session go on. The server runs with zk-testing's
//! 16 MB `jute.maxbuffer`, so it sends the reply the client's 64 KB limit refuses.

mod common;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use zk_core::{Client, ConnectionState, Error, Session, SessionEvent};
use zk_testing::TestingServer;

/// The client's frame limit in these tests.
const LIMIT: usize = 64 * 1024;
/// Children of the big node: 5,000 names of 40 characters make a list of about
/// 220 KB, well over [`LIMIT`].
const CHILDREN: usize = 5_000;

/// A node with [`CHILDREN`] children, created 500 at a time by a session with the
/// default limit; returns its path.
async fn big_node(server: &TestingServer) -> String {
    let s = connect(&server.connect_string()).await;
    let parent = mk(&s, "/big", b"").await;
    let created: Vec<_> = futures::stream::iter(0..CHILDREN)
        .map(|i| {
            let path = format!("{parent}/{i:040}");
            let s = &s;
            async move {
                s.create(&path, b"", &open(), zk_core::CreateMode::Persistent)
                    .await
            }
        })
        .buffer_unordered(500)
        .collect()
        .await;
    assert!(created.iter().all(Result::is_ok), "every child created");
    s.close().await;
    parent
}

fn is_too_large(e: &Error) -> bool {
    matches!(e, Error::ReplyTooLarge { len, limit } if *len > *limit && *limit == LIMIT)
}

#[tokio::test]
async fn a_reply_over_the_frame_limit_fails_its_request_and_keeps_the_connection() {
    let server = own_server().await;
    let parent = big_node(&server).await;
    let (s, mut events) = start_with_events(
        config(&server.connect_string(), SESSION_TIMEOUT).with_max_frame_len(LIMIT),
    )
    .await;
    let session_id = s.session_id();

    let started = Instant::now();
    let err = bounded("the oversized list", s.get_children(&parent))
        .await
        .unwrap_err();
    assert!(is_too_large(&err), "got {err:?}");
    assert!(!err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(5), "no retry loop");

    // Requests sent together with the oversized one are answered in order around it.
    let seventh = format!("{parent}/{:040}", 7);
    let (before, big, after) = tokio::join!(
        s.get_data(&parent),
        s.get_children2(&parent),
        s.exists(&seventh),
    );
    assert!(before.is_ok());
    assert!(is_too_large(&big.unwrap_err()));
    assert!(after.unwrap().is_some());

    // A watched read that fails this way leaves no watch behind.
    let err = s.get_children_watched(&parent).await.unwrap_err();
    assert!(is_too_large(&err));
    assert_eq!(s.watch_counts().await.unwrap().total(), 0);
    let server_watches = || async {
        let mntr = zk_testing::four_letter_word(server.addr(), "mntr")
            .await
            .unwrap();
        mntr.lines()
            .find_map(|l| l.strip_prefix("zk_watch_count"))
            .map(|v| v.trim().to_string())
    };
    within(DEADLINE, "the server's watch removed", async {
        while server_watches().await.as_deref() != Some("0") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    assert_eq!(s.session_id(), session_id);
    assert!(s.state().is_connected());
    s.sync("/").await.unwrap();
    let seen: Vec<SessionEvent> =
        std::iter::from_fn(|| futures::FutureExt::now_or_never(events.next()).flatten()).collect();
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_))),
        "the connection stayed up: {seen:?}"
    );
    s.close().await;
}

#[tokio::test]
async fn the_framework_returns_the_error_at_once_without_suspending() {
    let server = own_server().await;
    let parent = big_node(&server).await;
    init_tracing();
    let client = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(SESSION_TIMEOUT)
        .max_frame_len(LIMIT)
        .build()
        .unwrap();
    client.block_until_connected(DEADLINE).await.unwrap();
    let mut states = client.connection_states();
    let session: Session = client.session();

    let started = Instant::now();
    let err = bounded(
        "the oversized list",
        client.get_children(&parent).into_future(),
    )
    .await
    .unwrap_err();
    assert!(is_too_large(&err), "got {err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "no retry loop");
    assert!(client.get_data(&parent).await.is_ok());
    assert_eq!(client.session_id(), session.session_id());
    assert_eq!(client.state(), Some(ConnectionState::Connected));
    let later: Vec<_> =
        std::iter::from_fn(|| futures::FutureExt::now_or_never(states.next()).flatten()).collect();
    assert!(
        !later.contains(&ConnectionState::Suspended),
        "no SUSPENDED: {later:?}"
    );
    client.close().await;
}
