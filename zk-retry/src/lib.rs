//! zk-retry: retry policies and the retry loop, independent of ZooKeeper.
