//! Re-registering watches after a reconnect: the live watches are sent again in
//! SetWatches requests, split so that no request grows past what a server takes.
//! A batch with persistent or recursive watches needs SetWatches2 (ZooKeeper 3.6+);
//! one with only one-shot watches goes as SetWatches, which every server knows.

use bytes::BytesMut;

use crate::proto::opcode::xid;
use crate::proto::{OpCode, SetWatches, SetWatches2, path, write_frame};
use crate::watch::registry::WatchPaths;

/// SetWatches requests are split so that no batch's paths exceed this many bytes.
const SET_WATCHES_BATCH_BYTES: usize = 128 * 1024;

/// Appends the SetWatches frames that re-register `live` (client paths) on a new
/// connection: nothing when there are no watches, else one frame per batch, with
/// the chroot added back and `relative_zxid` (the last zxid seen) so the server
/// fires what changed while the client was away.
pub(crate) fn write_set_watches(
    wbuf: &mut BytesMut,
    live: &WatchPaths,
    relative_zxid: i64,
    chroot: Option<&str>,
) {
    if live.is_empty() {
        return;
    }
    for batch in set_watches_batches(live, chroot) {
        if batch.persistent.is_empty() && batch.recursive.is_empty() {
            let sw = SetWatches {
                relative_zxid,
                data_watches: batch.data,
                exist_watches: batch.exist,
                child_watches: batch.child,
            };
            write_frame(wbuf, xid::SET_WATCHES, OpCode::SetWatches, &sw);
        } else {
            let sw = SetWatches2 {
                relative_zxid,
                data_watches: batch.data,
                exist_watches: batch.exist,
                child_watches: batch.child,
                persistent_watches: batch.persistent,
                persistent_recursive_watches: batch.recursive,
            };
            write_frame(wbuf, xid::SET_WATCHES, OpCode::SetWatches2, &sw);
        }
    }
}

/// Splits the live watches into SetWatches batches of at most
/// [`SET_WATCHES_BATCH_BYTES`] of paths, with the chroot added back.
fn set_watches_batches(live: &WatchPaths, chroot: Option<&str>) -> Vec<WatchPaths> {
    let mut batches = vec![WatchPaths::default()];
    let mut size = 0usize;
    type Slot = fn(&mut WatchPaths) -> &mut Vec<String>;
    let lists: [(&Vec<String>, Slot); 5] = [
        (&live.data, |b| &mut b.data),
        (&live.exist, |b| &mut b.exist),
        (&live.child, |b| &mut b.child),
        (&live.persistent, |b| &mut b.persistent),
        (&live.recursive, |b| &mut b.recursive),
    ];
    for (paths, slot) in lists {
        for p in paths {
            let server = match chroot {
                None => p.clone(),
                Some(c) => path::prepend_chroot(c, p),
            };
            let cost = server.len() + 4;
            if size + cost > SET_WATCHES_BATCH_BYTES && size > 0 {
                batches.push(WatchPaths::default());
                size = 0;
            }
            size += cost;
            if let Some(last) = batches.last_mut() {
                slot(last).push(server);
            }
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_watches_batches_stay_under_the_limit_and_keep_every_path() {
        let live = WatchPaths {
            data: (0..5000).map(|i| format!("/data/{i:040}")).collect(),
            child: (0..2000).map(|i| format!("/child/{i:040}")).collect(),
            recursive: vec!["/r".into()],
            ..Default::default()
        };
        let batches = set_watches_batches(&live, Some("/app"));
        assert!(batches.len() > 1);
        let mut total = 0;
        for b in &batches {
            let bytes: usize = [&b.data, &b.exist, &b.child, &b.persistent, &b.recursive]
                .iter()
                .flat_map(|v| v.iter())
                .map(|p| p.len() + 4)
                .sum();
            assert!(bytes <= SET_WATCHES_BATCH_BYTES);
            total += b.data.len() + b.child.len() + b.recursive.len();
        }
        assert_eq!(total, 7001);
        assert!(batches[0].data[0].starts_with("/app/data/"));
        assert_eq!(
            batches.last().unwrap().recursive,
            vec!["/app/r".to_string()]
        );
    }
}
