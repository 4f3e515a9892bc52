/*
 * The {{name}} projection: one `aggregates` row per aggregate, with its last event type
 * and how many events it has seen. An event without `aggregateId` fails (and goes to the
 * dead-letter topic); the rest of its batch commits.
 *
 * Build: ./build.sh (plugin.wasm). Native test of this logic: ./test.sh (test_plugin.c,
 * host compiler, against the SDK's fake host). API: {{sdk}}/c/include/weir.h.
 */
#include "weir.h"

/* Counts the event on its aggregate's row. */
weir_error *weir_handle(const weir_event *event, weir_ctx *ctx) {
    if (!event->aggregate_id.ptr) return weir_error_new("event has no aggregateId");
    weir_value key = weir_textn(event->aggregate_id.ptr, event->aggregate_id.len);

    weir_row *row;
    WEIR_TRY(weir_get(ctx, "aggregates", &key, 1, &row));
    int64_t events = 0;
    if (row) {
        weir_row_i64(row, "events", &events); /* stays 0 unless an integer */
        weir_row_free(row);
    }

    char updated_at[WEIR_RFC3339_LEN];
    row = weir_row_new("aggregates");
    weir_row_set(row, "id", key);
    weir_row_set_text(row, "last_event", event->event_type);
    weir_row_set_i64(row, "events", events + 1);
    weir_row_set_text(row, "updated_at", weir_event_timestamp_rfc3339(event, updated_at));
    weir_error *err = weir_upsert(ctx, row);
    weir_row_free(row);
    return err;
}
