//! A seam for protocols that name an address in the first message of a connection: the proxy
//! holds a connection's first client bytes until an [`OpeningRewrite`] has seen the whole
//! opening message, and forwards what it returns instead. The rest of the stream, and every
//! reply, pass as they are.

use std::fmt;
use std::sync::Arc;

/// Most bytes held while waiting for an opening message to be complete; past this the bytes
/// go on unchanged.
pub(crate) const MAX_OPENING_BYTES: usize = 4096;

/// What an [`OpeningRewrite`] makes of the bytes a client sent first.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opening {
    /// The opening message is not complete yet: read more.
    Incomplete,
    /// Forward these bytes in place of everything held so far, and the rest unchanged.
    Replace(Vec<u8>),
}

/// Rewrites the opening message of every connection through a proxy, given everything the
/// client has sent so far.
#[derive(Clone)]
pub(crate) struct OpeningRewrite(Arc<RewriteFn>);

/// The function behind an [`OpeningRewrite`].
type RewriteFn = dyn Fn(&[u8]) -> Opening + Send + Sync;

impl OpeningRewrite {
    /// A rewrite by `rewrite`, which must answer [`Opening::Replace`] with the bytes unchanged
    /// for anything it does not recognise.
    pub(crate) fn new(rewrite: impl Fn(&[u8]) -> Opening + Send + Sync + 'static) -> Self {
        OpeningRewrite(Arc::new(rewrite))
    }

    /// What to forward for `held`, the client's bytes so far.
    pub(crate) fn apply(&self, held: &[u8]) -> Opening {
        if held.len() > MAX_OPENING_BYTES {
            return Opening::Replace(held.to_vec());
        }
        (self.0)(held)
    }
}

impl fmt::Debug for OpeningRewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpeningRewrite")
    }
}
