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

#[cfg(any(test, all(target_arch = "wasm32", not(target_feature = "atomics"))))]
mod alloc;
mod ctx;
mod error;
mod event;
mod packed;
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

/// The pipeline's declaration of `table`, when the SDK knows it for good: in Wasm, where
/// the schema is the instance's. Rows of such a table are built in declared order.
#[cfg(target_arch = "wasm32")]
#[inline]
pub(crate) fn declared_table(table: &str) -> Option<&'static TableSchema> {
    guest::declared_table(table)
}

#[cfg(not(target_arch = "wasm32"))]
#[inline]
pub(crate) fn declared_table(_table: &str) -> Option<&'static TableSchema> {
    None
}

/// Whether two names are equal. Table and column names are compared for every value
/// written; Wasm's `memcmp` (wasi-libc) goes a byte at a time, this eight at a time.
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_names() {
        let names = ["", "a", "ab", "abc", "abcd", "abcde", "abcdefg", "abcdefgh", "abcdefghi", "order_summaries", "order_summarie_", "_rder_summaries"];
        for a in names {
            for b in names {
                assert_eq!(super::same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(!super::same("created_at", "created_by"));
        assert!(!super::same("xreated_at", "created_at"));
    }
}

/// Used by the code `#[projection]` generates; not part of the public API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use crate::guest::bindings;
    pub use crate::guest::bindings::export as export_projection;
    pub use crate::guest::bindings::Guest;
    pub use crate::guest::bindings::weir::plugin::types::{Batch, Failure};
    pub use crate::guest::run_batch;
    #[cfg(not(target_feature = "atomics"))]
    pub use crate::alloc::Allocator;
}
