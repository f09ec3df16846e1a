//! The client's `AclProvider` on a real server, with digest identities: a create that
//! sets no ACL gets the provider's ACL for its path, and so do the parents
//! `create_parents` makes, the namespace node and a transaction's creates; an explicit
//! ACL wins. The right identity reads such a node, another gets NoAuth.

mod common;

use common::*;
use zk_core::{Acl, AclProvider, Client, Code, CreateMode, FixedAclProvider, Id, Perms, digest_id};

/// Only `alice` may do anything, except under `/shared/`, which anyone may read.
#[derive(Debug)]
struct AliceOwns;

impl AclProvider for AliceOwns {
    fn default_acl(&self) -> Vec<Acl> {
        vec![alice_all()]
    }

    fn acl_for_path(&self, path: &str) -> Vec<Acl> {
        if path.contains("/shared/") {
            vec![alice_all(), Acl::new(Perms::READ, Id::anyone())]
        } else {
            self.default_acl()
        }
    }
}

fn alice_all() -> Acl {
    Acl::new(
        Perms::ALL,
        Id::new("digest", digest_id("alice", "alice-secret")),
    )
}

async fn client_as(user: &str, namespace: &str, provider: impl AclProvider + 'static) -> Client {
    let server = server().await;
    let client = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .namespace(namespace)
        .authorization("digest", format!("{user}:{user}-secret"))
        .acl_provider(provider)
        .build()
        .expect("a client");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected");
    client
}

async fn acl_of(client: &Client, path: &str) -> Vec<Acl> {
    client.get_acl(path).await.expect("getACL").0
}

#[tokio::test]
async fn creates_without_an_acl_take_the_providers_for_the_node_its_parents_and_the_namespace() {
    let ns = unique("acl-provider");
    let ns = ns.trim_start_matches('/');
    let alice = client_as("alice", ns, AliceOwns).await;
    let bob = client_as("bob", ns, FixedAclProvider::new(vec![Acl::open_unsafe()])).await;

    alice
        .create("/a/b/node", b"alice's")
        .create_parents()
        .await
        .expect("create with parents");
    for path in ["/a", "/a/b", "/a/b/node"] {
        assert_eq!(acl_of(&alice, path).await, vec![alice_all()], "{path}");
    }
    // The namespace node itself, made on first use, as seen from outside the namespace.
    let root = server().await;
    let outside = connect(&root.connect_string()).await;
    // getACL needs READ (ZooKeeper 3.6+): ask as alice.
    bounded("addAuth", outside.add_auth("digest", b"alice:alice-secret"))
        .await
        .expect("alice's credentials");
    let (acl, _) = bounded("getACL", outside.get_acl(&format!("/{ns}")))
        .await
        .expect("the namespace node");
    assert_eq!(acl, vec![alice_all()]);

    // Per path: under /shared/ anyone may read.
    alice
        .create("/a/shared/open", b"for all")
        .create_parents()
        .await
        .expect("create");
    assert_eq!(
        acl_of(&alice, "/a/shared/open").await,
        vec![alice_all(), Acl::new(Perms::READ, Id::anyone())]
    );

    // The right identity reads; another gets NoAuth, but may read what is shared.
    let (data, _) = alice.get_data("/a/b/node").await.expect("alice reads");
    assert_eq!(&data[..], b"alice's");
    let denied = bob.get_data("/a/b/node").await.expect_err("bob may not");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    let (data, _) = bob
        .get_data("/a/shared/open")
        .await
        .expect("bob reads the shared one");
    assert_eq!(&data[..], b"for all");
    let denied = bob
        .set_data("/a/shared/open", b"bob's")
        .await
        .expect_err("but may not write it");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");

    // An explicit ACL wins over the provider.
    alice
        .create("/a/explicit", b"")
        .acl(vec![Acl::open_unsafe()])
        .await
        .expect("create");
    assert_eq!(
        acl_of(&alice, "/a/explicit").await,
        vec![Acl::open_unsafe()]
    );

    // A transaction's creates, sequential and protected ones too.
    alice
        .transaction()
        .create("/a/tx", b"")
        .create_with_mode("/a/shared/tx-", b"", CreateMode::PersistentSequential)
        .await
        .expect("a transaction");
    assert_eq!(acl_of(&alice, "/a/tx").await, vec![alice_all()]);
    let shared = alice.get_children("/a/shared").await.expect("children");
    let tx = shared
        .iter()
        .find(|c| c.starts_with("tx-"))
        .expect("the sequential node");
    assert_eq!(
        acl_of(&alice, &format!("/a/shared/{tx}")).await,
        vec![alice_all(), Acl::new(Perms::READ, Id::anyone())]
    );
    let protected = alice
        .create("/a/p-", b"")
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .await
        .expect("a protected create");
    assert_eq!(acl_of(&alice, &protected).await, vec![alice_all()]);

    alice.close().await;
    bob.close().await;
}
