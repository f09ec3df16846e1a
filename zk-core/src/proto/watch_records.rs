//! Watch records: notification events and their enums, watch re-registration
//! (SetWatches) after a reconnect, and the modes of persistent and removed watches.

use bytes::{BufMut, BytesMut};

use super::jute::{Decode, DecodeError, Encode, Reader, write_string, write_string_vec};

/// What happened to a watched node (Watcher.Event.EventType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// No node event: a change of connection state.
    None,
    /// The node was created.
    NodeCreated,
    /// The node was deleted.
    NodeDeleted,
    /// The node's data changed.
    NodeDataChanged,
    /// The node's children changed.
    NodeChildrenChanged,
    /// A data watch was removed (removeWatches).
    DataWatchRemoved,
    /// A child watch was removed (removeWatches).
    ChildWatchRemoved,
    /// A persistent watch was removed (removeWatches).
    PersistentWatchRemoved,
}

impl EventType {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            EventType::None => -1,
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
            EventType::DataWatchRemoved => 5,
            EventType::ChildWatchRemoved => 6,
            EventType::PersistentWatchRemoved => 7,
        }
    }

    /// The event type for a wire value, if known.
    pub fn from_i32(v: i32) -> Option<EventType> {
        Some(match v {
            -1 => EventType::None,
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            4 => EventType::NodeChildrenChanged,
            5 => EventType::DataWatchRemoved,
            6 => EventType::ChildWatchRemoved,
            7 => EventType::PersistentWatchRemoved,
            _ => return None,
        })
    }
}

/// The state of the connection when an event was generated (Watcher.Event.KeeperState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeeperState {
    /// Unused by servers.
    Unknown,
    /// Not connected to any server.
    Disconnected,
    /// Unused by servers.
    NoSyncConnected,
    /// Connected to a server of the ensemble.
    SyncConnected,
    /// Authentication failed.
    AuthFailed,
    /// Connected to a read-only server.
    ConnectedReadOnly,
    /// SASL authentication succeeded.
    SaslAuthenticated,
    /// The session expired.
    Expired,
    /// The client was closed (generated locally, never by a server).
    Closed,
}

impl KeeperState {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            KeeperState::Unknown => -1,
            KeeperState::Disconnected => 0,
            KeeperState::NoSyncConnected => 1,
            KeeperState::SyncConnected => 3,
            KeeperState::AuthFailed => 4,
            KeeperState::ConnectedReadOnly => 5,
            KeeperState::SaslAuthenticated => 6,
            KeeperState::Expired => -112,
            KeeperState::Closed => 7,
        }
    }

    /// The state for a wire value, if known.
    pub fn from_i32(v: i32) -> Option<KeeperState> {
        Some(match v {
            -1 => KeeperState::Unknown,
            0 => KeeperState::Disconnected,
            1 => KeeperState::NoSyncConnected,
            3 => KeeperState::SyncConnected,
            4 => KeeperState::AuthFailed,
            5 => KeeperState::ConnectedReadOnly,
            6 => KeeperState::SaslAuthenticated,
            -112 => KeeperState::Expired,
            7 => KeeperState::Closed,
            _ => return None,
        })
    }
}

/// A watch notification: the body of a reply with xid [`super::opcode::xid::NOTIFICATION`].
///
/// `path` is the server path (with any chroot still in front).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherEvent {
    /// What happened.
    pub event_type: EventType,
    /// The connection state.
    pub state: KeeperState,
    /// The node concerned (empty for state-only events).
    pub path: String,
}

impl Decode for WatcherEvent {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let t = r.read_i32("watcherEvent.type")?;
        let event_type = EventType::from_i32(t).ok_or(DecodeError::UnknownValue {
            field: "watcherEvent.type",
            value: t,
        })?;
        let s = r.read_i32("watcherEvent.state")?;
        let state = KeeperState::from_i32(s).ok_or(DecodeError::UnknownValue {
            field: "watcherEvent.state",
            value: s,
        })?;
        let path = r.read_string("watcherEvent.path")?;
        Ok(WatcherEvent {
            event_type,
            state,
            path,
        })
    }
}

impl Encode for WatcherEvent {
    /// Writes a notification as a server would (for scripted test servers).
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(self.event_type.as_i32());
        buf.put_i32(self.state.as_i32());
        write_string(buf, &self.path);
    }
}

/// Encoded size of a `vector<ustring>`.
fn string_vec_len(items: &[String]) -> usize {
    4 + items.iter().map(|s| 4 + s.len()).sum::<usize>()
}

/// Re-registers one-shot watches after a reconnect (op [`super::OpCode::SetWatches`],
/// xid [`super::opcode::xid::SET_WATCHES`]).
///
/// The server fires at once every watch whose node changed after `relative_zxid`.
/// Paths are server paths (chroot included). The Java client keeps each packet
/// under 128 KB of paths: see [`SetWatches::encoded_len`] and [`SET_WATCHES_MAX_LEN`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetWatches {
    /// The last zxid the client saw.
    pub relative_zxid: i64,
    /// Paths with a data watch (getData).
    pub data_watches: Vec<String>,
    /// Paths with an exist watch on a missing node (exists).
    pub exist_watches: Vec<String>,
    /// Paths with a child watch (getChildren).
    pub child_watches: Vec<String>,
}

/// A SetWatches may also be sent as an ordinary request (a normal xid, the reply
/// matched in order): [`Session::watch_data_since`](crate::Session::watch_data_since)
/// sets many data watches at once that way.
impl super::request::Request for SetWatches {
    const OP: super::OpCode = super::OpCode::SetWatches;
    type Response = ();
}

/// The batch size the Java client keeps each SetWatches packet under: 128 KB.
pub const SET_WATCHES_MAX_LEN: usize = 128 * 1024;

impl SetWatches {
    /// Size of the encoded record in bytes.
    pub fn encoded_len(&self) -> usize {
        8 + string_vec_len(&self.data_watches)
            + string_vec_len(&self.exist_watches)
            + string_vec_len(&self.child_watches)
    }
}

impl Encode for SetWatches {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i64(self.relative_zxid);
        write_string_vec(buf, &self.data_watches);
        write_string_vec(buf, &self.exist_watches);
        write_string_vec(buf, &self.child_watches);
    }
}

impl Decode for SetWatches {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SetWatches {
            relative_zxid: r.read_i64("setWatches.relativeZxid")?,
            data_watches: r.read_string_vec("setWatches.dataWatches")?,
            exist_watches: r.read_string_vec("setWatches.existWatches")?,
            child_watches: r.read_string_vec("setWatches.childWatches")?,
        })
    }
}

/// [`SetWatches`] plus persistent watches (op [`super::OpCode::SetWatches2`], ZooKeeper 3.6+).
/// The Java client sends this form only when there are persistent watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetWatches2 {
    /// The last zxid the client saw.
    pub relative_zxid: i64,
    /// Paths with a data watch (getData).
    pub data_watches: Vec<String>,
    /// Paths with an exist watch on a missing node (exists).
    pub exist_watches: Vec<String>,
    /// Paths with a child watch (getChildren).
    pub child_watches: Vec<String>,
    /// Paths with a persistent watch (addWatch, [`AddWatchMode::Persistent`]).
    pub persistent_watches: Vec<String>,
    /// Paths with a persistent recursive watch (addWatch, [`AddWatchMode::PersistentRecursive`]).
    pub persistent_recursive_watches: Vec<String>,
}

impl SetWatches2 {
    /// Size of the encoded record in bytes.
    pub fn encoded_len(&self) -> usize {
        8 + string_vec_len(&self.data_watches)
            + string_vec_len(&self.exist_watches)
            + string_vec_len(&self.child_watches)
            + string_vec_len(&self.persistent_watches)
            + string_vec_len(&self.persistent_recursive_watches)
    }
}

impl Encode for SetWatches2 {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i64(self.relative_zxid);
        write_string_vec(buf, &self.data_watches);
        write_string_vec(buf, &self.exist_watches);
        write_string_vec(buf, &self.child_watches);
        write_string_vec(buf, &self.persistent_watches);
        write_string_vec(buf, &self.persistent_recursive_watches);
    }
}

impl Decode for SetWatches2 {
    fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(SetWatches2 {
            relative_zxid: r.read_i64("setWatches2.relativeZxid")?,
            data_watches: r.read_string_vec("setWatches2.dataWatches")?,
            exist_watches: r.read_string_vec("setWatches2.existWatches")?,
            child_watches: r.read_string_vec("setWatches2.childWatches")?,
            persistent_watches: r.read_string_vec("setWatches2.persistentWatches")?,
            persistent_recursive_watches: r
                .read_string_vec("setWatches2.persistentRecursiveWatches")?,
        })
    }
}

/// One packet of watch re-registration, as [`SetWatches2::into_batches`] cuts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchBatch {
    /// A batch without persistent watches, sent as `setWatches` (understood by every server).
    V1(SetWatches),
    /// A batch with persistent watches, sent as `setWatches2`.
    V2(SetWatches2),
}

impl WatchBatch {
    /// The operation code to send the batch under.
    pub fn op(&self) -> super::OpCode {
        match self {
            WatchBatch::V1(_) => super::OpCode::SetWatches,
            WatchBatch::V2(_) => super::OpCode::SetWatches2,
        }
    }

    /// Size of the encoded record in bytes.
    pub fn encoded_len(&self) -> usize {
        match self {
            WatchBatch::V1(w) => w.encoded_len(),
            WatchBatch::V2(w) => w.encoded_len(),
        }
    }
}

impl Encode for WatchBatch {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            WatchBatch::V1(w) => w.encode(buf),
            WatchBatch::V2(w) => w.encode(buf),
        }
    }
}

impl SetWatches2 {
    /// Whether there is no watch at all to re-register.
    pub fn is_empty(&self) -> bool {
        self.data_watches.is_empty()
            && self.exist_watches.is_empty()
            && self.child_watches.is_empty()
            && self.persistent_watches.is_empty()
            && self.persistent_recursive_watches.is_empty()
    }

    /// Cuts the watches into packets whose record is at most `max_len` bytes
    /// (usually [`SET_WATCHES_MAX_LEN`]), keeping the order of the lists and of the
    /// paths within them. A batch without persistent watches becomes a plain
    /// [`SetWatches`], as the Java client does, so servers before 3.6 understand it.
    /// A single path too long for `max_len` goes alone in its batch. No watches,
    /// no batches.
    pub fn into_batches(self, max_len: usize) -> Vec<WatchBatch> {
        let relative_zxid = self.relative_zxid;
        let lists = [
            self.data_watches,
            self.exist_watches,
            self.child_watches,
            self.persistent_watches,
            self.persistent_recursive_watches,
        ];
        let empty = || SetWatches2 {
            relative_zxid,
            ..SetWatches2::default()
        };
        let mut batches = Vec::new();
        let mut current = empty();
        let mut current_len = empty().encoded_len();
        let mut current_paths = 0usize;
        for (kind, list) in lists.into_iter().enumerate() {
            for path in list {
                let path_len = 4 + path.len();
                if current_paths > 0 && current_len + path_len > max_len {
                    batches.push(std::mem::replace(&mut current, empty()));
                    current_len = empty().encoded_len();
                    current_paths = 0;
                }
                current_len += path_len;
                current_paths += 1;
                match kind {
                    0 => current.data_watches.push(path),
                    1 => current.exist_watches.push(path),
                    2 => current.child_watches.push(path),
                    3 => current.persistent_watches.push(path),
                    _ => current.persistent_recursive_watches.push(path),
                }
            }
        }
        if current_paths > 0 {
            batches.push(current);
        }
        batches
            .into_iter()
            .map(|b| {
                if b.persistent_watches.is_empty() && b.persistent_recursive_watches.is_empty() {
                    WatchBatch::V1(SetWatches {
                        relative_zxid: b.relative_zxid,
                        data_watches: b.data_watches,
                        exist_watches: b.exist_watches,
                        child_watches: b.child_watches,
                    })
                } else {
                    WatchBatch::V2(b)
                }
            })
            .collect()
    }
}

/// The kind of watch an addWatch request sets (AddWatchMode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddWatchMode {
    /// Fires on every data change, child-list change, create and delete of the node,
    /// and stays set.
    Persistent,
    /// Like [`AddWatchMode::Persistent`], for the node and every node below it
    /// (child-list changes are not reported: creates and deletes below are).
    PersistentRecursive,
}

impl AddWatchMode {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            AddWatchMode::Persistent => 0,
            AddWatchMode::PersistentRecursive => 1,
        }
    }

    /// The mode for a wire value, if known.
    pub fn from_i32(v: i32) -> Option<AddWatchMode> {
        match v {
            0 => Some(AddWatchMode::Persistent),
            1 => Some(AddWatchMode::PersistentRecursive),
            _ => None,
        }
    }
}

/// Which watches a removeWatches or checkWatches request targets (Watcher.WatcherType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherType {
    /// Child watches.
    Children,
    /// Data and exist watches.
    Data,
    /// Every kind of watch on the path.
    Any,
    /// Persistent watches. Only servers of 3.9 and later know this value.
    Persistent,
    /// Persistent recursive watches. Only servers of 3.9 and later know this value.
    PersistentRecursive,
}

impl WatcherType {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            WatcherType::Children => 1,
            WatcherType::Data => 2,
            WatcherType::Any => 3,
            WatcherType::Persistent => 4,
            WatcherType::PersistentRecursive => 5,
        }
    }

    /// The watcher type for a wire value, if known.
    pub fn from_i32(v: i32) -> Option<WatcherType> {
        Some(match v {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn enum_values_are_zookeepers() {
        for v in -200..200 {
            if let Some(t) = EventType::from_i32(v) {
                assert_eq!(t.as_i32(), v);
            }
            if let Some(s) = KeeperState::from_i32(v) {
                assert_eq!(s.as_i32(), v);
            }
            if let Some(w) = WatcherType::from_i32(v) {
                assert_eq!(w.as_i32(), v);
            }
            if let Some(m) = AddWatchMode::from_i32(v) {
                assert_eq!(m.as_i32(), v);
            }
        }
        assert_eq!(EventType::NodeChildrenChanged.as_i32(), 4);
        assert_eq!(EventType::PersistentWatchRemoved.as_i32(), 7);
        assert_eq!(KeeperState::Expired.as_i32(), -112);
        assert_eq!(KeeperState::SyncConnected.as_i32(), 3);
        assert_eq!(KeeperState::from_i32(2), None);
        assert_eq!(EventType::from_i32(0), None);
        assert_eq!(WatcherType::Any.as_i32(), 3);
        assert_eq!(AddWatchMode::PersistentRecursive.as_i32(), 1);
    }

    #[test]
    fn watcher_event_decodes_from_hand_built_bytes() {
        let mut bytes = vec![0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 2];
        bytes.extend_from_slice(b"/a");
        let mut r = Reader::new(Bytes::from(bytes.clone()));
        let ev = WatcherEvent::decode(&mut r).unwrap();
        assert_eq!(
            ev,
            WatcherEvent {
                event_type: EventType::NodeDataChanged,
                state: KeeperState::SyncConnected,
                path: "/a".into()
            }
        );
        let mut buf = BytesMut::new();
        ev.encode(&mut buf);
        assert_eq!(&buf[..], &bytes[..]);
    }

    #[test]
    fn watcher_event_with_unknown_values_is_refused() {
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0, 0]));
        assert_eq!(
            WatcherEvent::decode(&mut r),
            Err(DecodeError::UnknownValue {
                field: "watcherEvent.type",
                value: 9
            })
        );
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]));
        assert_eq!(
            WatcherEvent::decode(&mut r),
            Err(DecodeError::UnknownValue {
                field: "watcherEvent.state",
                value: 2
            })
        );
    }

    #[test]
    fn set_watches2_has_jute_layout_and_exact_length() {
        let sw = SetWatches2 {
            relative_zxid: 5,
            data_watches: vec!["/d".into()],
            exist_watches: vec![],
            child_watches: vec!["/c".into(), "/cc".into()],
            persistent_watches: vec![],
            persistent_recursive_watches: vec!["/r".into()],
        };
        let mut buf = BytesMut::new();
        sw.encode(&mut buf);
        let expected: Vec<u8> = [
            &5i64.to_be_bytes()[..],
            &[0, 0, 0, 1, 0, 0, 0, 2, b'/', b'd'],
            &[0, 0, 0, 0],
            &[
                0, 0, 0, 2, 0, 0, 0, 2, b'/', b'c', 0, 0, 0, 3, b'/', b'c', b'c',
            ],
            &[0, 0, 0, 0],
            &[0, 0, 0, 1, 0, 0, 0, 2, b'/', b'r'],
        ]
        .concat();
        assert_eq!(&buf[..], &expected[..]);
        assert_eq!(sw.encoded_len(), expected.len());
        let mut r = Reader::new(Bytes::from(expected));
        assert_eq!(SetWatches2::decode(&mut r).unwrap(), sw);
    }

    #[test]
    fn set_watches_round_trips_with_exact_length() {
        let sw = SetWatches {
            relative_zxid: -1,
            data_watches: vec!["/a/b".into()],
            exist_watches: vec!["/x".into()],
            child_watches: vec![],
        };
        let mut buf = BytesMut::new();
        sw.encode(&mut buf);
        assert_eq!(buf.len(), sw.encoded_len());
        let mut r = Reader::new(buf.freeze());
        assert_eq!(SetWatches::decode(&mut r).unwrap(), sw);
        assert_eq!(r.remaining(), 0);
    }
    fn paths(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("/{prefix}/{i:04}")).collect()
    }

    #[test]
    fn batches_stay_under_the_limit_and_keep_every_path_in_order() {
        let all = SetWatches2 {
            relative_zxid: 77,
            data_watches: paths("d", 40),
            exist_watches: paths("e", 3),
            child_watches: paths("c", 40),
            persistent_watches: vec![],
            persistent_recursive_watches: paths("r", 10),
        };
        let max = 300;
        let batches = all.clone().into_batches(max);
        assert!(batches.len() > 3);
        let mut seen = SetWatches2 {
            relative_zxid: 77,
            ..SetWatches2::default()
        };
        for b in &batches {
            assert!(b.encoded_len() <= max, "batch of {} bytes", b.encoded_len());
            let mut buf = BytesMut::new();
            b.encode(&mut buf);
            assert_eq!(buf.len(), b.encoded_len());
            match b {
                WatchBatch::V1(w) => {
                    assert_eq!(b.op(), crate::proto::OpCode::SetWatches);
                    assert_eq!(w.relative_zxid, 77);
                    seen.data_watches.extend(w.data_watches.iter().cloned());
                    seen.exist_watches.extend(w.exist_watches.iter().cloned());
                    seen.child_watches.extend(w.child_watches.iter().cloned());
                }
                WatchBatch::V2(w) => {
                    assert_eq!(b.op(), crate::proto::OpCode::SetWatches2);
                    assert!(!w.persistent_recursive_watches.is_empty());
                    seen.data_watches.extend(w.data_watches.iter().cloned());
                    seen.exist_watches.extend(w.exist_watches.iter().cloned());
                    seen.child_watches.extend(w.child_watches.iter().cloned());
                    seen.persistent_recursive_watches
                        .extend(w.persistent_recursive_watches.iter().cloned());
                }
            }
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn small_sets_make_one_batch_and_empty_sets_none() {
        let one = SetWatches2 {
            relative_zxid: 1,
            child_watches: vec!["/a".into()],
            ..SetWatches2::default()
        };
        assert_eq!(
            one.clone().into_batches(SET_WATCHES_MAX_LEN),
            vec![WatchBatch::V1(SetWatches {
                relative_zxid: 1,
                child_watches: vec!["/a".into()],
                ..SetWatches::default()
            })]
        );
        assert!(SetWatches2::default().is_empty());
        assert!(
            SetWatches2::default()
                .into_batches(SET_WATCHES_MAX_LEN)
                .is_empty()
        );
    }

    #[test]
    fn an_oversized_path_goes_alone() {
        let long = format!("/{}", "x".repeat(100));
        let sw = SetWatches2 {
            data_watches: vec!["/a".into(), long.clone(), "/b".into()],
            ..SetWatches2::default()
        };
        let batches = sw.into_batches(64);
        assert_eq!(batches.len(), 3);
        let WatchBatch::V1(middle) = &batches[1] else {
            panic!("expected a plain SetWatches");
        };
        assert_eq!(middle.data_watches, vec![long]);
    }
}
