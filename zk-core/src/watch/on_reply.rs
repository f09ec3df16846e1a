//! Which replies change the watch table: a request that sets or removes a watch
//! carries an [`OnReply`], and the session task applies it to the registry when the
//! reply arrives, judged by the reply's code alone.
//!
//! The rules are the Java client's: a watch is added when the server says it set
//! one (an Ok reply, or NoNode for exists, which watches for the node's creation),
//! and local watches are dropped only once the server has removed its own.

use crate::proto::Code;
use crate::watch::registry::{WatchKind, WatchRegistration, WatchRegistry};

/// What the task must do to the watch table when a request's reply arrives.
#[derive(Debug)]
pub(crate) enum OnReply {
    /// The request touches no watch.
    Nothing,
    /// Add this watch if the reply says the server set it.
    Register(WatchRegistration),
    /// Add these watches as the request is written, before any reply: a SetWatches
    /// request, whose notifications for nodes changed since its zxid come before its
    /// reply (see [`OnReply::take_on_send`]).
    RegisterOnSend(Vec<WatchRegistration>),
    /// Drop local watches of these kinds on `path` if the server removed them.
    RemoveLocal {
        /// The client path whose watches go.
        path: String,
        /// Drop its data (and exists) watches.
        data: bool,
        /// Drop its child watches.
        child: bool,
        /// Drop its persistent and recursive watches.
        persistent: bool,
    },
}

impl OnReply {
    /// The watches to add as the request is written, leaving the rule for the reply.
    pub(crate) fn take_on_send(&mut self) -> Vec<WatchRegistration> {
        match std::mem::replace(self, OnReply::Nothing) {
            OnReply::RegisterOnSend(regs) => regs,
            other => {
                *self = other;
                Vec::new()
            }
        }
    }

    /// Applies the rule to `registry` for a reply with result `code`. Returns the
    /// path of a watch it added whose receiver is already gone (its caller gave up
    /// while the request was in flight): the server set that watch, and nobody
    /// wants it.
    pub(crate) fn apply(self, code: Code, registry: &mut WatchRegistry) -> Option<String> {
        match self {
            OnReply::Nothing | OnReply::RegisterOnSend(_) => None,
            OnReply::Register(reg) => {
                // exists on a missing node still sets a watch: it fires when the
                // node is created.
                let set =
                    code == Code::Ok || (code == Code::NoNode && reg.kind == WatchKind::Exists);
                if !set {
                    return None;
                }
                let dropped = reg.sink.is_closed().then(|| reg.path.clone());
                registry.register(reg, code == Code::Ok);
                dropped
            }
            OnReply::RemoveLocal {
                path,
                data,
                child,
                persistent,
            } => {
                if code == Code::Ok {
                    registry.remove(&path, data, child, persistent);
                }
                None
            }
        }
    }
}
