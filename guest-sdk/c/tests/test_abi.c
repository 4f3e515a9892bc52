/*
 * Native test of the SDK's Wasm glue (src/weir_wasm.c) over the real wit-bindgen bindings
 * (projection.c): this file plays the host at the canonical-ABI level, as wasmtime would,
 * allocating what it hands to the guest with cabi_realloc and calling the post-return
 * function, so that AddressSanitizer's leak check proves the ownership rules (the export
 * frees its arguments, every result string is its own malloc, import results are freed).
 *
 * Built by guest-sdk/c/test.sh with the generated bindings (needs wit-bindgen).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "weir.h"
#include "weir_check.h"

void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size);
uint8_t *__wasm_export_exports_projection_handle(uint8_t *, size_t, uint8_t *, size_t, uint8_t *, size_t);
void __wasm_export_exports_projection_handle_post_return(uint8_t *);
/* Defined by the bindings' component-type object, which is Wasm only. */
void __component_type_object_force_link_projection(void) {}

/* --- the guest: a plugin using every import ---------------------------------------- */

weir_error *weir_handle(const weir_event *event, weir_ctx *ctx) {
    weir_json data;
    WEIR_TRY(weir_json_parse(event->data, &data));
    if (weir_event_is(event, "Put")) {
        char *id, *note;
        WEIR_TRY(weir_json_field_id(data, "id", NULL, &id));
        weir_error *e = weir_json_field_opt_string(data, "note", &note);
        if (e) {
            free(id);
            return e;
        }
        weir_row *row;
        e = weir_get_text(ctx, "things", id, &row);
        if (!e) {
            int64_t n = 0;
            weir_str old;
            if (row) {
                weir_row_i64(row, "n", &n);
                /* The host's strings are taken as they are; an empty one is a real "". */
                if (weir_row_text(row, "note", &old) && old.len == 0 && !old.ptr) e = weir_error_new("empty note lost");
            } else {
                row = weir_row_new("things");
                weir_row_set_text(row, "id", id);
            }
            weir_row_set_i64(row, "n", n + 1);
            weir_row_set_text(row, "note", note);
            weir_row_set_json(row, "doc", event->data.ptr, event->data.len);
            if (!e) e = weir_upsert(ctx, row);
            weir_row_free(row);
        }
        free(note);
        free(id);
        return e;
    }
    if (weir_event_is(event, "Drop")) {
        weir_value k = weir_textn(event->key.ptr, event->key.len);
        return weir_delete(ctx, "things", &k, 1);
    }
    if (weir_event_is(event, "Say")) {
        weir_record_meta m;
        weir_record_info(ctx, &m);
        weir_log(ctx, WEIR_LOG_INFO, "from %s/%d@%lld with %zu header(s)", m.topic, (int)m.partition,
                 (long long)m.offset, m.nheaders);
        weir_record_meta_free(&m);
        WEIR_TRY(weir_emitn(ctx, "out", event->key, "Said", "{\"ok\":true}", 11));
        return weir_emit(ctx, "out", NULL, "SaidAgain", "[]", 2);
    }
    if (weir_event_is(event, "Fail")) return weir_error_retryable("failed %s", "on purpose");
    if (weir_event_is(event, "FailQuietly")) return weir_error_new("%s", "");
    return NULL;
}

/* --- the host ------------------------------------------------------------------------ */

static char *hdup(const char *s, size_t n) { /* what the host allocates in guest memory */
    char *p = cabi_realloc(NULL, 0, 1, n);
    if (n) memcpy(p, s, n);
    return p;
}

static void set_string(projection_string_t *s, const char *text) {
    s->len = strlen(text);
    s->ptr = (uint8_t *)hdup(text, s->len);
}

/* One table `things` (id, n, note, doc), key id; rows kept as host-owned copies. */
typedef struct {
    char *id, *note, *doc;
    size_t id_len, note_len, doc_len;
    int64_t n;
} thing;
static thing g_rows[16];
static size_t g_nrows;
static int g_emits, g_emits_with_key, g_logs, g_schema_calls;
static char g_last_log[256];

static thing *find(const char *id, size_t len) {
    for (size_t i = 0; i < g_nrows; i++)
        if (g_rows[i].id_len == len && memcmp(g_rows[i].id, id, len) == 0) return &g_rows[i];
    return NULL;
}

static char *copy(const uint8_t *p, size_t n) {
    char *c = malloc(n + 1);
    if (n) memcpy(c, p, n);
    c[n] = 0;
    return c;
}

void __wasm_import_weir_plugin_context_tables(uint8_t *ret) {
    g_schema_calls++;
    weir_plugin_types_table_schema_t *t = cabi_realloc(NULL, 0, 8, sizeof *t);
    set_string(&t->name, "things");
    const char *cols[] = {"id", "n", "note", "doc"};
    t->columns.len = 4;
    t->columns.ptr = cabi_realloc(NULL, 0, 8, 4 * sizeof(projection_string_t));
    for (int i = 0; i < 4; i++) set_string(&t->columns.ptr[i], cols[i]);
    t->primary_key.len = 1;
    t->primary_key.ptr = cabi_realloc(NULL, 0, 8, sizeof(projection_string_t));
    set_string(&t->primary_key.ptr[0], "id");
    *(uint8_t **)ret = (uint8_t *)t;
    *(size_t *)(ret + sizeof(void *)) = 1;
}

void __wasm_import_weir_plugin_context_topics(uint8_t *ret) {
    g_schema_calls++;
    projection_string_t *t = cabi_realloc(NULL, 0, 8, sizeof *t);
    set_string(t, "out");
    *(uint8_t **)ret = (uint8_t *)t;
    *(size_t *)(ret + sizeof(void *)) = 1;
}

void __wasm_import_weir_plugin_context_pipeline(uint8_t *ret) {
    projection_string_t s;
    set_string(&s, "abi-test");
    *(uint8_t **)ret = s.ptr;
    *(size_t *)(ret + sizeof(void *)) = s.len;
}

void __wasm_import_weir_plugin_read_model_get(int32_t table, uint8_t *key, size_t nkey, uint8_t *ret) {
    weir_plugin_types_value_t *k = (weir_plugin_types_value_t *)key;
    thing *t = NULL;
    if (table == 0 && nkey == 1 && k[0].tag == WEIR_PLUGIN_TYPES_VALUE_TEXT)
        t = find((const char *)k[0].val.text.ptr, k[0].val.text.len);
    if (!t) {
        ret[0] = 0;
        return;
    }
    weir_plugin_types_value_t *v = cabi_realloc(NULL, 0, 8, 4 * sizeof *v);
    v[0].tag = WEIR_PLUGIN_TYPES_VALUE_TEXT;
    v[0].val.text.ptr = (uint8_t *)hdup(t->id, t->id_len);
    v[0].val.text.len = t->id_len;
    v[1].tag = WEIR_PLUGIN_TYPES_VALUE_INTEGER;
    v[1].val.integer = t->n;
    if (t->note) {
        v[2].tag = WEIR_PLUGIN_TYPES_VALUE_TEXT;
        /* cabi_realloc of 0 bytes gives a dummy pointer, as the canonical ABI may. */
        v[2].val.text.ptr = t->note_len ? (uint8_t *)hdup(t->note, t->note_len) : (uint8_t *)1;
        v[2].val.text.len = t->note_len;
    } else {
        v[2].tag = WEIR_PLUGIN_TYPES_VALUE_NULL;
    }
    v[3].tag = WEIR_PLUGIN_TYPES_VALUE_JSON;
    v[3].val.json.ptr = (uint8_t *)hdup(t->doc, t->doc_len);
    v[3].val.json.len = t->doc_len;
    ret[0] = 1;
    *(uint16_t *)(ret + sizeof(void *)) = 0;
    *(uint8_t **)(ret + 2 * sizeof(void *)) = (uint8_t *)v;
    *(size_t *)(ret + 3 * sizeof(void *)) = 4;
}

static void write_row(int32_t table, uint8_t *values, size_t n, bool del) {
    weir_plugin_types_value_t *v = (weir_plugin_types_value_t *)values;
    if (table != 0 || n != 4 || v[0].tag != WEIR_PLUGIN_TYPES_VALUE_TEXT) abort();
    thing *t = find((const char *)v[0].val.text.ptr, v[0].val.text.len);
    if (del) {
        if (t) {
            free(t->id);
            free(t->note);
            free(t->doc);
            *t = g_rows[--g_nrows];
        }
        return;
    }
    if (!t) {
        t = &g_rows[g_nrows++];
        memset(t, 0, sizeof *t);
        t->id = copy(v[0].val.text.ptr, v[0].val.text.len);
        t->id_len = v[0].val.text.len;
    }
    t->n = v[1].tag == WEIR_PLUGIN_TYPES_VALUE_INTEGER ? v[1].val.integer : -1;
    free(t->note);
    free(t->doc);
    t->note = v[2].tag == WEIR_PLUGIN_TYPES_VALUE_TEXT ? copy(v[2].val.text.ptr, v[2].val.text.len) : NULL;
    t->note_len = v[2].tag == WEIR_PLUGIN_TYPES_VALUE_TEXT ? v[2].val.text.len : 0;
    t->doc = copy(v[3].val.json.ptr, v[3].val.json.len);
    t->doc_len = v[3].val.json.len;
}

void __wasm_import_weir_plugin_read_model_upsert(int32_t input, int32_t table, uint8_t *values, size_t n) {
    (void)input;
    write_row(table, values, n, false);
}

// The generated bindings wrap every import of the interface; the C SDK never calls the
// packed ones, so the test host only has to link them.
void __wasm_import_weir_plugin_read_model_get_packed(int32_t table, uint8_t *key, size_t nkey, uint8_t *ret) {
    (void)table; (void)key; (void)nkey; (void)ret;
    fprintf(stderr, "read-model.get-packed: not used by the C SDK\n");
    abort();
}

void __wasm_import_weir_plugin_read_model_upsert_packed(int32_t input, int32_t table, uint8_t *values, size_t n) {
    (void)input; (void)table; (void)values; (void)n;
    fprintf(stderr, "read-model.upsert-packed: not used by the C SDK\n");
    abort();
}

void __wasm_import_weir_plugin_read_model_delete(int32_t input, int32_t table, uint8_t *values, size_t n) {
    (void)input;
    write_row(table, values, n, true);
}

void __wasm_import_weir_plugin_topics_emit(int32_t input, int32_t topic, int32_t has_key, uint8_t *key, size_t key_len,
                                           uint8_t *type, size_t type_len, uint8_t *data, size_t data_len) {
    (void)input;
    (void)key;
    (void)key_len;
    (void)type;
    (void)type_len;
    (void)data;
    (void)data_len;
    if (topic != 0) abort();
    g_emits++;
    g_emits_with_key += has_key;
}

void __wasm_import_weir_plugin_context_record_info(int32_t origin, uint8_t *ret) {
    projection_string_t topic;
    set_string(&topic, "in");
    *(uint8_t **)ret = topic.ptr;
    *(size_t *)(ret + sizeof(void *)) = topic.len;
    *(int32_t *)(ret + 2 * sizeof(void *)) = 2;
    *(int64_t *)(ret + 8 + 2 * sizeof(void *)) = origin;
    projection_tuple2_string_list_u8_t *h = cabi_realloc(NULL, 0, 8, sizeof *h);
    set_string(&h->f0, "h");
    h->f1.ptr = (uint8_t *)hdup("v", 1);
    h->f1.len = 1;
    *(uint8_t **)(ret + 16 + 2 * sizeof(void *)) = (uint8_t *)h;
    *(size_t *)(ret + 16 + 3 * sizeof(void *)) = 1;
}

void __wasm_import_weir_plugin_context_log(int32_t level, uint8_t *msg, size_t len) {
    (void)level;
    g_logs++;
    snprintf(g_last_log, sizeof g_last_log, "%.*s", (int)len, (const char *)msg);
}

/* A batch in guest memory, as the host lowers it: every list its own cabi_realloc. */
typedef struct {
    const char *type, *key, *data;
} ev;

static projection_list_failure_t run(const ev *evs, size_t n) {
    size_t nbytes = 0;
    for (size_t k = 0; k < n; k++) nbytes += (evs[k].key ? strlen(evs[k].key) : 0) + strlen(evs[k].data);
    uint8_t *bytes = cabi_realloc(NULL, 0, 1, nbytes);
    uint8_t *index = cabi_realloc(NULL, 0, 1, 64 * n);
    projection_string_t *types = cabi_realloc(NULL, 0, 8, n * sizeof *types);
    size_t at = 0, ntypes = 0;
    memset(index, 0, 64 * n);
    for (size_t k = 0; k < n; k++) {
        uint8_t *row = index + 64 * k;
        size_t t = 0;
        while (t < ntypes && !(types[t].len == strlen(evs[k].type) && memcmp(types[t].ptr, evs[k].type, types[t].len) == 0)) t++;
        if (t == ntypes) set_string(&types[ntypes++], evs[k].type);
        uint32_t absent = 0xFFFFFFFFu, v1 = 1, origin = (uint32_t)(100 + k);
        memcpy(row + 4, &absent, 4);  /* no id */
        memcpy(row + 16, &v1, 4);     /* version */
        row[20] = (uint8_t)t;
        memcpy(row + 28, &absent, 4); /* no aggregate id */
        memcpy(row + 36, &absent, 4); /* no correlation id */
        if (evs[k].key) {
            uint32_t s = (uint32_t)at, l = (uint32_t)strlen(evs[k].key);
            memcpy(bytes + at, evs[k].key, l);
            at += l;
            memcpy(row + 40, &s, 4);
            memcpy(row + 44, &l, 4);
        } else {
            memcpy(row + 44, &absent, 4);
        }
        uint32_t s = (uint32_t)at, l = (uint32_t)strlen(evs[k].data);
        memcpy(bytes + at, evs[k].data, l);
        at += l;
        memcpy(row + 48, &s, 4);
        memcpy(row + 52, &l, 4);
        memcpy(row + 56, &origin, 4);
    }
    uint8_t *ret = __wasm_export_exports_projection_handle(bytes, nbytes, (uint8_t *)types, ntypes, index, 64 * n);
    projection_list_failure_t out = {*(projection_failure_t **)ret, *(size_t *)(ret + sizeof(void *))};
    /* Copy what the test looks at, then let the guest free its result. */
    projection_list_failure_t copy_ = {NULL, out.len};
    if (out.len) {
        copy_.ptr = malloc(out.len * sizeof *copy_.ptr);
        for (size_t i = 0; i < out.len; i++) {
            copy_.ptr[i] = out.ptr[i];
            copy_.ptr[i].error.message.ptr = (uint8_t *)copy(out.ptr[i].error.message.ptr, out.ptr[i].error.message.len);
        }
    }
    __wasm_export_exports_projection_handle_post_return(ret);
    return copy_;
}

static void free_failures(projection_list_failure_t f) {
    for (size_t i = 0; i < f.len; i++) free(f.ptr[i].error.message.ptr);
    free(f.ptr);
}

static void glue_keeps_ownership_rules(void) {
    ev batch1[] = {
        {"Put", NULL, "{\"id\":\"a\",\"note\":\"\"}"},
        {"Put", NULL, "{\"id\":\"a\",\"note\":\"x\"}"},
        {"Put", NULL, "{\"id\":\"b\"}"},
        {"Say", "k", "{}"},
        {"Fail", NULL, "{}"},
        {"Put", NULL, "not json"},
        {"FailQuietly", NULL, "{}"},
        {"Drop", "b", "{}"},
        {"Unknown", NULL, "{}"},
    };
    projection_list_failure_t f = run(batch1, sizeof batch1 / sizeof batch1[0]);
    CHECK(f.len == 3);
    if (f.len == 3) {
        CHECK(f.ptr[0].index == 4 && f.ptr[0].error.retryable);
        CHECK_STR((char *)f.ptr[0].error.message.ptr, "failed on purpose");
        CHECK(f.ptr[1].index == 5 && !f.ptr[1].error.retryable);
        CHECK_CONTAINS((char *)f.ptr[1].error.message.ptr, "invalid JSON");
        CHECK(f.ptr[2].index == 6 && f.ptr[2].error.message.len == 0);
    }
    free_failures(f);
    thing *a = find("a", 1);
    CHECK(a && a->n == 2 && a->note && strcmp(a->note, "x") == 0);
    CHECK(a && strcmp(a->doc, "{\"id\":\"a\",\"note\":\"x\"}") == 0);
    CHECK(find("b", 1) == NULL);
    CHECK(g_emits == 2 && g_emits_with_key == 1);
    CHECK(g_logs == 1);
    CHECK_STR(g_last_log, "from in/2@103 with 1 header(s)");
    /* A second batch: the schema is not asked again; a row read back with an empty note. */
    ev batch2[] = {{"Put", NULL, "{\"id\":\"c\",\"note\":\"\"}"}, {"Put", NULL, "{\"id\":\"c\"}"}};
    f = run(batch2, 2);
    CHECK(f.len == 0);
    free_failures(f);
    CHECK(find("c", 1) && find("c", 1)->n == 2);
    CHECK(g_schema_calls == 2);
    /* An empty batch. */
    f = run(NULL, 0);
    CHECK(f.len == 0);
    free_failures(f);
}

int main(void) {
    RUN_TEST(glue_keeps_ownership_rules);
    for (size_t i = 0; i < g_nrows; i++) {
        free(g_rows[i].id);
        free(g_rows[i].note);
        free(g_rows[i].doc);
    }
    return CHECK_SUMMARY();
}
