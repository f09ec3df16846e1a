//! Re-registering watches after a reconnect: the live watches are sent again in
//! SetWatches requests, split so that no request grows past what a server takes.

use crate::proto::path;
use crate::watch::registry::WatchPaths;

/// SetWatches requests are split so that no batch's paths exceed this many bytes.
const SET_WATCHES_BATCH_BYTES: usize = 128 * 1024;

/// Splits the live watches into SetWatches batches of at most
/// [`SET_WATCHES_BATCH_BYTES`] of paths, with the chroot added back.
pub(crate) fn set_watches_batches(live: &WatchPaths, chroot: Option<&str>) -> Vec<WatchPaths> {
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
