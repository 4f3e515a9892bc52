// The {{name}} projection: one `aggregates` row per aggregate, with its last event type
// and how many events it has seen. An event without `aggregateId` fails (and goes to the
// dead-letter topic); the rest of its batch commits.
//
// Pure logic, no Wasm imports: test it natively with `npm test` in this directory (it
// copies the SDK into weir-sdk/, then runs `node --test test/*.test.js`). src/main.js
// makes it the component's `handle`; ./build.sh builds plugin.wasm.

import { WeirError } from '../weir-sdk/index.js';

/** Counts the event on its aggregate's row. */
export function handle(event, ctx) {
  const id = event.aggregateId;
  if (id === undefined) throw new WeirError('event has no aggregateId');
  const row = ctx.get('aggregates', id);
  const events = Number.isInteger(row?.events) ? row.events : 0;
  ctx.upsert('aggregates', {
    id,
    last_event: event.eventType,
    events: events + 1,
    updated_at: event.timestampRfc3339,
  });
}
