//! The framework's operations: one builder per operation, awaited directly
//! (`IntoFuture`). Each runs inside the client's retry policy.

pub mod acl;
pub mod children;
pub mod create;
pub mod data;
pub mod delete;
pub mod exists;
pub mod protected;
pub mod transaction;
pub mod watch;

use std::future::Future;
use std::pin::Pin;

/// The future every builder turns into.
pub type OpFuture<'a, T> = Pin<Box<dyn Future<Output = crate::Result<T>> + Send + 'a>>;
