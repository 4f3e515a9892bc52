//! Misbehaves on demand, by event type, to test that weir isolates failing events:
//! `Ok` writes a row `items(id, n)`; `Panic` panics (a trap); `Loop` never returns (the
//! deadline); `Alloc` grows memory without bound (the memory limit); `WriteThenFail`
//! writes a row and then returns an error; `Read` copies the row `id` into `copy_of`;
//! `Flaky` fails with a retryable error on its first two tries in an instance, then
//! writes its row; `Unavailable` always fails with a retryable error. Past the SDK,
//! straight to the host's imports: `BadPacked` writes a row that is not packed values,
//! `ShortPacked` a packed row with one value too few, `NullKey` a row whose key is NULL,
//! and `BadKey` reads with a key that is not packed values.

use std::sync::atomic::{AtomicU32, Ordering};

use weir_sdk::{projection, Ctx, Error, Event, Row};

/// Tries of `Flaky` events so far in this instance.
static FLAKY_TRIES: AtomicU32 = AtomicU32::new(0);

fn id(event: &Event) -> Result<String, Error> {
    let data: serde_json::Value = event.data()?;
    Ok(data["id"].as_str().unwrap_or("none").to_owned())
}

/// See the crate docs.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    match event.event_type() {
        "Ok" => ctx.upsert(Row::new("items").set("id", id(event)?).set("n", 1)),
        "Panic" => panic!("hostile plugin panics on purpose"),
        "Loop" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "Alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "WriteThenFail" => {
            ctx.upsert(Row::new("items").set("id", id(event)?).set("n", 99))?;
            Err(Error::new("failing after a write, on purpose"))
        }
        "Read" => {
            let data: serde_json::Value = event.data()?;
            let source = data["from"].as_str().unwrap_or_default();
            let n = ctx.get("items", source)?.and_then(|r| r.i64("n"));
            ctx.upsert(Row::new("items").set("id", id(event)?).set("n", n))
        }
        "Flaky" => {
            if FLAKY_TRIES.fetch_add(1, Ordering::Relaxed) < 2 {
                return Err(Error::retryable("flaky dependency, try again"));
            }
            ctx.upsert(Row::new("items").set("id", id(event)?).set("n", 2))
        }
        "Unavailable" => Err(Error::retryable("dependency unavailable")),
        "BadPacked" | "ShortPacked" | "NullKey" | "BadKey" => raw(event.event_type(), ctx),
        other => Err(Error::new(format!("unexpected event type {other}"))),
    }
}

/// Calls the host's imports directly with what the SDK never sends (see the crate docs).
#[cfg(target_arch = "wasm32")]
fn raw(kind: &str, ctx: &mut Ctx) -> Result<(), Error> {
    use weir_sdk::__private::bindings::weir::plugin::read_model;
    let input = ctx.input();
    match kind {
        // Tag 9 is no value type.
        "BadPacked" => read_model::upsert_packed(input, 0, &[9]),
        // `items` has two columns; this is one text value.
        "ShortPacked" => read_model::upsert_packed(input, 0, &[4, 1, 0, 0, 0, b'x']),
        // NULL, then the integer 1.
        "NullKey" => read_model::upsert_packed(input, 0, &[0, 2, 1, 0, 0, 0, 0, 0, 0, 0]),
        // A text value whose length runs past the end.
        _ => {
            read_model::get_packed(0, &[4, 200, 0, 0, 0]);
        }
    }
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
fn raw(kind: &str, _: &mut Ctx) -> Result<(), Error> {
    Err(Error::new(format!("{kind} calls the Wasm host's imports directly: only in Wasm")))
}
