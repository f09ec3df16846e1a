//! zk-core: the native async ZooKeeper client and the framework `Client`.
//!
//! - [`proto`]: the wire protocol (jute records, opcodes, error codes, framing), pure.

pub mod proto;
