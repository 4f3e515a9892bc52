/* Native tests of the C SDK itself: JSON reader and writer, float formatting, timestamps,
 * the batch index and names -> positions. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weir.h"
#include "weir_check.h"
#include "weir_testing.h"

/* Expected texts are serde_json 1.0.154's (the workspace's): checked against 20,000
 * doubles when the SDK was written. */
static void fmt_f64_matches_serde_json(void) {
    struct { double v; const char *want; } cases[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {0.3, "0.3"}, {0.1 + 0.2, "0.30000000000000004"},
        {150.0, "150.0"}, {12.5, "12.5"}, {-3.0, "-3.0"}, {1e15, "1000000000000000.0"},
        {1e16, "1e+16"}, {1.5e16, "1.5e+16"}, {1234567890123456.0, "1234567890123456.0"},
        {1e21, "1e+21"}, {0.0001, "0.0001"}, {0.00001, "0.00001"}, {0.000001, "1e-6"}, {1.5e-7, "1.5e-7"},
        {123456.789, "123456.789"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-1.5e300, "-1.5e+300"}, {3e-13, "3e-13"}, {804995.74, "804995.74"}, {1.2345678901234568e17, "1.2345678901234568e+17"}, {100.0, "100.0"}, {1.3, "1.3"}, {2.0 / 3.0, "0.6666666666666666"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        weir_fmt_f64(cases[i].v, buf);
        CHECK_STR(buf, cases[i].want);
    }
    char buf[32];
    weir_fmt_f64(NAN, buf);
    CHECK_STR(buf, "null");
}

static void rfc3339_matches_rust_sdk(void) {
    char buf[WEIR_RFC3339_LEN];
    CHECK_STR(weir_rfc3339_from_ms(0, buf), "1970-01-01T00:00:00.000Z");
    CHECK_STR(weir_rfc3339_from_ms(1774864800123LL, buf), "2026-03-30T10:00:00.123Z");
    CHECK_STR(weir_rfc3339_from_ms(951782400000LL, buf), "2000-02-29T00:00:00.000Z");
    CHECK_STR(weir_rfc3339_from_ms(-1, buf), "1969-12-31T23:59:59.999Z");
    CHECK_STR(weir_rfc3339_from_ms(1774861200000LL, buf), "2026-03-30T09:00:00.000Z");
    /* Years 0..9999 are formatted by hand, the others by snprintf (as Rust's {:04}). */
    CHECK_STR(weir_rfc3339_from_ms(-62167219200000LL, buf), "0000-01-01T00:00:00.000Z");
    CHECK_STR(weir_rfc3339_from_ms(-62167219200001LL, buf), "-001-12-31T23:59:59.999Z");
    CHECK_STR(weir_rfc3339_from_ms(253402300799999LL, buf), "9999-12-31T23:59:59.999Z");
    CHECK_STR(weir_rfc3339_from_ms(253402300800000LL, buf), "10000-01-01T00:00:00.000Z");
    /* A sweep against the C library's calendar (years 1..9999). */
    uint64_t x = 88172645463325252ULL;
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 3; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t ms = -62135596800000LL + (int64_t)(x % 315537897600000ULL);
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
        if (strcmp(weir_rfc3339_from_ms(ms, buf), want) != 0) {
            CHECK_STR(buf, want);
            bad++;
        }
    }
}

static void json_parse_validates(void) {
    const char *good[] = {"{}", " {\"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"]} ", "0", "\"\"", "[]"};
    const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "{\"a\" 1}",
                         "nul", "1 2", "\"a\nb\"", "{1:2}", "\"\xff\""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        weir_json j;
        weir_error *e = weir_json_parse(weir_cstr(good[i]), &j);
        if (e) fprintf(stderr, "  good[%zu]: %s\n", i, e->message);
        CHECK(e == NULL);
        weir_error_free(e);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        weir_json j;
        weir_error *e = weir_json_parse(weir_cstr(bad[i]), &j);
        if (!e) fprintf(stderr, "  bad[%zu] parsed: %s\n", i, bad[i]);
        CHECK(e != NULL);
        weir_error_free(e);
    }
    /* Nesting limit: 128 levels are fine, 129 are not. */
    char deep[300];
    for (int n = 128; n <= 129; n++) {
        int k = 0;
        for (int i = 0; i < n; i++) deep[k++] = '[';
        for (int i = 0; i < n; i++) deep[k++] = ']';
        deep[k] = 0;
        weir_json j;
        weir_error *e = weir_json_parse(weir_cstr(deep), &j);
        CHECK((e == NULL) == (n == 128));
        weir_error_free(e);
    }
}

static void json_reads_fields(void) {
    weir_json root, v;
    weir_error *e = weir_json_parse(weir_cstr("{\"n\": 12.5, \"i\": -7, \"s\": \"a\\\"b\\u00e9\", \"o\": {\"n\": 1}, "
                                              "\"a\\u0062c\": true, \"big\": 18446744073709551616, \"z\": -0, \"d\":1,\"d\":2}"),
                                    &root);
    CHECK(e == NULL);
    double d;
    int64_t i;
    char *s = NULL;
    size_t len = 0;
    bool b;
    CHECK(weir_json_get(root, "n", &v) == 1 && weir_json_as_f64(v, &d) && d == 12.5);
    CHECK(weir_json_get(root, "i", &v) == 1 && weir_json_as_i64(v, &i) && i == -7);
    CHECK(weir_json_get(root, "s", &v) == 1 && weir_json_as_string(v, &s, &len));
    CHECK_STR(s, "a\"b\xc3\xa9");
    CHECK(len == 5);
    free(s);
    CHECK(weir_json_get(root, "abc", &v) == 1 && weir_json_as_bool(v, &b) && b);
    CHECK(weir_json_get(root, "missing", &v) == 0);
    CHECK(weir_json_get(root, "d", &v) == 2);
    CHECK(weir_json_get(root, "o", &v) == 1 && weir_json_kind_of(v) == WEIR_JSON_OBJECT_KIND);
    weir_json inner;
    CHECK(weir_json_get(v, "n", &inner) == 1);
    char buf[32];
    CHECK(weir_json_get(root, "big", &v) == 1 && weir_json_number_text(v, buf, sizeof buf));
    CHECK_STR(buf, "1.8446744073709552e+19");
    CHECK(!weir_json_as_i64(v, &i));
    CHECK(weir_json_get(root, "z", &v) == 1 && weir_json_number_text(v, buf, sizeof buf));
    CHECK_STR(buf, "-0.0");
    CHECK(weir_json_get(root, "i", &v) == 1 && weir_json_number_text(v, buf, sizeof buf));
    CHECK_STR(buf, "-7");

    char *id;
    weir_json obj;
    weir_json_parse(weir_cstr("{\"userId\": 1e2}"), &obj);
    CHECK(weir_json_field_id(obj, "accountId", "userId", &id) == NULL);
    CHECK_STR(id, "100.0");
    free(id);
    weir_json_parse(weir_cstr("{\"accountId\": \"x\", \"userId\": 1}"), &obj);
    e = weir_json_field_id(obj, "accountId", "userId", &id);
    CHECK(e != NULL);
    if (e) CHECK_CONTAINS(e->message, "duplicate field");
    weir_error_free(e);
    weir_json_parse(weir_cstr("{\"accountId\": null}"), &obj);
    e = weir_json_field_id(obj, "accountId", "userId", &id);
    CHECK(e != NULL);
    weir_error_free(e);
    weir_json_parse(weir_cstr("{\"amount\": \"5\"}"), &obj);
    e = weir_json_field_f64(obj, "amount", &d);
    CHECK(e != NULL);
    if (e) CHECK_CONTAINS(e->message, "invalid type: a string");
    weir_error_free(e);
    e = weir_json_field_f64(obj, "other", &d);
    CHECK(e != NULL);
    if (e) CHECK_STR(e->message, "missing field `other`");
    weir_error_free(e);
    e = weir_json_field_f64_or(obj, "other", 4.0, &d);
    CHECK(e == NULL && d == 4.0);
    weir_json_parse(weir_cstr("{\"accountId\": \"a\\u0000b\"}"), &obj);
    e = weir_json_field_id(obj, "accountId", NULL, &id);
    CHECK(e != NULL && id == NULL);
    if (e) CHECK_CONTAINS(e->message, "NUL");
    weir_error_free(e);
    weir_json_parse(weir_cstr("{\"owner\": null}"), &obj);
    CHECK(weir_json_field_opt_string(obj, "owner", &s) == NULL && s == NULL);

    /* Iteration. */
    weir_json arr, el;
    weir_json_parse(weir_cstr("[ 1 , [2, 3], {\"a\": [4]}, \"]\" ]"), &arr);
    weir_json_iter it;
    weir_json_iter_init(&it, arr);
    int count = 0;
    while (weir_json_next_element(&it, &el)) count++;
    CHECK(count == 4);
    weir_json_iter_init(&it, weir_cstr("[]"));
    CHECK(!weir_json_next_element(&it, &el));
}

/* Expected bits are serde_json 1.0.154's (default features), checked against 3,000
 * literals when the SDK was written; strtod differs on the first. */
static void json_numbers_parse_as_serde_json(void) {
    struct { const char *text; uint64_t bits; } cases[] = {
        {"9007199254740993.0", 0x4340000000000001ULL}, {"0.1", 0x3fb999999999999aULL},
        {"123.45", 0x405edccccccccccdULL}, {"1844674407370955161.9", 0x43b999999999999aULL},
        {"18446744073709551616", 0x43f0000000000000ULL}, {"1e-400", 0}, {"-1e-400", 0x8000000000000000ULL},
        {"1.00000000000000011102230246251565404236316680908203125", 0x3ff0000000000001ULL},
        {"4.9e-324", 1}, {"1e-999999999999", 0}, {"100e-2", 0x3ff0000000000000ULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        weir_json j;
        double d = -1;
        CHECK(weir_json_parse(weir_cstr(cases[i].text), &j) == NULL);
        CHECK(weir_json_as_f64(j, &d));
        uint64_t bits;
        memcpy(&bits, &d, 8);
        if (bits != cases[i].bits) fprintf(stderr, "  %s: %016llx\n", cases[i].text, (unsigned long long)bits);
        CHECK(bits == cases[i].bits);
    }
    const char *out_of_range[] = {"1e400", "-1e309", "1e999999999999"};
    for (size_t i = 0; i < 3; i++) {
        weir_json j;
        double d;
        CHECK(weir_json_parse(weir_cstr(out_of_range[i]), &j) == NULL);
        CHECK(!weir_json_as_f64(j, &d));
    }
}

static void json_writer_matches_serde_json(void) {
    weir_json_writer w;
    weir_jw_init(&w);
    weir_jw_object_begin(&w);
    weir_jw_key(&w, "s");
    weir_jw_string(&w, "q\"\\/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
    weir_jw_key(&w, "f");
    weir_jw_f64(&w, 20.0);
    weir_jw_key(&w, "i");
    weir_jw_i64(&w, -5);
    weir_jw_key(&w, "a");
    weir_jw_array_begin(&w);
    weir_jw_bool(&w, true);
    weir_jw_null(&w);
    weir_jw_object_begin(&w);
    weir_jw_object_end(&w);
    weir_jw_array_begin(&w);
    weir_jw_array_end(&w);
    weir_jw_raw(&w, "{\"x\":1}", 7);
    weir_jw_array_end(&w);
    weir_jw_key(&w, "n");
    weir_jw_f64(&w, INFINITY);
    weir_jw_object_end(&w);
    CHECK_STR(w.buf, "{\"s\":\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\",\"f\":20.0,\"i\":-5,"
                     "\"a\":[true,null,{},[],{\"x\":1}],\"n\":null}");
    weir_jw_free(&w);
}

/* A plugin of the tests' own (weir_handle below) exercising the context by names. */
static const char *const COLS[] = {"id", "n", "note", NULL};
static const char *const PK[] = {"id", NULL};
static const char *const KV_COLS[] = {"a", "b", "v", NULL};
static const char *const KV_PK[] = {"b", "a", NULL};

weir_error *weir_handle(const weir_event *event, weir_ctx *ctx) {
    weir_json data;
    WEIR_TRY(weir_json_parse(event->data, &data));
    if (weir_event_is(event, "Count")) {
        weir_row *row;
        char *id;
        WEIR_TRY(weir_json_field_id(data, "id", NULL, &id));
        weir_error *e = weir_get_text(ctx, "things", id, &row);
        if (e) {
            free(id);
            return e;
        }
        int64_t n = 0;
        if (row) weir_row_i64(row, "n", &n);
        else {
            row = weir_row_new("things");
            weir_row_set_text(row, "id", id);
        }
        weir_row_set_i64(row, "n", n + 1);
        weir_row_set_textn(row, "note", event->id.ptr, event->id.len);
        e = weir_upsert(ctx, row);
        weir_row_free(row);
        free(id);
        if (!e && n + 1 == 3) e = weir_error_new("three is too many");
        return e;
    }
    if (weir_event_is(event, "Bad")) {
        weir_row *row = weir_row_new("things");
        weir_row_set_text(row, "id", "x");
        weir_row_set_i64(row, "nope", 1);
        weir_error *e = weir_upsert(ctx, row);
        weir_row_free(row);
        return e;
    }
    if (weir_event_is(event, "NoTable")) {
        weir_row *row = weir_row_new("nothing");
        weir_row_set_i64(row, "n", 1);
        weir_error *e = weir_upsert(ctx, row);
        weir_row_free(row);
        return e;
    }
    if (weir_event_is(event, "NoTopic")) return weir_emit(ctx, "elsewhere", NULL, "X", "{}", 2);
    if (weir_event_is(event, "Emit")) {
        if (event->key.ptr) weir_log(ctx, WEIR_LOG_INFO, "emitting for %.*s", (int)event->key.len, event->key.ptr);
        else weir_log(ctx, WEIR_LOG_INFO, "emitting without a key");
        WEIR_TRY(weir_emitn(ctx, "out", event->key, "Echo", event->data.ptr, event->data.len));
        return NULL;
    }
    if (weir_event_is(event, "Delete")) {
        weir_value key = weir_textn(event->key.ptr, event->key.len);
        return weir_delete(ctx, "things", &key, 1);
    }
    if (weir_event_is(event, "Kv")) {
        /* A two-column key given in primary-key order (b, a). */
        weir_value key[2] = {weir_text("B"), weir_int(1)};
        weir_row *row;
        WEIR_TRY(weir_get(ctx, "kv", key, 2, &row));
        double v = 0;
        if (row) weir_row_f64(row, "v", &v);
        else {
            row = weir_row_new("kv");
            weir_row_set_i64(row, "a", 1);
            weir_row_set_text(row, "b", "B");
        }
        weir_row_set_f64(row, "v", v + 0.5);
        weir_error *e = weir_upsert(ctx, row);
        weir_row_free(row);
        return e;
    }
    if (weir_event_is(event, "Meta")) {
        weir_record_meta m;
        weir_record_info(ctx, &m);
        weir_error *e = m.offset == event->origin ? NULL : weir_error_new("bad origin");
        weir_record_meta_free(&m);
        if (!e && (!weir_str_eq(event->aggregate_id, "agg") || event->correlation_id.ptr != NULL ||
                   event->timestamp_ms != -5 || event->version != 3))
            e = weir_error_new("envelope fields wrong");
        return e;
    }
    return NULL;
}

static void setup(void) {
    weir_test_reset();
    weir_test_table("things", COLS, PK);
    weir_test_table("kv", KV_COLS, KV_PK);
    weir_test_topic("out");
}

static void batch_reads_own_writes_and_drops_failed(void) {
    setup();
    weir_test_event evs[] = {
        {.event_type = "Count", .data = "{\"id\": \"a\"}", .id = "e1"},
        {.event_type = "Count", .data = "{\"id\": \"a\"}", .id = "e2"},
        {.event_type = "Count", .data = "{\"id\": \"a\"}", .id = "e3"}, /* fails: dropped */
        {.event_type = "Count", .data = "{\"id\": 7}", .id = "e4"},
        {.event_type = "Count", .data = "not json"},
        {.event_type = "Unknown"},
    };
    char **r = weir_test_run(evs, 6);
    CHECK(r[0] == NULL && r[1] == NULL && r[3] == NULL && r[5] == NULL);
    CHECK_STR(r[2], "three is too many");
    CHECK_CONTAINS(r[4], "invalid JSON");
    weir_test_results_free(r, 6);
    const weir_value *n = weir_test_value("things", "a", "n");
    CHECK(n && n->tag == WEIR_INTEGER && n->val.integer == 2);
    const weir_value *note = weir_test_value("things", "a", "note");
    CHECK(note && note->tag == WEIR_TEXT && note->val.text.len == 2 && memcmp(note->val.text.ptr, "e2", 2) == 0);
    CHECK(weir_test_row("things", "7") != NULL);
    CHECK(weir_test_nrows("things") == 2);
    /* A second batch of the same instance: the schema is not asked again. */
    weir_test_event more[] = {{.event_type = "Count", .data = "{\"id\": \"a\"}"}};
    r = weir_test_run(more, 1);
    CHECK(r[0] != NULL); /* the third count fails again */
    weir_test_results_free(r, 1);
    CHECK(weir_test_schema_loads() == 1);
}

static void names_are_checked(void) {
    setup();
    weir_test_event evs[] = {
        {.event_type = "Bad", .data = "{}"},
        {.event_type = "NoTable", .data = "{}"},
        {.event_type = "NoTopic", .data = "{}"},
    };
    char **r = weir_test_run(evs, 3);
    CHECK_STR(r[0], "table `things` has no column `nope` (declared: id, n, note)");
    CHECK_STR(r[1], "table `nothing` is not declared in the pipeline (declared: things, kv)");
    CHECK_STR(r[2], "topic `elsewhere` is not in the pipeline's [sink.topics] allowed list (out)");
    weir_test_results_free(r, 3);
    CHECK(weir_test_nrows("things") == 0);
}

static void emit_delete_keys_and_meta(void) {
    setup();
    weir_test_event evs[] = {
        {.event_type = "Count", .data = "{\"id\": \"k\"}"},
        {.event_type = "Emit", .data = "{\"x\": [1, 2]}", .key = "k"},
        {.event_type = "Emit", .data = "{\"y\": 1}"},
        {.event_type = "Delete", .data = "{}", .key = "k"},
        {.event_type = "Kv", .data = "{}"},
        {.event_type = "Kv", .data = "{}"},
        {.event_type = "Meta", .data = "{}", .aggregate_id = "agg", .timestamp_ms = -5, .version = 3},
    };
    char **r = weir_test_run(evs, 7);
    for (int i = 0; i < 7; i++) {
        if (r[i]) fprintf(stderr, "  event %d: %s\n", i, r[i]);
        CHECK(r[i] == NULL);
    }
    weir_test_results_free(r, 7);
    CHECK(weir_test_row("things", "k") == NULL);
    CHECK(weir_test_nemitted() == 2);
    const weir_test_emitted *e = weir_test_emitted_at(0);
    CHECK_STR(e->topic, "out");
    CHECK_STR(e->key, "k");
    CHECK_STR(e->event_type, "Echo");
    CHECK_STR(e->data, "{\"x\": [1, 2]}");
    CHECK(weir_test_emitted_at(1)->key == NULL);
    CHECK(weir_test_nlogs() == 2);
    CHECK_STR(weir_test_log_at(0, NULL), "emitting for k");
}

int main(void) {
    RUN_TEST(fmt_f64_matches_serde_json);
    RUN_TEST(rfc3339_matches_rust_sdk);
    RUN_TEST(json_parse_validates);
    RUN_TEST(json_reads_fields);
    RUN_TEST(json_numbers_parse_as_serde_json);
    RUN_TEST(json_writer_matches_serde_json);
    RUN_TEST(batch_reads_own_writes_and_drops_failed);
    RUN_TEST(names_are_checked);
    RUN_TEST(emit_delete_keys_and_meta);
    weir_test_reset();
    return CHECK_SUMMARY();
}
