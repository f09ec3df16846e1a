//! The Proxy's modes, shown with a raw TCP client: against a loopback echo server, and in front
//! of a real ZooKeeper server answering four-letter words.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_testing::{Error, Proxy, ProxyMode, TestingServer, four_letter_word_within};

/// How long a read waits before we conclude that nothing is coming.
const SILENCE: Duration = Duration::from_millis(500);
/// How long a read waits for bytes that must come.
const ARRIVAL: Duration = Duration::from_secs(10);

/// An echo server that counts the bytes it received.
struct Echo {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
        let addr = listener.local_addr().expect("echo address");
        let received = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    loop {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                counter.fetch_add(n, Ordering::SeqCst);
                                if socket.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Echo {
            addr,
            received,
            task,
        }
    }

    fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Waits (bounded) until the echo server has received `total` bytes in all.
    async fn wait_received(&self, total: usize) {
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        while self.received() < total {
            assert!(
                tokio::time::Instant::now() < deadline,
                "echo server got {} of {total} bytes",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connect(proxy: &Proxy) -> TcpStream {
    tokio::time::timeout(ARRIVAL, TcpStream::connect(proxy.addr()))
        .await
        .expect("connect in time")
        .expect("the proxy accepts")
}

/// Reads exactly `expected.len()` bytes and checks them.
async fn expect_bytes(stream: &mut TcpStream, expected: &[u8]) {
    let mut buf = vec![0u8; expected.len()];
    tokio::time::timeout(ARRIVAL, stream.read_exact(&mut buf))
        .await
        .expect("bytes arrive in time")
        .expect("read");
    assert_eq!(buf, expected);
}

/// Asserts that nothing arrives (no bytes, no EOF, no error) within [`SILENCE`].
async fn expect_stall(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(SILENCE, stream.read(&mut buf)).await {
        Err(_) => {}
        Ok(Ok(0)) => panic!("the connection was closed; a stall was expected"),
        Ok(Ok(n)) => panic!("{n} bytes arrived; a stall was expected"),
        Ok(Err(e)) => panic!("the connection failed ({e}); a stall was expected"),
    }
}

/// Waits (bounded) until the proxy has thrown away `total` reply bytes in all.
async fn wait_dropped(proxy: &Proxy, total: u64) {
    let deadline = tokio::time::Instant::now() + ARRIVAL;
    while proxy.dropped_reply_bytes() < total {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy dropped {} of {total} reply bytes",
            proxy.dropped_reply_bytes()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn forward_mode_carries_bytes_both_ways() {
    let echo = Echo::start().await;
    let proxy = Proxy::start(echo.addr).await.expect("proxy starts");
    assert_eq!(proxy.mode(), ProxyMode::Forward);
    assert_eq!(proxy.connect_string(), proxy.addr().to_string());
    assert_eq!(proxy.upstreams(), [echo.addr]);

    let mut client = connect(&proxy).await;
    client.write_all(b"hello").await.unwrap();
    expect_bytes(&mut client, b"hello").await;
    assert_eq!(echo.received(), 5);
}

#[tokio::test]
async fn cut_closes_open_connections_and_refuses_new_ones_until_healed() {
    let echo = Echo::start().await;
    let proxy = Proxy::start(echo.addr).await.expect("proxy starts");
    let mut open = connect(&proxy).await;
    open.write_all(b"before").await.unwrap();
    expect_bytes(&mut open, b"before").await;

    proxy.cut().await;
    assert_eq!(proxy.mode(), ProxyMode::Cut);
    let mut buf = [0u8; 16];
    let ended = tokio::time::timeout(ARRIVAL, open.read(&mut buf))
        .await
        .expect("the open connection ends at once");
    assert!(
        matches!(ended, Ok(0)) || ended.is_err(),
        "expected EOF or reset, got {ended:?}"
    );
    let refused = TcpStream::connect(proxy.addr()).await;
    assert_eq!(
        refused.expect_err("nothing listens while cut").kind(),
        ErrorKind::ConnectionRefused
    );

    proxy.heal().await.expect("heal rebinds the same port");
    let mut again = connect(&proxy).await;
    again.write_all(b"after").await.unwrap();
    expect_bytes(&mut again, b"after").await;
}

#[tokio::test]
async fn blackhole_stalls_without_error_and_heal_releases_the_held_bytes() {
    let echo = Echo::start().await;
    let proxy = Proxy::start(echo.addr).await.expect("proxy starts");
    let mut existing = connect(&proxy).await;
    existing.write_all(b"warm").await.unwrap();
    expect_bytes(&mut existing, b"warm").await;

    proxy.blackhole().await.expect("blackhole");
    existing.write_all(b"ping").await.unwrap();
    let mut fresh = connect(&proxy).await;
    fresh.write_all(b"pong").await.unwrap();
    expect_stall(&mut existing).await;
    expect_stall(&mut fresh).await;
    assert_eq!(
        echo.received(),
        4,
        "nothing reached the server in the blackhole"
    );

    proxy.heal().await.expect("heal");
    expect_bytes(&mut existing, b"ping").await;
    expect_bytes(&mut fresh, b"pong").await;
    assert_eq!(echo.received(), 12);
}

#[tokio::test]
async fn drop_replies_delivers_requests_and_swallows_answers() {
    let echo = Echo::start().await;
    let proxy = Proxy::start(echo.addr).await.expect("proxy starts");
    let mut client = connect(&proxy).await;

    proxy.drop_replies().await.expect("drop replies");
    client.write_all(b"lost").await.unwrap();
    echo.wait_received(4).await;
    wait_dropped(&proxy, 4).await;
    expect_stall(&mut client).await;

    proxy.heal().await.expect("heal");
    client.write_all(b"found").await.unwrap();
    expect_bytes(&mut client, b"found").await;
    assert_eq!(echo.received(), 9);
    assert_eq!(proxy.dropped_reply_bytes(), 4);
}

#[tokio::test]
async fn delay_holds_each_chunk_both_ways_in_order_and_heal_lets_the_queue_go() {
    const DELAY: Duration = Duration::from_millis(400);
    const PIECES: usize = 100;
    const PIECE_BYTES: usize = 2000;
    let echo = Echo::start().await;
    let proxy = Proxy::start(echo.addr).await.expect("proxy starts");
    let mut client = connect(&proxy).await;
    client.write_all(b"warm").await.unwrap();
    expect_bytes(&mut client, b"warm").await;

    proxy.delay(DELAY).await.expect("delay");
    assert_eq!(proxy.mode(), ProxyMode::Delay(DELAY));
    let sent = Instant::now();
    client.write_all(b"ping").await.unwrap();
    expect_bytes(&mut client, b"ping").await;
    let round_trip = sent.elapsed();
    println!("round trip through a {DELAY:?} delay: {round_trip:?}");
    assert!(
        round_trip >= 2 * DELAY,
        "each way waits {DELAY:?}; the round trip took {round_trip:?}"
    );

    // Many chunks, read by the proxy at different times, come back whole and in order.
    let payload: Vec<u8> = (0..PIECES * PIECE_BYTES)
        .map(|i| ((i / PIECE_BYTES) ^ (i % 251)) as u8)
        .collect();
    let (mut reader, mut writer) = client.into_split();
    let to_send = payload.clone();
    let sent = Instant::now();
    let sending = tokio::spawn(async move {
        for piece in to_send.chunks(PIECE_BYTES) {
            writer.write_all(piece).await.expect("write a piece");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        writer
    });
    let mut echoed = vec![0u8; payload.len()];
    let mut first = None;
    let mut filled = 0;
    while filled < echoed.len() {
        let n = tokio::time::timeout(ARRIVAL, reader.read(&mut echoed[filled..]))
            .await
            .expect("echoed bytes keep coming")
            .expect("read");
        assert_ne!(n, 0, "the connection closed after {filled} bytes");
        first.get_or_insert_with(|| sent.elapsed());
        filled += n;
    }
    assert!(echoed == payload, "the echo is the payload, byte for byte");
    let first = first.expect("bytes arrived");
    assert!(
        first >= 2 * DELAY,
        "the first echoed byte came {first:?} after the first write"
    );
    let mut client = sending
        .await
        .expect("the writer finished")
        .reunite(reader)
        .expect("the halves of one stream");

    // Under a long delay, bytes of an open and of a new connection are held, not lost...
    proxy.delay(Duration::from_secs(3600)).await.expect("delay");
    let before = echo.received();
    client.write_all(b"held").await.unwrap();
    let mut fresh = connect(&proxy).await;
    fresh.write_all(b"new").await.unwrap();
    expect_stall(&mut client).await;
    expect_stall(&mut fresh).await;
    assert_eq!(echo.received(), before, "nothing reached the server yet");

    // ...and a heal writes the queue out at once, in order, then forwards with no delay
    // (every expect_bytes gives up after ARRIVAL, far less than the hour they would wait).
    proxy.heal().await.expect("heal");
    client.write_all(b"free").await.unwrap();
    expect_bytes(&mut client, b"heldfree").await;
    expect_bytes(&mut fresh, b"new").await;
    let sent = Instant::now();
    client.write_all(b"quick").await.unwrap();
    expect_bytes(&mut client, b"quick").await;
    println!("round trip after heal: {:?}", sent.elapsed());
}

#[tokio::test]
async fn proxy_in_front_of_zookeeper_fails_over_and_obeys_each_mode() {
    let server = TestingServer::start().await.expect("server starts");
    // The first upstream refuses connections: the proxy moves on to the real server.
    let dead = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let proxy = Proxy::start_list([dead, server.addr()])
        .await
        .expect("proxy starts");
    let ask =
        |word: &'static str| four_letter_word_within(proxy.addr(), word, Duration::from_secs(2));

    assert_eq!(ask("ruok").await.unwrap(), "imok");
    assert!(ask("srvr").await.unwrap().contains("Mode: standalone"));

    proxy.drop_replies().await.unwrap();
    // The server answers and closes; the answer is swallowed, only the close gets through.
    assert_eq!(ask("ruok").await.unwrap(), "");
    assert_eq!(
        proxy.dropped_reply_bytes(),
        4,
        "`imok` reached the proxy and went no further"
    );

    proxy.blackhole().await.unwrap();
    assert!(matches!(ask("ruok").await, Err(Error::Timeout { .. })));

    proxy.cut().await;
    match ask("ruok").await {
        Err(Error::Io { source, .. }) => assert_eq!(source.kind(), ErrorKind::ConnectionRefused),
        other => panic!("expected a refused connection, got {other:?}"),
    }

    proxy.heal().await.unwrap();
    assert_eq!(ask("ruok").await.unwrap(), "imok");
}

#[tokio::test]
async fn a_proxy_needs_an_upstream() {
    assert!(matches!(
        Proxy::start_list([]).await,
        Err(Error::InvalidConfig(_))
    ));
}
