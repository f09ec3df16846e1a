//! The soak's participants: each is one framework client with its own proxy in front of the
//! whole ensemble (so a fault can cut or starve it alone) and a log of its connection states.

use std::time::Duration;

use zk_core::Client;
use zk_testing::{Proxy, TestingCluster};

use super::states::StateLog;
use super::violations::Violations;
use crate::clients::build_client;
use crate::error::{SoakError, SoakResult};

/// One participant's connection.
#[derive(Debug)]
pub struct Participant {
    /// What it runs ("service 0", "latch 1", ...).
    pub name: String,
    /// The proxy it reaches the ensemble through.
    pub proxy: Proxy,
    /// Its client.
    pub client: Client,
    /// Its connection states so far.
    pub states: StateLog,
}

impl Participant {
    /// A participant on `cluster` through a proxy of its own, connected (within `within`).
    pub async fn connect(
        name: String,
        cluster: &TestingCluster,
        session_timeout: Duration,
        violations: &Violations,
        within: Duration,
    ) -> SoakResult<Participant> {
        let proxy = Proxy::start_list(cluster.client_addrs()).await?;
        let client = build_client(&proxy.connect_string(), session_timeout)?;
        let states = StateLog::follow(&client, name.clone(), violations.clone());
        client
            .block_until_connected(within)
            .await
            .map_err(|e| SoakError::setup("connecting a participant", e))?;
        Ok(Participant {
            name,
            proxy,
            client,
            states,
        })
    }
}
