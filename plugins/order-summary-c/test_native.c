/*
 * Native tests of the order-summary C plugin against the SDK's fake host: the Rust twin's
 * tests (plugins/order-summary/src/lib.rs), plus the serde rules the twin inherits
 * (aliases, null and missing fields, duplicates, escapes, the sequence form), serde_json's
 * error texts and positions, and the sample history's exact rows. equivalence.sh checks
 * the same against the Rust twin itself, through weir.
 *   plugins/order-summary-c/test.sh
 */
#include <stdlib.h>
#include <string.h>

#include "weir.h"
#include "weir_check.h"
#include "weir_testing.h"

static const char *const COLUMNS[] = {"id", "user_id", "status", "total", "item_count", "created_at", "shipped_at", NULL};
static const char *const PK[] = {"id", NULL};

static void host(void) {
    weir_test_reset();
    weir_test_table("order_summaries", COLUMNS, PK);
}

static const weir_value *col(const char *key, const char *column) {
    return weir_test_value("order_summaries", key, column);
}
static bool is_null(const weir_value *v) { return v && v->tag == WEIR_NULL; }
static bool is_float(const weir_value *v, double want) { return v && v->tag == WEIR_FLOAT && v->val.float_ == want; }
static bool is_int(const weir_value *v, int64_t want) { return v && v->tag == WEIR_INTEGER && v->val.integer == want; }
static bool is_textn(const weir_value *v, const char *want, size_t n) {
    return v && v->tag == WEIR_TEXT && v->val.text.len == n && memcmp(v->val.text.ptr, want, n) == 0;
}
static bool is_text(const weir_value *v, const char *want) { return is_textn(v, want, strlen(want)); }

/* Runs one event; returns its failure message (malloc'd) or NULL. */
static char *run1(const char *type, const char *data) {
    weir_test_event ev = {.event_type = type, .data = data};
    char **r = weir_test_run(&ev, 1);
    char *msg = r[0];
    r[0] = NULL;
    weir_test_results_free(r, 1);
    return msg;
}

static weir_test_event placed(const char *data) {
    weir_test_event e = {.event_type = "OrderPlaced", .data = data, .timestamp_ms = 1774864800000};
    return e;
}

static const char PLACED_123[] =
    "{\"orderId\":\"ord-123\",\"userId\":\"user-456\",\"items\":[{\"productId\":\"prod-789\",\"quantity\":2,"
    "\"price\":29.99}],\"total\":59.98}";

static void placed_then_shipped_in_one_batch(void) {
    host();
    weir_test_event evs[] = {
        placed(PLACED_123),
        {.event_type = "OrderShipped", .data = "{\"orderId\":\"ord-123\"}", .timestamp_ms = 1774868400000},
    };
    char **r = weir_test_run(evs, 2);
    CHECK(r[0] == NULL && r[1] == NULL);
    weir_test_results_free(r, 2);
    CHECK(is_text(col("ord-123", "status"), "shipped"));
    CHECK(is_float(col("ord-123", "total"), 59.98));
    CHECK(is_int(col("ord-123", "item_count"), 1));
    CHECK(is_text(col("ord-123", "user_id"), "user-456"));
    CHECK(is_text(col("ord-123", "created_at"), "2026-03-30T10:00:00.000Z"));
    CHECK(is_text(col("ord-123", "shipped_at"), "2026-03-30T11:00:00.000Z"));
}

static void order_created_shape_is_accepted(void) {
    host();
    char *err = run1("OrderCreated", "{\"orderId\":\"ORD-12345\",\"userId\":\"USR-123\",\"totalAmount\":99.99,\"items\":[]}");
    CHECK(err == NULL);
    free(err);
    CHECK(is_float(col("ORD-12345", "total"), 99.99));
    CHECK(is_int(col("ORD-12345", "item_count"), 0));
    CHECK(is_text(col("ORD-12345", "status"), "pending"));
    CHECK(is_null(col("ORD-12345", "shipped_at")));
}

static void shipping_an_unknown_order_fails_alone(void) {
    host();
    weir_test_event evs[] = {{.event_type = "OrderShipped", .data = "{\"orderId\":\"nope\"}"}, placed(PLACED_123)};
    char **r = weir_test_run(evs, 2);
    CHECK_STR(r[0], "OrderShipped for unknown order nope");
    CHECK(r[1] == NULL);
    weir_test_results_free(r, 2);
    CHECK(weir_test_nrows("order_summaries") == 1);
}

static void bad_data_is_an_error_not_a_panic(void) {
    host();
    char *err = run1("OrderPlaced", "{\"orderId\":5}");
    CHECK_STR(err, "invalid event data: invalid type: integer `5`, expected a string at line 1 column 12");
    free(err);
    CHECK(weir_test_nrows("order_summaries") == 0);
}

static void optional_and_defaulted_fields(void) {
    host();
    /* userId null or missing: NULL; items missing: 0; an integer total is a float. */
    char *e1 = run1("OrderPlaced", "{\"orderId\":\"a\",\"userId\":null,\"total\":5}");
    char *e2 = run1("OrderPlaced", "{\"total\":1.5,\"orderId\":\"b\",\"extra\":{\"orderId\":1}}");
    CHECK(e1 == NULL && e2 == NULL);
    free(e1);
    free(e2);
    CHECK(is_null(col("a", "user_id")));
    CHECK(is_float(col("a", "total"), 5.0));
    CHECK(is_int(col("a", "item_count"), 0));
    CHECK(is_null(col("b", "user_id")));
    CHECK(is_float(col("b", "total"), 1.5));
}

static void serde_rules_refuse_what_the_twin_refuses(void) {
    static const struct {
        const char *type, *data, *error;
    } cases[] = {
        {"OrderPlaced", "{\"orderId\":\"a\"}", "invalid event data: missing field `total` at line 1 column 15"},
        {"OrderPlaced", "{\"total\":1}", "invalid event data: missing field `orderId` at line 1 column 11"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":1,\"totalAmount\":2}", "invalid event data: duplicate field `total` at line 1 column 38"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"orderId\":\"b\",\"total\":1}", "invalid event data: duplicate field `orderId` at line 1 column 24"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":\"1\"}", "invalid event data: invalid type: string \"1\", expected f64 at line 1 column 26"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":1e400}", "invalid event data: number out of range at line 1 column 28"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":1,\"items\":null}", "invalid event data: invalid type: null, expected a sequence at line 1 column 37"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":1,\"userId\":7.5}", "invalid event data: invalid type: floating point `7.5`, expected a string at line 1 column 37"},
        {"OrderPlaced", "\"x\"", "invalid event data: invalid type: string \"x\", expected struct OrderPlaced at line 1 column 3"},
        {"OrderPlaced", NULL, "invalid event data: invalid type: null, expected struct OrderPlaced at line 1 column 4"},
        {"OrderPlaced", "[\"a\",null,[]]", "invalid event data: invalid length 3, expected struct OrderPlaced with 4 elements at line 1 column 13"},
        {"OrderPlaced", "[\"a\",null,[],1,2]", "invalid event data: trailing characters at line 1 column 16"},
        {"OrderShipped", "{}", "invalid event data: missing field `orderId` at line 1 column 2"},
        {"OrderShipped", "[]", "invalid event data: invalid length 0, expected struct OrderShipped with 1 element at line 1 column 2"},
        {"OrderPlaced", "{\"orderId\":\"a\",\"total\":\"\\u00e9\\n\"}",
         "invalid event data: invalid type: string \"é\\n\", expected f64 at line 1 column 33"},
        {"OrderPlaced", "{\"orderId\":\"a\",\n\"total\":true}",
         "invalid event data: invalid type: boolean `true`, expected f64 at line 2 column 12"},
        {"OrderShipped", "{\"orderId\":true}", "invalid event data: invalid type: boolean `true`, expected a string at line 1 column 15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        host();
        char *err = run1(cases[i].type, cases[i].data);
        CHECK_STR(err, cases[i].error);
        free(err);
        CHECK(weir_test_nrows("order_summaries") == 0);
    }
    host();
    char *err = run1("OrderPlaced", "{\"orderId\":\"a\",\"total\":1,\"items\":[1,}");
    CHECK_CONTAINS(err, "invalid event data: invalid JSON");
    free(err);
}

static void escapes_sequences_and_other_types(void) {
    host();
    /* Escaped member names match; escaped strings are unescaped (a NUL included). */
    char *e1 = run1("OrderPlaced", "{\"order\\u0049d\":\"x\\\"\\u0000y\",\"userId\":\"caf\\u00e9\",\"total\":2}");
    /* serde's sequence form: the fields in declaration order. */
    char *e2 = run1("OrderPlaced", "[\"seq\",\"u\",[1,[2],{\"a\":3}],4.25]");
    char *e3 = run1("OrderShipped", "[\"seq\"]");
    /* Types the pipeline would not route are ignored. */
    char *e4 = run1("OrderCancelled", "not even json");
    CHECK(e1 == NULL && e2 == NULL && e3 == NULL && e4 == NULL);
    free(e1);
    free(e2);
    free(e3);
    free(e4);
    /* "x\"\0y" (which weir_test_row cannot name) and "seq". */
    CHECK(weir_test_nrows("order_summaries") == 2);
    CHECK(is_text(col("seq", "user_id"), "u"));
    CHECK(is_int(col("seq", "item_count"), 3));
    CHECK(is_float(col("seq", "total"), 4.25));
    CHECK(is_text(col("seq", "status"), "shipped"));
}

static void placing_again_resets_the_row(void) {
    host();
    weir_test_event evs[] = {
        placed(PLACED_123),
        {.event_type = "OrderShipped", .data = "{\"orderId\":\"ord-123\"}", .timestamp_ms = 1774868400000},
        placed("{\"orderId\":\"ord-123\",\"total\":1}"),
    };
    char **r = weir_test_run(evs, 3);
    CHECK(r[0] == NULL && r[1] == NULL && r[2] == NULL);
    weir_test_results_free(r, 3);
    CHECK(is_text(col("ord-123", "status"), "pending"));
    CHECK(is_null(col("ord-123", "shipped_at")));
    CHECK(is_null(col("ord-123", "user_id")));
}

/* samples/order-events.jsonl: the rows of pipelines/order-summary.tests/seed/rows.golden. */
static void sample_history_rows(void) {
    host();
    weir_test_event evs[] = {
        {.event_type = "OrderPlaced", .timestamp_ms = 1774864800000, .data = PLACED_123},
        {.event_type = "OrderPlaced", .timestamp_ms = 1774865100000,
         .data = "{\"orderId\":\"ord-124\",\"userId\":\"user-457\",\"items\":[{\"productId\":\"prod-790\",\"quantity\":1,"
                 "\"price\":15.5},{\"productId\":\"prod-791\",\"quantity\":3,\"price\":4.0}],\"total\":27.5}"},
        {.event_type = "OrderCreated", .timestamp_ms = 1767609000000,
         .data = "{\"orderId\":\"ORD-12345\",\"userId\":\"USR-123\",\"items\":[{\"productId\":\"PROD-456\",\"quantity\":2,"
                 "\"price\":49.99}],\"totalAmount\":99.99,\"status\":\"PENDING\"}"},
        {.event_type = "OrderShipped", .timestamp_ms = 1774872000000,
         .data = "{\"orderId\":\"ord-123\",\"carrier\":\"DHL\"}"},
    };
    char **r = weir_test_run(evs, 4);
    for (int i = 0; i < 4; i++) CHECK(r[i] == NULL);
    weir_test_results_free(r, 4);
    CHECK(weir_test_nrows("order_summaries") == 3);
    CHECK(is_text(col("ORD-12345", "created_at"), "2026-01-05T10:30:00.000Z"));
    CHECK(is_int(col("ORD-12345", "item_count"), 1));
    CHECK(is_text(col("ord-123", "shipped_at"), "2026-03-30T12:00:00.000Z"));
    CHECK(is_float(col("ord-124", "total"), 27.5));
    CHECK(is_int(col("ord-124", "item_count"), 2));
    CHECK(is_text(col("ord-124", "user_id"), "user-457"));
    CHECK(is_null(col("ord-124", "shipped_at")));
}

int main(void) {
    RUN_TEST(placed_then_shipped_in_one_batch);
    RUN_TEST(order_created_shape_is_accepted);
    RUN_TEST(shipping_an_unknown_order_fails_alone);
    RUN_TEST(bad_data_is_an_error_not_a_panic);
    RUN_TEST(optional_and_defaulted_fields);
    RUN_TEST(serde_rules_refuse_what_the_twin_refuses);
    RUN_TEST(escapes_sequences_and_other_types);
    RUN_TEST(placing_again_resets_the_row);
    RUN_TEST(sample_history_rows);
    return CHECK_SUMMARY();
}
