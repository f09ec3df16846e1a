//! Cutting an ensemble in two: the checks on the two sides, the links that cross between them
//! (every quorum and election link, both directions), and blackholing or healing them.

use crate::error::{Error, Result};
use crate::peer_links::{LinkKind, PeerLinks};

/// Blackholes every quorum and election link between a server of `side_a` and one of
/// `side_b`, in both directions. Checks the links and the sides first, so a refused partition
/// changes nothing.
pub(crate) async fn partition(
    links: &PeerLinks,
    servers: usize,
    side_a: &[usize],
    side_b: &[usize],
) -> Result<()> {
    if !links.has_election_links() {
        return Err(Error::NotPartitionable);
    }
    let pairs = crossing_pairs(servers, side_a, side_b)?;
    for &(from, to) in &pairs {
        for kind in [LinkKind::Quorum, LinkKind::Election] {
            links.get(kind, from, to)?.blackhole().await?;
        }
    }
    tracing::info!(
        ?side_a,
        ?side_b,
        links = 2 * pairs.len(),
        "ensemble partitioned"
    );
    Ok(())
}

/// Sets every link of the ensemble forwarding again, whatever was done to it.
pub(crate) async fn heal(links: &PeerLinks) -> Result<()> {
    if !links.has_election_links() {
        return Err(Error::NotPartitionable);
    }
    for proxy in links.iter() {
        proxy.heal().await?;
    }
    tracing::info!("ensemble partition healed");
    Ok(())
}

/// Every ordered pair `(from, to)` with one server on each side, both ways round. Fails on an
/// index out of range or a server on both sides; a server named twice on one side counts once.
fn crossing_pairs(
    servers: usize,
    side_a: &[usize],
    side_b: &[usize],
) -> Result<Vec<(usize, usize)>> {
    if let Some(&index) = side_a.iter().chain(side_b).find(|&&i| i >= servers) {
        return Err(Error::NoSuchServer {
            index,
            len: servers,
        });
    }
    if let Some(&index) = side_a.iter().find(|i| side_b.contains(i)) {
        return Err(Error::ServerOnBothSides { index });
    }
    let mut pairs = Vec::new();
    for &a in side_a {
        for &b in side_b {
            for pair in [(a, b), (b, a)] {
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_cut_from_two_followers_loses_four_links_each_way_round() {
        let mut pairs = crossing_pairs(3, &[0], &[1, 2]).unwrap();
        pairs.sort_unstable();
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 0), (2, 0)]);
    }

    #[test]
    fn a_server_named_twice_on_one_side_counts_once_and_an_empty_side_cuts_nothing() {
        assert_eq!(crossing_pairs(3, &[0, 0], &[1]).unwrap(), [(0, 1), (1, 0)]);
        assert!(crossing_pairs(3, &[], &[0, 1, 2]).unwrap().is_empty());
    }

    #[test]
    fn sides_that_overlap_or_name_a_missing_server_are_refused() {
        assert!(matches!(
            crossing_pairs(3, &[0, 1], &[2, 1]),
            Err(Error::ServerOnBothSides { index: 1 })
        ));
        assert!(matches!(
            crossing_pairs(3, &[0], &[3]),
            Err(Error::NoSuchServer { index: 3, len: 3 })
        ));
    }
}
