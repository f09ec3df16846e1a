//! zk-testing: start real ZooKeeper servers on loopback for tests, and break them on purpose.
