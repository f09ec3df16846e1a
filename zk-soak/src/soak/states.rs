//! Every client's connection-state sequence, recorded as it happens and checked against
//! Curator's rules for which state may follow which.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::task::JoinHandle;
use zk_core::{Client, ConnectionState};

use super::lock::lock;
use super::violations::Violations;

/// Whether `next` may follow `previous` (`None`: the first state of the client) under
/// Curator 5's connection-state rules: CONNECTED (or READ_ONLY) comes first and only once;
/// SUSPENDED only after a connected state; RECONNECTED only after SUSPENDED or LOST; LOST after
/// a connected state, SUSPENDED or another LOST (each session timeout that passes while the
/// client cannot reach the ensemble ends the session it was trying to keep).
pub fn may_follow(previous: Option<ConnectionState>, next: ConnectionState) -> bool {
    use ConnectionState::{Connected, Lost, ReadOnly, Reconnected, Suspended};
    match (previous, next) {
        (None, Connected | ReadOnly) => true,
        (None, _) | (Some(_), Connected) => false,
        (Some(Connected | Reconnected | ReadOnly), Suspended | Lost) => true,
        (Some(Suspended), Reconnected | Lost | ReadOnly) => true,
        (Some(Lost), Reconnected | Lost | ReadOnly) => true,
        (Some(_), _) => false,
    }
}

/// A client's states so far, checked one by one as they arrive; an illegal step is a
/// violation with the sequence around it.
#[derive(Debug)]
pub struct StateLog {
    seen: Arc<Mutex<Vec<ConnectionState>>>,
    task: JoinHandle<()>,
}

impl StateLog {
    /// Starts following `client`, which must not have connected yet (its first state is
    /// checked too). `who` names it in violations.
    pub fn follow(client: &Client, who: String, violations: Violations) -> StateLog {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut states = client.connection_states();
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Some(state) = states.next().await {
                let mut log = lock(&log);
                let previous = log.last().copied();
                log.push(state);
                if !may_follow(previous, state) {
                    let tail: Vec<_> = log.iter().rev().take(6).rev().collect();
                    violations.record(format!(
                        "{who}: connection state {state:?} after {previous:?} (last states {tail:?})"
                    ));
                }
                // Only the last few matter for evidence; keep the log small in long runs.
                if log.len() > 64 {
                    log.drain(..32);
                }
            }
        });
        StateLog { seen, task }
    }

    /// The last state heard.
    pub fn last(&self) -> Option<ConnectionState> {
        lock(&self.seen).last().copied()
    }
}

impl Drop for StateLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionState::*;

    fn legal(sequence: &[ConnectionState]) -> bool {
        let mut previous = None;
        sequence.iter().all(|&s| {
            let ok = may_follow(previous, s);
            previous = Some(s);
            ok
        })
    }

    #[test]
    fn the_sequences_curator_produces_are_legal() {
        assert!(legal(&[Connected, Suspended, Reconnected]));
        assert!(legal(&[
            Connected,
            Suspended,
            Lost,
            Reconnected,
            Suspended,
            Reconnected
        ]));
        assert!(legal(&[Connected, Suspended, Lost, Lost, Reconnected]));
    }

    #[test]
    fn a_second_connected_or_a_reconnect_without_an_outage_is_not() {
        assert!(!legal(&[Connected, Suspended, Connected]));
        assert!(!legal(&[Connected, Reconnected]));
        assert!(!legal(&[Suspended]));
        assert!(!legal(&[Connected, Suspended, Suspended]));
        assert!(!legal(&[Connected, Suspended, Reconnected, Reconnected]));
    }
}
