//! Debug output that never shows secrets: session passwords and auth data print as
//! `<redacted>`, so logging a config or a handle with `{:?}` leaks nothing.

use std::fmt;

/// Prints as `<redacted>` (or `<none>` for nothing to hide).
pub(crate) struct Redacted(pub bool);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "<redacted>" } else { "<none>" })
    }
}

/// Credentials as `[scheme: <redacted>, ...]`.
pub(crate) struct RedactedAuth<'a>(pub &'a [(String, bytes::Bytes)]);

impl fmt::Debug for RedactedAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|(scheme, _)| format!("{scheme}: <redacted>")),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use crate::proto::{AuthPacket, ConnectRequest, ConnectResponse};
    use crate::session::SessionConfig;

    #[test]
    fn secrets_never_reach_debug_output() {
        let secret = "s3cret-pw";
        let mut config =
            SessionConfig::new("127.0.0.1:2181".parse().unwrap(), Duration::from_secs(10));
        config
            .auth
            .push(("digest".into(), Bytes::from(format!("user:{secret}"))));
        config.resume = Some((42, Bytes::from(secret)));
        #[cfg(feature = "sasl-digest-md5")]
        let config = config.with_sasl(crate::SaslConfig::digest_md5("alice", secret));
        let outputs = [
            format!("{config:?}"),
            format!(
                "{:?}",
                ConnectRequest {
                    protocol_version: 0,
                    last_zxid_seen: 0,
                    timeout_ms: 1,
                    session_id: 1,
                    passwd: Bytes::from(secret),
                    read_only: false
                }
            ),
            format!(
                "{:?}",
                ConnectResponse {
                    protocol_version: 0,
                    timeout_ms: 1,
                    session_id: 1,
                    passwd: Bytes::from(secret),
                    read_only: false
                }
            ),
            format!(
                "{:?}",
                AuthPacket {
                    auth_type: 0,
                    scheme: "digest".into(),
                    auth: Bytes::from(secret)
                }
            ),
        ];
        for out in outputs {
            assert!(
                !out.contains(secret) && !out.contains("115, 51"),
                "leaked: {out}"
            );
            assert!(out.contains("<redacted>"), "{out}");
        }
    }
}
