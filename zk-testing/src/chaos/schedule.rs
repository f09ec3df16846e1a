//! The schedule: which fault comes next, drawn from a seed.

use std::fmt;
use std::time::Duration;

/// The kinds of fault [`Chaos`] draws from, each as likely as the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// The leader is killed (SIGKILL) and restarted.
    KillLeader,
    /// A follower is killed and restarted.
    KillFollower,
    /// The server a client is connected to is paused (SIGSTOP) and resumed.
    PauseServer,
    /// One client's proxy is cut, then healed.
    CutClient,
    /// One client's proxy swallows the server's replies for a while.
    DropReplies,
    /// One client's session is expired on the server.
    ExpireSession,
    /// The leader is partitioned from its followers (quorum and election links), then healed.
    PartitionLeader,
    /// One follower is partitioned from the other servers, then healed.
    PartitionFollower,
}

impl FaultKind {
    /// Every kind, in the order [`Chaos`] numbers them.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::KillLeader,
        FaultKind::KillFollower,
        FaultKind::PauseServer,
        FaultKind::CutClient,
        FaultKind::DropReplies,
        FaultKind::ExpireSession,
        FaultKind::PartitionLeader,
        FaultKind::PartitionFollower,
    ];

    /// A short name for reports: `kill-leader`, `pause-server`, ...
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillLeader => "kill-leader",
            FaultKind::KillFollower => "kill-follower",
            FaultKind::PauseServer => "pause-server",
            FaultKind::CutClient => "cut-client",
            FaultKind::DropReplies => "drop-replies",
            FaultKind::ExpireSession => "expire-session",
            FaultKind::PartitionLeader => "partition-leader",
            FaultKind::PartitionFollower => "partition-follower",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One fault, with everything [`apply_fault`](super::apply_fault) needs to know: which client
/// (an index into the soak's clients) and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What breaks.
    pub kind: FaultKind,
    /// The client it is aimed at ([`PauseServer`](FaultKind::PauseServer) pauses that
    /// client's server; ignored by the kinds that aim at servers).
    pub client: usize,
    /// How long the fault lasts before it heals (a killed server stays down this long; an
    /// expiry has no duration).
    pub duration: Duration,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FaultKind::KillLeader
            | FaultKind::KillFollower
            | FaultKind::PartitionLeader
            | FaultKind::PartitionFollower => {
                write!(f, "{} for {} ms", self.kind, self.duration.as_millis())
            }
            FaultKind::ExpireSession => write!(f, "{} of client {}", self.kind, self.client),
            FaultKind::PauseServer | FaultKind::CutClient | FaultKind::DropReplies => write!(
                f,
                "{} of client {} for {} ms",
                self.kind,
                self.client,
                self.duration.as_millis()
            ),
        }
    }
}

/// A seeded fault schedule. Outages are drawn shorter than the session timeout (a fifth to
/// three fifths of it: the session survives) or longer (one and a half to two and a half times:
/// it expires), half and half; a killed server stays down for half to two session timeouts.
///
/// ```
/// use std::time::Duration;
/// use zk_testing::Chaos;
///
/// let mut chaos = Chaos::new(7).clients(12).session_timeout(Duration::from_secs(4));
/// let mut again = Chaos::new(7).clients(12).session_timeout(Duration::from_secs(4));
/// assert_eq!(chaos.next_fault(), again.next_fault()); // the seed decides everything
/// ```
#[derive(Debug, Clone)]
pub struct Chaos {
    seed: u64,
    rng: SplitMix64,
    clients: usize,
    session_timeout: Duration,
}

impl Chaos {
    /// A schedule drawn from `seed`, for one client with a 4 s session timeout until told
    /// otherwise.
    pub fn new(seed: u64) -> Chaos {
        Chaos {
            seed,
            rng: SplitMix64(seed),
            clients: 1,
            session_timeout: Duration::from_secs(4),
        }
    }

    /// How many clients faults may aim at (at least one).
    pub fn clients(mut self, clients: usize) -> Chaos {
        self.clients = clients.max(1);
        self
    }

    /// The clients' session timeout, which outages are measured against.
    pub fn session_timeout(mut self, timeout: Duration) -> Chaos {
        self.session_timeout = timeout;
        self
    }

    /// The seed this schedule was drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next fault.
    pub fn next_fault(&mut self) -> Fault {
        let kind = FaultKind::ALL[self.rng.below(FaultKind::ALL.len() as u64) as usize];
        let client = self.rng.below(self.clients as u64) as usize;
        let duration = match kind {
            FaultKind::ExpireSession => Duration::ZERO,
            FaultKind::KillLeader | FaultKind::KillFollower => self.scaled(0.5, 2.0),
            _ if self.rng.below(2) == 0 => self.scaled(0.2, 0.6),
            _ => self.scaled(1.5, 2.5),
        };
        Fault {
            kind,
            client,
            duration,
        }
    }

    /// A duration between `low` and `high` session timeouts.
    fn scaled(&mut self, low: f64, high: f64) -> Duration {
        let unit = self.rng.below(1_000_001) as f64 / 1_000_000.0;
        self.session_timeout.mul_f64(low + (high - low) * unit)
    }
}

/// Steele, Lea and Flood's SplitMix64: tiny, fast and fully determined by its seed, on every
/// platform and version (a schedule must replay years later, so no outside generator whose
/// stream may change between releases).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is below 2^-50 for the small `n` used here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_published_sequence() {
        // The first outputs for seed 1234567 (from the reference implementation).
        let mut rng = SplitMix64(1_234_567);
        assert_eq!(rng.next(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn the_same_seed_draws_the_same_schedule_and_another_seed_does_not() {
        let draw = |seed| {
            let mut chaos = Chaos::new(seed).clients(12);
            (0..50).map(|_| chaos.next_fault()).collect::<Vec<_>>()
        };
        assert_eq!(draw(99), draw(99));
        assert_ne!(draw(99), draw(100));
    }

    #[test]
    fn every_kind_and_client_is_drawn_and_durations_stay_in_their_ranges() {
        let timeout = Duration::from_secs(4);
        let mut chaos = Chaos::new(5).clients(3).session_timeout(timeout);
        let mut kinds = std::collections::BTreeSet::new();
        let mut clients = std::collections::BTreeSet::new();
        let (mut short, mut long) = (0, 0);
        for _ in 0..2000 {
            let fault = chaos.next_fault();
            kinds.insert(fault.kind);
            clients.insert(fault.client);
            let d = fault.duration;
            match fault.kind {
                FaultKind::ExpireSession => assert_eq!(d, Duration::ZERO),
                FaultKind::KillLeader | FaultKind::KillFollower => {
                    assert!(d >= timeout / 2 && d <= timeout * 2, "{fault}");
                }
                _ if d < timeout => {
                    assert!(
                        d >= timeout.mul_f64(0.2) && d <= timeout.mul_f64(0.6),
                        "{fault}"
                    );
                    short += 1;
                }
                _ => {
                    assert!(
                        d >= timeout.mul_f64(1.5) && d <= timeout.mul_f64(2.5),
                        "{fault}"
                    );
                    long += 1;
                }
            }
        }
        assert_eq!(kinds.len(), FaultKind::ALL.len());
        assert_eq!(clients.len(), 3);
        assert!(short > 300 && long > 300, "short {short}, long {long}");
    }
}
