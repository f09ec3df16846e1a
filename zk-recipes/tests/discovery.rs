//! Service discovery on a real ZooKeeper: registration round trip, Curator's JSON on the
//! node, node modes, close semantics, re-registration after expiry and deletion (once
//! per loss), leftovers of other sessions, caches and providers served from memory.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use support::*;
use zk_core::{Client, ConnectionState, CreateMode};
use zk_recipes::{
    DiscoveryError, DownInstancePolicy, JsonInstanceSerializer, RoundRobin, ServiceCacheEvent,
    ServiceDiscovery, ServiceInstance, ServiceType,
};

const QUIET: Duration = Duration::from_millis(1500);

fn instance(name: &str, id: &str, port: u16) -> ServiceInstance {
    ServiceInstance::builder()
        .name(name)
        .id(id)
        .address("10.0.0.7")
        .port(port)
        .payload(serde_json::json!({"zone": "eu-1"}))
        .build()
        .expect("valid instance")
}

fn typed(name: &str, id: &str, service_type: ServiceType) -> ServiceInstance {
    ServiceInstance::builder()
        .name(name)
        .id(id)
        .address("10.0.0.8")
        .port(9000)
        .service_type(service_type)
        .build()
        .expect("valid instance")
}

async fn discovery(client: &Client, this: Option<ServiceInstance>) -> ServiceDiscovery {
    let mut builder = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path("/services");
    if let Some(this) = this {
        builder = builder.this_instance(this);
    }
    let discovery = builder.build().expect("valid discovery");
    discovery.start().await.expect("start");
    discovery
}

#[tokio::test]
async fn register_query_update_unregister() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let me = instance("api.user", "i-1", 8080);
    let discovery = discovery(&client, Some(me.clone())).await;
    let other = instance("api.order", "o-1", 8081);
    discovery.register_service(&other).await.unwrap();

    assert_eq!(
        discovery.query_for_names().await.unwrap(),
        vec!["api.order", "api.user"]
    );
    assert_eq!(
        discovery.query_for_instances("api.user").await.unwrap(),
        vec![me.clone()]
    );
    assert_eq!(
        discovery
            .query_for_instance("api.user", "i-1")
            .await
            .unwrap(),
        Some(me.clone())
    );
    assert_eq!(
        discovery
            .query_for_instance("api.user", "nope")
            .await
            .unwrap(),
        None
    );
    assert!(
        discovery
            .query_for_instances("missing")
            .await
            .unwrap()
            .is_empty()
    );

    let moved = me.to_builder().port(9090).build().unwrap();
    discovery.update_service(&moved).await.unwrap();
    assert_eq!(
        discovery
            .query_for_instance("api.user", "i-1")
            .await
            .unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        discovery.registered_instances(),
        vec![moved.clone(), other.clone()],
        "in id order"
    );

    let renamed = me.to_builder().name("api.renamed").build().unwrap();
    assert!(matches!(
        discovery.update_service(&renamed).await,
        Err(DiscoveryError::InvalidUpdate { what: "name", .. })
    ));
    let stranger = instance("api.user", "i-2", 1);
    assert!(matches!(
        discovery.update_service(&stranger).await,
        Err(DiscoveryError::NotRegistered { .. })
    ));

    discovery.unregister_service(&moved).await.unwrap();
    assert_eq!(
        discovery
            .query_for_instance("api.user", "i-1")
            .await
            .unwrap(),
        None
    );
    assert!(
        discovery
            .query_for_instances("api.user")
            .await
            .unwrap()
            .is_empty()
    );
    discovery.close().await.unwrap();
    assert!(matches!(
        discovery.register_service(&me).await,
        Err(DiscoveryError::Closed)
    ));
}

#[tokio::test]
async fn builder_refuses_missing_settings() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    assert!(matches!(
        ServiceDiscovery::<serde_json::Value>::builder()
            .base_path("/s")
            .build(),
        Err(DiscoveryError::Missing("client"))
    ));
    assert!(matches!(
        ServiceDiscovery::<serde_json::Value>::builder()
            .client(client.clone())
            .build(),
        Err(DiscoveryError::Missing("base_path"))
    ));
    assert!(matches!(
        ServiceDiscovery::<serde_json::Value>::builder()
            .client(client)
            .base_path("no-slash")
            .build(),
        Err(DiscoveryError::ZooKeeper(zk_core::Error::InvalidPath(_)))
    ));
}

#[tokio::test]
async fn node_holds_curators_json_byte_for_byte() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let me = instance("api.user", "json-1", 8080);
    let discovery = discovery(&client, Some(me.clone())).await;
    let (bytes, _) = client.get_data("/services/api.user/json-1").await.unwrap();
    assert_eq!(
        &bytes[..],
        &JsonInstanceSerializer::new().serialize(&me).unwrap()[..]
    );

    let with_enabled = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path("/services2")
        .serializer(JsonInstanceSerializer::with_enabled_field())
        .build()
        .unwrap();
    with_enabled.start().await.unwrap();
    with_enabled.register_service(&me).await.unwrap();
    let (bytes, _) = client.get_data("/services2/api.user/json-1").await.unwrap();
    assert_eq!(
        &bytes[..],
        &JsonInstanceSerializer::with_enabled_field()
            .serialize(&me)
            .unwrap()[..]
    );
    assert!(
        std::str::from_utf8(&bytes)
            .unwrap()
            .ends_with(",\"enabled\":true}")
    );
    discovery.close().await.unwrap();
    with_enabled.close().await.unwrap();
}

#[tokio::test]
async fn node_modes_follow_the_service_type_and_close_keeps_static_and_permanent() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let discovery = discovery(&client, None).await;
    for (id, t) in [
        ("dyn", ServiceType::Dynamic),
        ("seq-", ServiceType::DynamicSequential),
        ("stat", ServiceType::Static),
        ("perm", ServiceType::Permanent),
    ] {
        discovery
            .register_service(&typed("svc", id, t))
            .await
            .unwrap();
    }
    let session = client.session_id();
    assert_eq!(
        stat_of(&observer, "/services/svc/dyn")
            .await
            .unwrap()
            .ephemeral_owner,
        session
    );
    assert_eq!(
        stat_of(&observer, "/services/svc/stat")
            .await
            .unwrap()
            .ephemeral_owner,
        0
    );
    assert_eq!(
        stat_of(&observer, "/services/svc/perm")
            .await
            .unwrap()
            .ephemeral_owner,
        0
    );
    let seq_path = discovery
        .registered_path("seq-")
        .expect("sequential node created");
    let seq_name = seq_path.strip_prefix("/services/svc/").unwrap();
    assert!(seq_name.starts_with("seq-") && zk_core::path::sequence_of(seq_name).is_some());
    assert_eq!(
        stat_of(&observer, &seq_path).await.unwrap().ephemeral_owner,
        session
    );
    // The service node itself is a container, as Curator makes it.
    assert_eq!(
        stat_of(&observer, "/services/svc")
            .await
            .unwrap()
            .ephemeral_owner,
        0
    );

    discovery.close().await.unwrap();
    let mut left = observer.get_children("/services/svc").await.unwrap();
    left.sort();
    assert_eq!(
        left,
        vec!["perm", "stat"],
        "only static and permanent instances survive close"
    );
    // And the client's session ending does not take them either.
    client.close().await;
    assert!(stat_of(&observer, "/services/svc/stat").await.is_some());

    // A static instance can be removed by hand through another discovery.
    let admin = discovery_for(&observer).await;
    admin
        .unregister_service(&typed("svc", "stat", ServiceType::Static))
        .await
        .unwrap();
    assert_eq!(stat_of(&observer, "/services/svc/stat").await, None);
    admin.close().await.unwrap();
}

async fn discovery_for(client: &Client) -> ServiceDiscovery {
    discovery(client, None).await
}

#[tokio::test]
async fn session_expiry_reregisters_the_instance_exactly_once() {
    let server = fresh_chroot().await;
    let connect_string = server.connect_string();
    let client = connect(&connect_string).await;
    let observer = connect(&connect_string).await;
    let mut counter = CreateCounter::start(&observer, "/services").await;
    let me = instance("api.user", "exp-1", 8080);
    let discovery = discovery(&client, Some(me.clone())).await;
    let path = "/services/api.user/exp-1";
    assert_eq!(counter.creates_of(path, Duration::ZERO).await, 1);
    let before = stat_of(&observer, path).await.unwrap();

    let mut states = client.connection_states();
    let old_session = expire_session(&connect_string, &client).await;
    wait_for_state(&mut states, ConnectionState::Lost).await;
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    let (_, after) = recreated("instance re-registered", &observer, path, &before).await;
    assert_ne!(after.ephemeral_owner, old_session);
    assert_eq!(after.ephemeral_owner, client.session_id());
    assert_eq!(
        counter.creates_of(path, QUIET).await,
        1,
        "re-registered exactly once"
    );
    assert_eq!(
        observer.get_children("/services/api.user").await.unwrap(),
        vec!["exp-1"]
    );
    assert_eq!(
        discovery
            .query_for_instance("api.user", "exp-1")
            .await
            .unwrap(),
        Some(me)
    );
    discovery.close().await.unwrap();
    assert_eq!(stat_of(&observer, path).await, None);
}

#[tokio::test]
async fn deleted_instance_node_is_registered_again() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let observer = connect(&server.connect_string()).await;
    let mut counter = CreateCounter::start(&observer, "/services").await;
    let me = instance("api.user", "del-1", 8080);
    let discovery = discovery(&client, Some(me.clone())).await;
    let path = "/services/api.user/del-1";
    let before = stat_of(&observer, path).await.unwrap();
    assert_eq!(counter.creates_of(path, Duration::ZERO).await, 1);

    observer.delete(path).await.unwrap();
    let (_, after) = recreated("instance re-created", &observer, path, &before).await;
    assert_eq!(after.ephemeral_owner, client.session_id());
    assert_eq!(counter.creates_of(path, QUIET).await, 1);
    let (bytes, _) = observer.get_data(path).await.unwrap();
    assert_eq!(&bytes[..], &me.to_json_bytes().unwrap()[..]);
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn leftover_node_of_another_session_is_replaced_by_ours() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let previous_life = connect(&server.connect_string()).await;
    let me = instance("api.user", "left-1", 8080);
    let stale = me.to_builder().port(1).build().unwrap();
    previous_life
        .create("/services/api.user/left-1", &stale.to_json_bytes().unwrap())
        .mode(CreateMode::Ephemeral)
        .create_parents()
        .await
        .unwrap();
    let stale_stat = stat_of(&client, "/services/api.user/left-1").await.unwrap();
    assert_eq!(stale_stat.ephemeral_owner, previous_life.session_id());

    let discovery = discovery(&client, Some(me.clone())).await;
    let (bytes, stat) = client.get_data("/services/api.user/left-1").await.unwrap();
    assert_eq!(
        stat.ephemeral_owner,
        client.session_id(),
        "owner is our session now"
    );
    assert_ne!(stat.czxid, stale_stat.czxid, "deleted and created again");
    assert_eq!(&bytes[..], &me.to_json_bytes().unwrap()[..]);

    // Registering again while the node is ours changes nothing on the server.
    discovery.register_service(&me).await.unwrap();
    assert_eq!(
        stat_of(&client, "/services/api.user/left-1")
            .await
            .unwrap()
            .czxid,
        stat.czxid
    );
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn service_cache_follows_adds_updates_and_removals() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let other_client = connect(&server.connect_string()).await;
    let discovery = discovery(&client, Some(instance("api.user", "c-1", 1))).await;
    let others = discovery_for(&other_client).await;

    let cache = discovery
        .service_cache_builder()
        .name("api.user")
        .build()
        .unwrap();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(ids(&cache.instances()), vec!["c-1"]);

    let second = instance("api.user", "c-2", 2);
    others.register_service(&second).await.unwrap();
    next_changed(&mut events).await;
    eventually("c-2 cached", || async {
        (ids(&cache.instances()) == ["c-1", "c-2"]).then_some(())
    })
    .await;

    let updated = second.to_builder().port(22).build().unwrap();
    others.update_service(&updated).await.unwrap();
    next_changed(&mut events).await;
    eventually("update cached", || async {
        cache
            .instances()
            .iter()
            .any(|i| i.id() == "c-2" && i.port() == Some(22))
            .then_some(())
    })
    .await;

    others.close().await.unwrap();
    next_changed(&mut events).await;
    eventually("c-2 removed", || async {
        (ids(&cache.instances()) == ["c-1"]).then_some(())
    })
    .await;

    // Closing the discovery closes its caches: their event streams end.
    discovery.close().await.unwrap();
    let rest: Vec<_> = tokio::time::timeout(DEADLINE, events.collect::<Vec<_>>())
        .await
        .expect("stream ends");
    assert!(rest.iter().all(|e| matches!(
        e,
        ServiceCacheEvent::Changed | ServiceCacheEvent::ConnectionStateChanged(_)
    )));
}

fn ids(list: &[Arc<ServiceInstance>]) -> Vec<String> {
    list.iter().map(|i| i.id().to_string()).collect()
}

async fn next_changed(events: &mut zk_recipes::ServiceCacheEvents) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = events.next().await {
            if e == ServiceCacheEvent::Changed {
                return;
            }
        }
        panic!("event stream ended");
    })
    .await
    .expect("a Changed event");
}

#[tokio::test]
async fn cache_reports_connection_states_and_reloads_after_expiry() {
    let server = fresh_chroot().await;
    let connect_string = server.connect_string();
    let client = connect(&connect_string).await;
    let other_client = connect(&connect_string).await;
    let discovery = discovery(&client, None).await;
    let others = discovery_for(&other_client).await;
    others
        .register_service(&instance("api.user", "r-1", 1))
        .await
        .unwrap();
    let cache = discovery
        .service_cache_builder()
        .name("api.user")
        .build()
        .unwrap();
    let mut events = cache.events();
    cache.start().await.unwrap();
    assert_eq!(ids(&cache.instances()), vec!["r-1"]);

    expire_session(&connect_string, &client).await;
    let mut saw = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = events.next().await {
            if let ServiceCacheEvent::ConnectionStateChanged(s) = e {
                saw.push(s);
                if s == ConnectionState::Reconnected {
                    return;
                }
            }
        }
    })
    .await
    .expect("reconnected");
    assert!(saw.contains(&ConnectionState::Lost), "states seen: {saw:?}");
    // The new session's watch works: a change after expiry reaches the cache.
    others
        .register_service(&instance("api.user", "r-2", 2))
        .await
        .unwrap();
    next_changed(&mut events).await;
    eventually("r-2 cached after expiry", || async {
        (ids(&cache.instances()) == ["r-1", "r-2"]).then_some(())
    })
    .await;
    cache.close().await;
    discovery.close().await.unwrap();
    others.close().await.unwrap();
}

#[tokio::test]
async fn provider_serves_from_memory_even_while_the_server_is_paused() {
    let mut server = own_server().await;
    let client = connect(&server.connect_string()).await;
    let discovery = discovery(&client, None).await;
    for (id, port) in [("p-1", 1), ("p-2", 2), ("p-3", 3)] {
        discovery
            .register_service(&instance("api.user", id, port))
            .await
            .unwrap();
    }
    let provider = discovery
        .service_provider("api.user")
        .strategy(RoundRobin::new())
        .filter(|i: &ServiceInstance| i.port() != Some(3))
        .down_instance_policy(DownInstancePolicy::new(Duration::from_secs(60), 1))
        .build()
        .await
        .unwrap();
    assert_eq!(ids(&provider.get_all_instances()), vec!["p-1", "p-2"]);

    server.pause().unwrap();
    let started = std::time::Instant::now();
    let picks: Vec<_> = (0..4)
        .map(|_| {
            provider
                .get_instance()
                .expect("an instance")
                .id()
                .to_string()
        })
        .collect();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no round trip"
    );
    assert_eq!(picks, vec!["p-1", "p-2", "p-1", "p-2"]);
    let p1 = provider.get_all_instances()[0].clone();
    provider.note_error(&p1);
    assert_eq!(
        ids(&provider.get_all_instances()),
        vec!["p-2"],
        "noted down"
    );
    assert_eq!(provider.get_instance().unwrap().id(), "p-2");
    server.resume().unwrap();

    provider.close().await;
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn watch_instances_adopts_data_written_by_others() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let admin = connect(&server.connect_string()).await;
    let me = instance("api.user", "w-1", 8080);
    let discovery = ServiceDiscovery::builder()
        .client(client.clone())
        .base_path("/services")
        .this_instance(me.clone())
        .watch_instances(true)
        .build()
        .unwrap();
    discovery.start().await.unwrap();
    let disabled = me.to_builder().enabled(false).build().unwrap();
    let bytes = JsonInstanceSerializer::with_enabled_field()
        .serialize(&disabled)
        .unwrap();
    admin
        .set_data("/services/api.user/w-1", &bytes)
        .await
        .unwrap();
    eventually("registered record follows the node", || async {
        (!discovery.registered_instances()[0].enabled()).then_some(())
    })
    .await;
    // A later re-creation writes the adopted record, not the original one.
    let before = stat_of(&admin, "/services/api.user/w-1").await.unwrap();
    admin.delete("/services/api.user/w-1").await.unwrap();
    let (data, _) = recreated("re-created", &admin, "/services/api.user/w-1", &before).await;
    assert_eq!(&data[..], &bytes[..]);
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn a_closed_client_fails_registration_and_cache_start_instead_of_hanging() {
    let server = fresh_chroot().await;
    let client = connect(&server.connect_string()).await;
    let discovery = discovery(&client, None).await;
    client.close().await;
    let outcome = tokio::time::timeout(
        DEADLINE,
        discovery.register_service(&instance("api.user", "x", 1)),
    )
    .await
    .expect("register returns");
    assert!(
        matches!(
            outcome,
            Err(DiscoveryError::ZooKeeper(zk_core::Error::Closed))
        ),
        "{outcome:?}"
    );
    assert!(discovery.registered_instances().is_empty());
    let cache = discovery
        .service_cache_builder()
        .name("api.user")
        .build()
        .unwrap();
    let started = tokio::time::timeout(DEADLINE, cache.start())
        .await
        .expect("start returns");
    assert!(
        matches!(
            started,
            Err(DiscoveryError::ZooKeeper(zk_core::Error::Closed))
        ),
        "{started:?}"
    );
}

#[tokio::test]
async fn reconnection_on_the_same_session_leaves_the_registration_alone() {
    let mut server = own_server().await;
    let client = connect(&server.connect_string()).await;
    let me = instance("api.user", "same-1", 8080);
    let discovery = discovery(&client, Some(me)).await;
    let path = "/services/api.user/same-1";
    let before = stat_of(&client, path).await.unwrap();
    let session = client.session_id();

    let mut states = client.connection_states();
    server.pause().unwrap();
    wait_for_state(&mut states, ConnectionState::Suspended).await;
    server.resume().unwrap();
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    assert_eq!(client.session_id(), session, "same session");
    tokio::time::sleep(QUIET).await; // room for a needless re-registration to show
    let after = stat_of(&client, path).await.unwrap();
    assert_eq!(
        (after.czxid, after.mzxid, after.version),
        (before.czxid, before.mzxid, before.version)
    );
    discovery.close().await.unwrap();
}

#[tokio::test]
async fn dynamic_sequential_instance_keeps_its_node_name_across_expiry() {
    let server = fresh_chroot().await;
    let connect_string = server.connect_string();
    let client = connect(&connect_string).await;
    let observer = connect(&connect_string).await;
    let discovery = discovery(
        &client,
        Some(typed("batch", "worker-", ServiceType::DynamicSequential)),
    )
    .await;
    let path = discovery.registered_path("worker-").expect("created");
    let before = stat_of(&observer, &path).await.unwrap();

    let mut states = client.connection_states();
    expire_session(&connect_string, &client).await;
    wait_for_state(&mut states, ConnectionState::Reconnected).await;
    let (_, after) = recreated(
        "re-registered under the same name",
        &observer,
        &path,
        &before,
    )
    .await;
    assert_eq!(after.ephemeral_owner, client.session_id());
    let children = observer.get_children("/services/batch").await.unwrap();
    assert_eq!(children.len(), 1, "no second sequential node: {children:?}");
    assert_eq!(
        discovery.registered_path("worker-").as_deref(),
        Some(path.as_str())
    );
    discovery.close().await.unwrap();
    assert!(
        observer
            .get_children("/services/batch")
            .await
            .map(|c| c.is_empty())
            .unwrap_or(true)
    );
}
