//! Watching an ensemble from outside with four-letter words: what a server has applied, and
//! bounded waits on a server's mode.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;
use zk_testing::{ServerMode, TestingCluster, four_letter_word_within};

/// How long anything that must happen may take on a busy machine.
pub(crate) const EVENTUALLY: Duration = Duration::from_secs(60);
/// How often the waits ask again.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// The last zxid a server has applied, from the `Zxid:` line of `srvr`; `None` while it does
/// not serve.
pub(crate) async fn applied_zxid(addr: SocketAddr) -> Option<i64> {
    let srvr = four_letter_word_within(addr, "srvr", Duration::from_secs(2))
        .await
        .ok()?;
    let hex = srvr.lines().find_map(|l| l.strip_prefix("Zxid: 0x"))?;
    i64::from_str_radix(hex.trim(), 16).ok()
}

/// Waits until the server has applied `zxid`; returns when that was seen.
pub(crate) async fn wait_applied(addr: SocketAddr, zxid: i64) -> Instant {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if applied_zxid(addr).await.is_some_and(|z| z >= zxid) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{addr} never applied {zxid:#x}");
        tokio::time::sleep(POLL).await;
    }
}

/// Polls server `index`'s mode until `done` holds for it, within [`EVENTUALLY`]; returns the
/// mode and when it was seen.
pub(crate) async fn wait_mode(
    cluster: &TestingCluster,
    index: usize,
    what: &str,
    done: impl Fn(Option<ServerMode>) -> bool,
) -> (Option<ServerMode>, Instant) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let mode = cluster.mode(index).await.expect("a server of the cluster");
        if done(mode) {
            return (mode, Instant::now());
        }
        assert!(
            Instant::now() < deadline,
            "server {index} never {what} (mode {mode:?})"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Every server's mode, in index order.
pub(crate) async fn modes(cluster: &TestingCluster) -> Vec<Option<ServerMode>> {
    let mut modes = Vec::with_capacity(cluster.len());
    for i in 0..cluster.len() {
        modes.push(cluster.mode(i).await.expect("a server of the cluster"));
    }
    modes
}
