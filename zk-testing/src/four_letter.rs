//! ZooKeeper's four-letter words (`ruok`, `srvr`, `conf`, `mntr`, `cons`, ...): send four bytes on
//! a fresh connection, read until the server closes it. The kit's servers allow all of them.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

use crate::error::{Error, Result};

/// How long [`four_letter_word`] waits for the whole answer.
pub const DEFAULT_FOUR_LETTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers longer than this are cut (no four-letter word answers with more on a test server).
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// Sends a four-letter word and returns the server's whole answer, within
/// [`DEFAULT_FOUR_LETTER_TIMEOUT`].
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// let server = zk_testing::TestingServer::start().await?;
/// let answer = zk_testing::four_letter_word(server.addr(), "srvr").await?;
/// assert!(answer.contains("Mode: standalone"));
/// # Ok(()) }
/// ```
pub async fn four_letter_word<A>(addr: A, word: &str) -> Result<String>
where
    A: ToSocketAddrs + fmt::Display,
{
    four_letter_word_within(addr, word, DEFAULT_FOUR_LETTER_TIMEOUT).await
}

/// Like [`four_letter_word`], with an explicit deadline for connecting, sending and reading.
/// A server that is paused accepts the connection (the kernel does that) but never answers:
/// this returns [`Error::Timeout`] then.
pub async fn four_letter_word_within<A>(addr: A, word: &str, timeout: Duration) -> Result<String>
where
    A: ToSocketAddrs + fmt::Display,
{
    if word.len() != 4 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(Error::InvalidFourLetterWord(word.to_owned()));
    }
    let target = addr.to_string();
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Error::io(format!("connecting to {target} for `{word}`"), e))?;
        stream
            .write_all(word.as_bytes())
            .await
            .map_err(|e| Error::io(format!("sending `{word}` to {target}"), e))?;
        let mut answer = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut answer)
            .await
            .map_err(|e| Error::io(format!("reading the answer to `{word}` from {target}"), e))?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            what: format!("{target} to answer `{word}`"),
            waited: timeout,
            log_hint: String::new(),
        }),
    }
}

/// The role a server reports in the `Mode:` line of `srvr`/`stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerMode {
    /// A server running alone (`ZooKeeperServerMain`).
    Standalone,
    /// The leader of an ensemble.
    Leader,
    /// A voting follower of an ensemble.
    Follower,
    /// A non-voting observer.
    Observer,
    /// A partitioned member serving reads only (`readonlymode.enabled`).
    ReadOnly,
}

impl ServerMode {
    /// Reads the `Mode:` line of a `srvr` or `stat` answer. `None` when there is none, which is
    /// what a server that is not serving (electing, syncing, starting) answers.
    pub fn from_srvr(answer: &str) -> Option<ServerMode> {
        let mode = answer
            .lines()
            .find_map(|line| line.strip_prefix("Mode:"))?
            .trim();
        match mode {
            "standalone" => Some(ServerMode::Standalone),
            "leader" => Some(ServerMode::Leader),
            "follower" => Some(ServerMode::Follower),
            "observer" => Some(ServerMode::Observer),
            "read-only" => Some(ServerMode::ReadOnly),
            _ => None,
        }
    }

    /// Whether the server serves clients with full consistency in this mode.
    pub fn is_serving(self) -> bool {
        !matches!(self, ServerMode::ReadOnly)
    }
}

impl fmt::Display for ServerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerMode::Standalone => "standalone",
            ServerMode::Leader => "leader",
            ServerMode::Follower => "follower",
            ServerMode::Observer => "observer",
            ServerMode::ReadOnly => "read-only",
        })
    }
}

/// Asks a server for its mode with `srvr`. `Ok(None)` means it answered but is not serving.
pub async fn server_mode<A>(addr: A, timeout: Duration) -> Result<Option<ServerMode>>
where
    A: ToSocketAddrs + fmt::Display,
{
    let answer = four_letter_word_within(addr, "srvr", timeout).await?;
    Ok(ServerMode::from_srvr(&answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_line_is_read_from_srvr() {
        let answer = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n";
        assert_eq!(ServerMode::from_srvr(answer), Some(ServerMode::Follower));
        assert_eq!(
            ServerMode::from_srvr("This ZooKeeper instance is not currently serving requests\n"),
            None
        );
    }

    #[tokio::test]
    async fn words_that_are_not_four_letters_are_refused_before_connecting() {
        for bad in ["ruo", "ruokk", "RUOK", "ru k"] {
            let result = four_letter_word("127.0.0.1:9", bad).await;
            assert!(
                matches!(result, Err(Error::InvalidFourLetterWord(ref w)) if w == bad),
                "{bad}: {result:?}"
            );
        }
    }
}
