/*
 * Native tests of the bank-account C plugin against the SDK's fake host: the Rust twin's
 * tests (plugins/bank-account/src/lib.rs), plus the sample history's exact rows and
 * emitted bytes, and failure paths.
 */
#include <math.h>
#include <stdlib.h>

#include "weir.h"
#include "weir_check.h"
#include "weir_testing.h"

static const char *const COLUMNS[] = {"id", "owner", "balance", "transactions", "updated_at", NULL};
static const char *const PK[] = {"id", NULL};

static void host(void) {
    weir_test_reset();
    weir_test_table("accounts", COLUMNS, PK);
    weir_test_topic("account-notices");
}

static bool is_float(const weir_value *v, double want) { return v && v->tag == WEIR_FLOAT && v->val.float_ == want; }
static bool is_int(const weir_value *v, int64_t want) { return v && v->tag == WEIR_INTEGER && v->val.integer == want; }
static bool is_text(const weir_value *v, const char *want) {
    return v && v->tag == WEIR_TEXT && v->val.text.len == strlen(want) && memcmp(v->val.text.ptr, want, v->val.text.len) == 0;
}

static char **run(const weir_test_event *evs, size_t n) { return weir_test_run(evs, n); }

static void seed_history_gives_150(void) {
    host();
    weir_test_event evs[] = {
        {.event_type = "AccountOpened", .data = "{\"userId\":1,\"initialBalance\":100}"},
        {.event_type = "MoneyDeposited", .data = "{\"userId\":1,\"amount\":100}"},
        {.event_type = "MoneyWithdrawn", .data = "{\"userId\":1,\"amount\":50}"},
    };
    char **r = run(evs, 3);
    for (int i = 0; i < 3; i++) CHECK(r[i] == NULL);
    weir_test_results_free(r, 3);
    CHECK(is_float(weir_test_value("accounts", "1", "balance"), 150.0));
    CHECK(is_int(weir_test_value("accounts", "1", "transactions"), 2));
    const weir_value *owner = weir_test_value("accounts", "1", "owner");
    CHECK(owner && owner->tag == WEIR_NULL);
    CHECK(weir_test_nemitted() == 0);
}

static void overdraft_changes_nothing_and_emits_rejection(void) {
    host();
    weir_test_event open[] = {{.event_type = "AccountOpened", .data = "{\"accountId\":\"acc-1\",\"initialBalance\":20}"}};
    char **r = run(open, 1);
    CHECK(r[0] == NULL);
    weir_test_results_free(r, 1);
    weir_test_event take[] = {{.event_type = "MoneyWithdrawn", .data = "{\"accountId\":\"acc-1\",\"amount\":50}"}};
    r = run(take, 1);
    CHECK(r[0] == NULL);
    weir_test_results_free(r, 1);
    CHECK(is_float(weir_test_value("accounts", "acc-1", "balance"), 20.0));
    CHECK(is_int(weir_test_value("accounts", "acc-1", "transactions"), 0));
    CHECK(weir_test_nemitted() == 1);
    const weir_test_emitted *e = weir_test_emitted_at(0);
    CHECK_STR(e->topic, "account-notices");
    CHECK_STR(e->event_type, "WithdrawalRejected");
    CHECK_STR(e->key, "acc-1");
    /* Byte for byte what the Rust twin's json! serialises to. */
    CHECK_STR(e->data, "{\"accountId\":\"acc-1\",\"amount\":50.0,\"balance\":20.0,\"reason\":\"Insufficient funds\"}");
}

static void bad_movements_fail_alone(void) {
    host();
    weir_test_event evs[] = {
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"ghost\",\"amount\":5}"},
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"a\",\"initialBalance\":1}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":-3}"},
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"a\"}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":0.1}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":0.2}"},
    };
    char **r = run(evs, 6);
    CHECK_CONTAINS(r[0], "unknown account ghost");
    CHECK_CONTAINS(r[2], "must be positive");
    CHECK_CONTAINS(r[3], "already open");
    CHECK(r[1] == NULL && r[4] == NULL && r[5] == NULL);
    weir_test_results_free(r, 6);
    CHECK(is_float(weir_test_value("accounts", "a", "balance"), 1.3));
    CHECK(is_int(weir_test_value("accounts", "a", "transactions"), 2));
}

/* samples/account-events.jsonl, as the host hands it over (timestamps in ms). */
static void sample_history_rows_and_notice(void) {
    host();
    const int64_t t0 = 1774861200000LL; /* 2026-03-30T09:00:00Z */
    const int64_t min = 60000;
    weir_test_event evs[] = {
        {.event_type = "AccountOpened", .timestamp_ms = t0, .id = "acc-evt-1", .aggregate_id = "account-123",
         .data = "{\"accountId\":\"account-123\",\"owner\":\"Ada\",\"initialBalance\":100}"},
        {.event_type = "MoneyDeposited", .timestamp_ms = t0 + 10 * min, .id = "acc-evt-2",
         .data = "{\"accountId\":\"account-123\",\"amount\":100}"},
        {.event_type = "MoneyWithdrawn", .timestamp_ms = t0 + 20 * min, .id = "acc-evt-3",
         .data = "{\"accountId\":\"account-123\",\"amount\":50}"},
        {.event_type = "MoneyWithdrawn", .timestamp_ms = t0 + 30 * min, .id = "acc-evt-4",
         .data = "{\"accountId\":\"account-123\",\"amount\":500}"},
        {.event_type = "AccountOpened", .timestamp_ms = t0 + 40 * min, .id = "acc-evt-5",
         .data = "{\"accountId\":\"account-7\",\"owner\":\"Grace\",\"initialBalance\":0}"},
        {.event_type = "MoneyDeposited", .timestamp_ms = t0 + 50 * min, .id = "acc-evt-6",
         .data = "{\"accountId\":\"account-7\",\"amount\":12.5}"},
    };
    char **r = run(evs, 6);
    for (int i = 0; i < 6; i++) {
        if (r[i]) fprintf(stderr, "  event %d: %s\n", i, r[i]);
        CHECK(r[i] == NULL);
    }
    weir_test_results_free(r, 6);
    CHECK(weir_test_nrows("accounts") == 2);
    CHECK(is_text(weir_test_value("accounts", "account-123", "owner"), "Ada"));
    CHECK(is_float(weir_test_value("accounts", "account-123", "balance"), 150.0));
    CHECK(is_int(weir_test_value("accounts", "account-123", "transactions"), 2));
    CHECK(is_text(weir_test_value("accounts", "account-123", "updated_at"), "2026-03-30T09:20:00.000Z"));
    CHECK(is_text(weir_test_value("accounts", "account-7", "owner"), "Grace"));
    CHECK(is_float(weir_test_value("accounts", "account-7", "balance"), 12.5));
    CHECK(is_int(weir_test_value("accounts", "account-7", "transactions"), 1));
    CHECK(is_text(weir_test_value("accounts", "account-7", "updated_at"), "2026-03-30T09:50:00.000Z"));
    CHECK(weir_test_nemitted() == 1);
    CHECK_STR(weir_test_emitted_at(0)->data,
              "{\"accountId\":\"account-123\",\"amount\":500.0,\"balance\":150.0,\"reason\":\"Insufficient funds\"}");
    CHECK_STR(weir_test_emitted_at(0)->key, "account-123");
}

static void bad_data_fails_only_that_event(void) {
    host();
    weir_test_event evs[] = {
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"a\",\"initialBalance\":10,\"owner\":\"Al\"}"},
        {.event_type = "MoneyDeposited", .data = "{not json"},
        {.event_type = "MoneyDeposited", .data = "[\"a\", 5]"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\"}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":\"5\"}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":true,\"amount\":5}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"userId\":\"a\",\"amount\":5}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":1e999}"},
        {.event_type = "MoneyDeposited", .data = NULL},
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"b\",\"owner\":5}"},
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"b\",\"initialBalance\":null}"},
        {.event_type = "MoneyDeposited", .data = "{\"accountId\":\"a\",\"amount\":2.555}"},
        {.event_type = "SomethingElse", .data = "{not json either"},
    };
    size_t n = sizeof evs / sizeof evs[0];
    char **r = run(evs, n);
    CHECK(r[0] == NULL);
    CHECK_CONTAINS(r[1], "invalid JSON");
    CHECK_CONTAINS(r[2], "invalid type: an array");
    CHECK_CONTAINS(r[3], "missing field `amount`");
    CHECK_CONTAINS(r[4], "invalid type: a string");
    CHECK_CONTAINS(r[5], "accountId");
    CHECK_CONTAINS(r[6], "duplicate field");
    CHECK(r[7] != NULL);
    CHECK_CONTAINS(r[8], "invalid type: null");
    CHECK_CONTAINS(r[9], "owner");
    CHECK_CONTAINS(r[10], "initialBalance");
    CHECK(r[11] == NULL && r[12] == NULL);
    weir_test_results_free(r, n);
    CHECK(weir_test_row("accounts", "b") == NULL);
    /* 10 + 2.555 = 12.555, rounded to the cent as the Rust twin: round(1255.5) / 100. */
    CHECK(is_float(weir_test_value("accounts", "a", "balance"), round((10 + 2.555) * 100.0) / 100.0));
    CHECK(is_int(weir_test_value("accounts", "a", "transactions"), 1));
    CHECK(is_text(weir_test_value("accounts", "a", "owner"), "Al"));
}

static void escaped_and_numeric_ids(void) {
    host();
    weir_test_event evs[] = {
        {.event_type = "AccountOpened", .data = "{\"accountId\":\"q\\\"\\u00e9\\n\",\"initialBalance\":1}"},
        {.event_type = "MoneyWithdrawn", .data = "{\"accountId\":\"q\\\"\\u00e9\\n\",\"amount\":2}"},
        {.event_type = "AccountOpened", .data = "{\"userId\":-0,\"initialBalance\":0.1}"},
        {.event_type = "AccountOpened", .data = "{\"userId\":2.50}"},
        {.event_type = "MoneyWithdrawn", .data = "{\"userId\":2.5,\"amount\":0.30000000000000004}"},
    };
    char **r = run(evs, 5);
    for (int i = 0; i < 5; i++) {
        if (r[i]) fprintf(stderr, "  event %d: %s\n", i, r[i]);
        CHECK(r[i] == NULL);
    }
    weir_test_results_free(r, 5);
    CHECK(weir_test_row("accounts", "q\"\xc3\xa9\n") != NULL);
    CHECK(is_float(weir_test_value("accounts", "-0.0", "balance"), 0.1));
    CHECK(weir_test_row("accounts", "2.5") != NULL);
    CHECK(weir_test_nemitted() == 2);
    CHECK_STR(weir_test_emitted_at(0)->data,
              "{\"accountId\":\"q\\\"\xc3\xa9\\n\",\"amount\":2.0,\"balance\":1.0,\"reason\":\"Insufficient funds\"}");
    CHECK_STR(weir_test_emitted_at(1)->data,
              "{\"accountId\":\"2.5\",\"amount\":0.30000000000000004,\"balance\":0.0,\"reason\":\"Insufficient funds\"}");
}

static void undeclared_table_is_an_error_not_a_trap(void) {
    weir_test_reset();
    weir_test_topic("account-notices");
    weir_test_event evs[] = {{.event_type = "AccountOpened", .data = "{\"accountId\":\"a\"}"}};
    char **r = run(evs, 1);
    CHECK_CONTAINS(r[0], "table `accounts` is not declared");
    weir_test_results_free(r, 1);
}

int main(void) {
    RUN_TEST(seed_history_gives_150);
    RUN_TEST(overdraft_changes_nothing_and_emits_rejection);
    RUN_TEST(bad_movements_fail_alone);
    RUN_TEST(sample_history_rows_and_notice);
    RUN_TEST(bad_data_fails_only_that_event);
    RUN_TEST(escaped_and_numeric_ids);
    RUN_TEST(undeclared_table_is_an_error_not_a_trap);
    weir_test_reset();
    return CHECK_SUMMARY();
}
