//! Without the ZooKeeper jars, starting a server fails with a typed error that says how to fix
//! it. (Its own test binary: it points `ZK_TESTING_JARS` at an empty directory, which must not
//! leak into tests that start real servers.)

use zk_testing::{Error, JARS_ENV, TestingCluster, TestingServer};

#[test]
fn missing_jars_give_a_typed_error_that_names_scripts_setup() {
    let empty = tempfile::tempdir().expect("a temporary directory");
    // SAFETY: this binary's only test sets the variable before any other thread exists.
    unsafe { std::env::set_var(JARS_ENV, empty.path()) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let server = runtime.block_on(TestingServer::start());
    match server {
        Err(err @ Error::ZooKeeperNotInstalled { .. }) => {
            let message = err.to_string();
            assert!(message.contains("scripts/setup"), "{message}");
            assert!(message.contains(JARS_ENV), "{message}");
        }
        other => panic!("expected ZooKeeperNotInstalled, got {other:?}"),
    }
    let cluster = runtime.block_on(TestingCluster::start(3));
    assert!(matches!(cluster, Err(Error::ZooKeeperNotInstalled { .. })));
}
