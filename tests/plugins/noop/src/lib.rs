//! Does nothing with its events: the benchmarks' measure of what a batch call costs
//! before any plugin logic (the boundary, the SDK's walk over the packed index).

use weir_sdk::{projection, Ctx, Error, Event};

/// See the crate docs.
#[projection]
pub fn handle(event: &Event, _ctx: &mut Ctx) -> Result<(), Error> {
    std::hint::black_box(event.event_type());
    Ok(())
}
