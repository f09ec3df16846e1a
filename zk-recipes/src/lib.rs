//! zk-recipes: caches, service discovery, leader election and nodes built on the framework `Client`.
