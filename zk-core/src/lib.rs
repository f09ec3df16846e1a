//! zk-core: the native async ZooKeeper client and the framework `Client`.
