//! `InterProcessReadWriteLock`: Curator's read/write lock, two mutexes over one
//! queue of `__READ__` and `__WRIT__` nodes.

use bytes::Bytes;
use zk_core::Client;

use crate::locks::driver::Driver;
use crate::locks::mutex::InterProcessMutex;

/// A distributed read/write lock on Curator's layout: readers share, a writer
/// excludes readers and writers. Java and Rust holders on one path work together.
///
/// Both halves are [`InterProcessMutex`]es (re-entrant per handle) over one queue
/// under the lock's path: `_c_<uuid>-__READ__<seq>` and `_c_<uuid>-__WRIT__<seq>`,
/// ordered by their numbers. A writer holds when its node is first; a reader holds
/// while no write node is ahead of it.
///
/// A holder of the write lock may take the read lock (downgrade) and then release
/// the write lock. The read node then takes the write node's number, as Curator
/// 5.5 does, so a writer that queued meanwhile still waits for the reader. A
/// reader cannot upgrade: a write acquire while holding the read lock waits for
/// ever (or times out).
#[derive(Debug, Clone)]
pub struct InterProcessReadWriteLock {
    read: InterProcessMutex,
    write: InterProcessMutex,
}

impl InterProcessReadWriteLock {
    /// A read/write lock at `path`, its nodes holding Curator's default data.
    pub fn new(client: Client, path: impl Into<String>) -> Self {
        Self::build(client, path.into(), None)
    }

    /// A read/write lock whose nodes hold `data` (Curator's `lockData`).
    pub fn with_data(client: Client, path: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self::build(client, path.into(), Some(data.into()))
    }

    fn build(client: Client, path: String, data: Option<Bytes>) -> Self {
        let write = InterProcessMutex::with_driver(
            client.clone(),
            path.clone(),
            Driver::Writer,
            data.clone(),
            None,
        );
        let read =
            InterProcessMutex::with_driver(client, path, Driver::Reader, data, Some(write.clone()));
        InterProcessReadWriteLock { read, write }
    }

    /// The read half: shared with other readers, excluded by a writer.
    pub fn read_lock(&self) -> &InterProcessMutex {
        &self.read
    }

    /// The write half: excludes everyone else.
    pub fn write_lock(&self) -> &InterProcessMutex {
        &self.write
    }
}
