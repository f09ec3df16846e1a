//! `CreateMode`: the kind of node a create makes (the request's `flags` field).

/// How a node is created: lifetime (persistent, ephemeral, container, TTL) and
/// whether the server appends a sequence number to its name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CreateMode {
    /// Stays until deleted.
    #[default]
    Persistent,
    /// Deleted when the creating session ends.
    Ephemeral,
    /// Persistent, with a 10-digit sequence number appended to the name.
    PersistentSequential,
    /// Ephemeral, with a 10-digit sequence number appended to the name.
    EphemeralSequential,
    /// A container: the server deletes it some time after its last child goes.
    Container,
    /// Persistent, but deleted once it has no children and was not modified within its TTL.
    /// Needs a server started with `zookeeper.extendedTypesEnabled=true`.
    PersistentWithTtl,
    /// Like [`CreateMode::PersistentWithTtl`], with a sequence number appended.
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The wire value of the mode.
    pub fn flag(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl => 5,
            CreateMode::PersistentSequentialWithTtl => 6,
        }
    }

    /// The mode for a wire value, if it is one.
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// Whether the node goes away with its session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether the server appends a sequence number to the name.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether the node is a container.
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    /// Whether the node has a time to live (created with the createTTL operation).
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CreateMode; 7] = [
        CreateMode::Persistent,
        CreateMode::Ephemeral,
        CreateMode::PersistentSequential,
        CreateMode::EphemeralSequential,
        CreateMode::Container,
        CreateMode::PersistentWithTtl,
        CreateMode::PersistentSequentialWithTtl,
    ];

    #[test]
    fn flags_are_zookeepers_values_and_round_trip() {
        let flags: Vec<i32> = ALL.iter().map(|m| m.flag()).collect();
        assert_eq!(flags, vec![0, 1, 2, 3, 4, 5, 6]);
        for m in ALL {
            assert_eq!(CreateMode::from_flag(m.flag()), Some(m));
        }
        assert_eq!(CreateMode::from_flag(7), None);
        assert_eq!(CreateMode::from_flag(-1), None);
    }

    #[test]
    fn properties_match_zookeepers_table() {
        let eph: Vec<_> = ALL.iter().filter(|m| m.is_ephemeral()).collect();
        assert_eq!(
            eph,
            [&CreateMode::Ephemeral, &CreateMode::EphemeralSequential]
        );
        let seq: Vec<i32> = ALL
            .iter()
            .filter(|m| m.is_sequential())
            .map(|m| m.flag())
            .collect();
        assert_eq!(seq, vec![2, 3, 6]);
        let ttl: Vec<i32> = ALL
            .iter()
            .filter(|m| m.is_ttl())
            .map(|m| m.flag())
            .collect();
        assert_eq!(ttl, vec![5, 6]);
        assert!(CreateMode::Container.is_container());
        assert!(!CreateMode::Persistent.is_container());
    }
}
