/*
 * Native test of the {{name}} projection (plugin.c) against the C SDK's fake host, which
 * keeps the real host's rules (a failed event's writes are dropped). Run: ./test.sh
 */
#include <string.h>

#include "weir.h"
#include "weir_check.h"
#include "weir_testing.h"

static const char *const COLUMNS[] = {"id", "last_event", "events", "updated_at", NULL};
static const char *const PK[] = {"id", NULL};

static bool is_text(const weir_value *v, const char *want) {
    return v && v->tag == WEIR_TEXT && v->val.text.len == strlen(want) &&
           memcmp(v->val.text.ptr, want, v->val.text.len) == 0;
}

static void counts_events_per_aggregate(void) {
    weir_test_reset();
    weir_test_table("aggregates", COLUMNS, PK);
    weir_test_event events[] = {
        {.event_type = "OrderPlaced", .data = "{\"orderId\":\"o1\"}", .aggregate_id = "o1",
         .timestamp_ms = 1774864800000},
        {.event_type = "OrderShipped", .data = "{\"orderId\":\"o1\"}", .aggregate_id = "o1",
         .timestamp_ms = 1774868400000},
        {.event_type = "OrderPlaced", .data = "{}"},
    };
    char **results = weir_test_run(events, 3);
    CHECK(results[0] == NULL);
    CHECK(results[1] == NULL);
    CHECK_STR(results[2], "event has no aggregateId");
    weir_test_results_free(results, 3);

    CHECK(weir_test_nrows("aggregates") == 1);
    const weir_value *count = weir_test_value("aggregates", "o1", "events");
    CHECK(count && count->tag == WEIR_INTEGER && count->val.integer == 2);
    CHECK(is_text(weir_test_value("aggregates", "o1", "last_event"), "OrderShipped"));
    CHECK(is_text(weir_test_value("aggregates", "o1", "updated_at"), "2026-03-30T11:00:00.000Z"));
}

int main(void) {
    RUN_TEST(counts_events_per_aggregate);
    return CHECK_SUMMARY();
}
