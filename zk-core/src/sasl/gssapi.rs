//! GSSAPI (Kerberos V5) as a SASL mechanism (RFC 4752), the client side, on the system's
//! GSS-API library through the `libgssapi` crate (MIT Kerberos on Debian).
//!
//! The exchange: the client's first context token is its initial response; the context is
//! stepped with each server token until it is established (with mutual authentication the
//! server's last context token proves it holds the service key, and the client answers it
//! with an empty token); then the server offers its security layers in a wrapped 4-byte
//! message, and the client answers, wrapped, that it takes none (`0x01`, a maximum size of
//! 0, no authorization identity: the server then takes the authenticated principal). The
//! server's answer to that ends the login.

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE};

use super::MechanismError;

/// RFC 4752: the bit of "no security layer".
const NO_SECURITY_LAYER: u8 = 0x01;

/// One GSSAPI login.
pub(crate) struct GssapiClient {
    ctx: ClientCtx,
    step: Step,
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The security context is being established.
    Context,
    /// Established; the server's wrapped security-layer offer is awaited.
    LayerOffer,
    /// The choice is sent; the server's last answer is awaited.
    Chosen,
    /// Done.
    Done,
}

fn gss(what: &str, e: impl std::fmt::Display) -> MechanismError {
    MechanismError::Gssapi(format!("{what}: {e}"))
}

impl GssapiClient {
    /// A login to `service` on `host` (the service principal `service/host`).
    pub(crate) fn new(service: &str, host: &str) -> Result<Self, MechanismError> {
        let target = Name::new(
            format!("{service}@{host}").as_bytes(),
            Some(GSS_NT_HOSTBASED_SERVICE),
        )
        .map_err(|e| gss("naming the service", e))?;
        let ctx = ClientCtx::new(
            None,
            target,
            CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_SEQUENCE_FLAG,
            Some(GSS_MECH_KRB5),
        );
        Ok(GssapiClient {
            ctx,
            step: Step::Context,
        })
    }

    /// The first context token (the initial response).
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, MechanismError> {
        let token = self
            .ctx
            .step(None, None)
            .map_err(|e| gss("starting the security context", e))?;
        if self.ctx.is_complete() {
            self.step = Step::LayerOffer;
        }
        Ok(token.map(|t| t.to_vec()).unwrap_or_default())
    }

    /// Whether the login is complete.
    pub(crate) fn is_complete(&self) -> bool {
        self.step == Step::Done
    }

    /// The server's next token in, the client's next out (`None`: the login is complete).
    pub(crate) fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, MechanismError> {
        match self.step {
            Step::Context => {
                let out = self
                    .ctx
                    .step(Some(token), None)
                    .map_err(|e| gss("the security context", e))?;
                if self.ctx.is_complete() {
                    self.step = Step::LayerOffer;
                }
                // With nothing more to say, the client still answers (RFC 4752 3.1).
                Ok(Some(out.map(|t| t.to_vec()).unwrap_or_default()))
            }
            Step::LayerOffer => {
                let offer = self
                    .ctx
                    .unwrap(token)
                    .map_err(|e| gss("unwrapping the security-layer offer", e))?;
                let Some(&layers) = offer.first().filter(|_| offer.len() == 4) else {
                    return Err(MechanismError::Gssapi(format!(
                        "a security-layer offer of {} bytes (4 expected)",
                        offer.len()
                    )));
                };
                if layers & NO_SECURITY_LAYER == 0 {
                    return Err(MechanismError::Gssapi(
                        "the server requires a security layer, which this client does not do"
                            .into(),
                    ));
                }
                let choice = self
                    .ctx
                    .wrap(false, &[NO_SECURITY_LAYER, 0, 0, 0])
                    .map_err(|e| gss("wrapping the security-layer choice", e))?;
                self.step = Step::Chosen;
                Ok(Some(choice.to_vec()))
            }
            Step::Chosen => {
                self.step = Step::Done;
                Ok(None)
            }
            Step::Done => Err(MechanismError::Gssapi(
                "a token after the login was complete".into(),
            )),
        }
    }
}
