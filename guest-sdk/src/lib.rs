//! # weir-sdk: write weir plugins in Rust
//!
//! A projection is a plain function that sees one event and a [`Ctx`] to read and write
//! the read model and to emit events:
//!
//! ```no_run
//! use weir_sdk::{projection, Ctx, Error, Event, Row};
//!
//! #[projection]
//! fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
//!     if event.event_type() == "OrderPlaced" {
//!         let order: serde_json::Value = event.data()?;
//!         ctx.upsert(Row::new("orders").set("id", order["orderId"].as_str()))?;
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Compiled for `wasm32-wasip2`, `#[projection]` exports the `weir:plugin/projection`
//! world: the host calls the plugin once per batch and the SDK calls your function once
//! per event. Compiled natively, the function is just a function: test it with
//! [`testing::TestHost`] and `cargo test`.

mod ctx;
mod error;
mod event;
mod row;
pub mod testing;
mod value;

pub use ctx::{Backend, Ctx, Key, Level, RecordMeta, Schema, TableSchema};
pub use error::Error;
pub use event::Event;
pub use row::Row;
pub use value::Value;
pub use weir_sdk_macros::projection;

#[cfg(target_arch = "wasm32")]
mod guest;

/// Used by the code `#[projection]` generates; not part of the public API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use crate::guest::bindings;
    pub use crate::guest::bindings::export as export_projection;
    pub use crate::guest::bindings::Guest;
    pub use crate::guest::bindings::weir::plugin::types::{Batch, Failure};
    pub use crate::guest::run_batch;
}
