//! The holders of one thing (a latch's leadership, a selector's, a lock), sampled every few
//! milliseconds: never two at once, and fencing tokens that never go backwards.
//!
//! A sample reads every holder twice, one pass after the other. A holder counts only if it
//! held in both passes: holder `a` seen holding before and after `b` was seen holding held all
//! along, so both held at the instant `b` was read. That makes a report of two holders proof,
//! not an artefact of reading them one after another while leadership moved.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use zk_recipes::FencingToken;

use super::violations::Violations;

/// How often the holders are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Asks one participant whether it holds now, and under which token.
pub type HolderProbe = Arc<dyn Fn() -> Option<FencingToken> + Send + Sync>;

/// The participants competing for one thing.
#[derive(Clone)]
pub struct HolderGroup {
    /// What they compete for ("latch", "selector", "lock").
    pub name: &'static str,
    /// Each participant's name and probe.
    pub members: Vec<(String, HolderProbe)>,
}

impl std::fmt::Debug for HolderGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.members.iter().map(|m| m.0.as_str()).collect();
        f.debug_struct("HolderGroup")
            .field("name", &self.name)
            .field("members", &names)
            .finish()
    }
}

impl HolderGroup {
    /// Who holds now (one pass).
    pub fn holders_now(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, probe)| probe().is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// The indices that held in both passes.
pub fn held_throughout(
    first: &[Option<FencingToken>],
    second: &[Option<FencingToken>],
) -> Vec<usize> {
    first
        .iter()
        .zip(second)
        .enumerate()
        .filter(|(_, (a, b))| a.is_some() && b.is_some())
        .map(|(i, _)| i)
        .collect()
}

/// The highest fencing token seen for one group; a lower one afterwards is a violation.
#[derive(Debug, Default, Clone, Copy)]
pub struct FencingCheck {
    highest: Option<FencingToken>,
}

impl FencingCheck {
    /// Notes `token`; `Err` with the two tokens if it is below the highest seen.
    pub fn observe(&mut self, token: FencingToken) -> Result<(), (FencingToken, FencingToken)> {
        match self.highest {
            Some(highest) if token < highest => Err((token, highest)),
            _ => {
                self.highest = Some(token);
                Ok(())
            }
        }
    }
}

/// Samples `groups` every [`SAMPLE_EVERY`] until dropped (abort the handle), recording a
/// violation for every new set of simultaneous holders and every token that went backwards.
pub fn spawn_sampler(groups: Vec<HolderGroup>, violations: Violations) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut fencing = vec![FencingCheck::default(); groups.len()];
        let mut reported: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            ticks.tick().await;
            for (g, group) in groups.iter().enumerate() {
                let first: Vec<_> = group.members.iter().map(|(_, p)| p()).collect();
                let second: Vec<_> = group.members.iter().map(|(_, p)| p()).collect();
                let holders = held_throughout(&first, &second);
                if holders.len() > 1 && holders != reported[g] {
                    let who: Vec<String> = holders
                        .iter()
                        .map(|&i| format!("{} (token {:?})", group.members[i].0, second[i]))
                        .collect();
                    violations.record(format!(
                        "{}: {} holders at once: {}",
                        group.name,
                        holders.len(),
                        who.join(", ")
                    ));
                }
                reported[g] = if holders.len() > 1 {
                    holders
                } else {
                    Vec::new()
                };
                for (i, token) in second.iter().enumerate() {
                    if let Some(token) = token
                        && let Err((low, high)) = fencing[g].observe(*token)
                    {
                        violations.record(format!(
                            "{}: {} holds with fencing token {low:?}, below {high:?} seen before",
                            group.name, group.members[i].0
                        ));
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(czxid: i64) -> Option<FencingToken> {
        Some(FencingToken { sequence: 0, czxid })
    }

    #[test]
    fn only_holders_seen_in_both_passes_count() {
        // b took over between the passes: a was seen only in the first, so no overlap.
        assert_eq!(
            held_throughout(&[token(1), None], &[None, token(2)]),
            Vec::<usize>::new()
        );
        assert_eq!(
            held_throughout(&[token(1), token(2)], &[token(1), token(2)]),
            [0, 1]
        );
        assert_eq!(
            held_throughout(&[token(1), token(2)], &[token(1), None]),
            [0]
        );
    }

    #[test]
    fn a_token_below_the_highest_seen_is_refused_and_an_equal_one_is_not() {
        let mut check = FencingCheck::default();
        assert!(check.observe(token(5).unwrap()).is_ok());
        assert!(check.observe(token(5).unwrap()).is_ok());
        assert!(check.observe(token(9).unwrap()).is_ok());
        assert_eq!(
            check.observe(token(7).unwrap()),
            Err((token(7).unwrap(), token(9).unwrap()))
        );
    }
}
