/*
 * The fake host for native tests of C plugins (see weir_testing.h): an in-memory read
 * model and topic list behind the SDK's backend seam.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/weir_backend.h"
#include "weir_testing.h"

typedef struct {
    weir_value *values; /* owned copies */
} trow;

typedef struct {
    char *name;
    char **columns;
    size_t ncolumns;
    char **pk;
    size_t npk;
    trow *rows;
    size_t nrows, caprows;
} ttable;

typedef struct {
    uint32_t input;
    uint16_t table;
    bool is_delete;
    weir_value *values; /* owned copies */
} twrite;

static ttable *g_tables;
static size_t g_ntables;
static char **g_topics;
static size_t g_ntopics;
static twrite *g_pending;
static size_t g_npending, g_cappending;
static weir_test_emitted *g_emitted;
static size_t g_nemitted, g_capemitted;
static weir_test_emitted *g_pemits; /* pending emits */
static uint32_t *g_pemit_input;
static size_t g_npemits, g_cappemits;
static char **g_logs;
static int *g_log_levels;
static size_t g_nlogs, g_caplogs;
static size_t g_schema_loads;

#define GROW(arr, n, cap)                                        \
    do {                                                         \
        if ((n) == (cap)) {                                      \
            (cap) = (cap) ? (cap) * 2 : 8;                       \
            (arr) = weir_xrealloc((arr), sizeof *(arr) * (cap)); \
        }                                                        \
    } while (0)

static char *dup(const char *s) { return s ? weir_str_dup(weir_cstr(s)) : NULL; }

static weir_value vcopy(weir_value v) {
    if (v.tag == WEIR_TEXT || v.tag == WEIR_JSON) {
        char *p = weir_xmalloc(v.val.text.len + 1);
        if (v.val.text.len) memcpy(p, v.val.text.ptr, v.val.text.len);
        p[v.val.text.len] = 0;
        v.val.text.ptr = p;
    }
    return v;
}

static void vfree(weir_value *v) {
    if (v->tag == WEIR_TEXT || v->tag == WEIR_JSON) free((void *)v->val.text.ptr);
}

static weir_value *vcopy_all(const weir_value *vs, size_t n) {
    weir_value *out = weir_xmalloc(sizeof *out * (n ? n : 1));
    for (size_t i = 0; i < n; i++) out[i] = vcopy(vs[i]);
    return out;
}

static void vfree_all(weir_value *vs, size_t n) {
    if (!vs) return;
    for (size_t i = 0; i < n; i++) vfree(&vs[i]);
    free(vs);
}

static bool veq(const weir_value *a, const weir_value *b) {
    if (a->tag != b->tag) return false;
    switch (a->tag) {
    case WEIR_NULL: return true;
    case WEIR_BOOLEAN: return a->val.boolean == b->val.boolean;
    case WEIR_INTEGER: return a->val.integer == b->val.integer;
    case WEIR_FLOAT: return a->val.float_ == b->val.float_;
    default:
        return a->val.text.len == b->val.text.len && memcmp(a->val.text.ptr, b->val.text.ptr, a->val.text.len) == 0;
    }
}

static size_t col_pos(const ttable *t, const char *name) {
    for (size_t c = 0; c < t->ncolumns; c++)
        if (strcmp(t->columns[c], name) == 0) return c;
    weir_fatal("weir_testing: no such column");
}

/* Whether full row `values` has primary key `key` (pk order). */
static bool has_key(const ttable *t, const weir_value *values, const weir_value *key) {
    for (size_t k = 0; k < t->npk; k++)
        if (!veq(&values[col_pos(t, t->pk[k])], &key[k])) return false;
    return true;
}

static void key_of(const ttable *t, const weir_value *values, weir_value *key) {
    for (size_t k = 0; k < t->npk; k++) key[k] = values[col_pos(t, t->pk[k])];
}

static ttable *table_named(const char *name) {
    for (size_t i = 0; i < g_ntables; i++)
        if (strcmp(g_tables[i].name, name) == 0) return &g_tables[i];
    weir_fatal("weir_testing: table not declared in the test host");
}

/* --- setup ------------------------------------------------------------------------- */

void weir_test_reset(void) {
    for (size_t i = 0; i < g_ntables; i++) {
        ttable *t = &g_tables[i];
        for (size_t r = 0; r < t->nrows; r++) vfree_all(t->rows[r].values, t->ncolumns);
        for (size_t c = 0; c < t->ncolumns; c++) free(t->columns[c]);
        for (size_t c = 0; c < t->npk; c++) free(t->pk[c]);
        free(t->rows);
        free(t->columns);
        free(t->pk);
        free(t->name);
    }
    free(g_tables);
    g_tables = NULL;
    g_ntables = 0;
    for (size_t i = 0; i < g_ntopics; i++) free(g_topics[i]);
    free(g_topics);
    g_topics = NULL;
    g_ntopics = 0;
    for (size_t i = 0; i < g_nemitted; i++) {
        free(g_emitted[i].topic);
        free(g_emitted[i].key);
        free(g_emitted[i].event_type);
        free(g_emitted[i].data);
    }
    free(g_emitted);
    g_emitted = NULL;
    g_nemitted = g_capemitted = 0;
    for (size_t i = 0; i < g_nlogs; i++) free(g_logs[i]);
    free(g_logs);
    free(g_log_levels);
    g_logs = NULL;
    g_log_levels = NULL;
    g_nlogs = g_caplogs = 0;
    g_schema_loads = 0;
    weir_schema_reset();
}

static char **dup_list(const char *const *names, size_t *n) {
    size_t k = 0;
    while (names && names[k]) k++;
    char **out = weir_xmalloc(sizeof(char *) * (k ? k : 1));
    for (size_t i = 0; i < k; i++) out[i] = dup(names[i]);
    *n = k;
    return out;
}

void weir_test_table(const char *name, const char *const *columns, const char *const *primary_key) {
    g_tables = weir_xrealloc(g_tables, sizeof *g_tables * (g_ntables + 1));
    ttable *t = &g_tables[g_ntables++];
    memset(t, 0, sizeof *t);
    t->name = dup(name);
    t->columns = dup_list(columns, &t->ncolumns);
    t->pk = dup_list(primary_key, &t->npk);
    weir_schema_reset();
}

void weir_test_topic(const char *name) {
    g_topics = weir_xrealloc(g_topics, sizeof *g_topics * (g_ntopics + 1));
    g_topics[g_ntopics++] = dup(name);
    weir_schema_reset();
}

/* --- the backend ------------------------------------------------------------------- */

weir_schema *weir_backend_load_schema(void) {
    g_schema_loads++;
    weir_schema *s = weir_xmalloc(sizeof *s);
    s->ntables = g_ntables;
    s->tables = weir_xmalloc(sizeof *s->tables * (g_ntables ? g_ntables : 1));
    for (size_t i = 0; i < g_ntables; i++) {
        ttable *t = &g_tables[i];
        weir_table_schema *ts = &s->tables[i];
        memset(ts, 0, sizeof *ts);
        ts->name = dup(t->name);
        ts->ncolumns = t->ncolumns;
        ts->columns = weir_xmalloc(sizeof(char *) * (t->ncolumns ? t->ncolumns : 1));
        for (size_t c = 0; c < t->ncolumns; c++) ts->columns[c] = dup(t->columns[c]);
        ts->nprimary_key = t->npk;
        ts->primary_key = weir_xmalloc(sizeof(char *) * (t->npk ? t->npk : 1));
        for (size_t c = 0; c < t->npk; c++) ts->primary_key[c] = dup(t->pk[c]);
    }
    s->ntopics = g_ntopics;
    s->topics = weir_xmalloc(sizeof(char *) * (g_ntopics ? g_ntopics : 1));
    for (size_t i = 0; i < g_ntopics; i++) s->topics[i] = dup(g_topics[i]);
    return s;
}

bool weir_backend_get(uint16_t table, const weir_value *key, size_t nkey, weir_value **values, size_t *nvalues) {
    ttable *t = &g_tables[table];
    if (nkey != t->npk) weir_fatal("weir_testing: get with a key of the wrong width");
    /* This event's pending writes first, newest first. */
    for (size_t i = g_npending; i-- > 0;) {
        twrite *w = &g_pending[i];
        if (w->table == table && has_key(t, w->values, key)) {
            if (w->is_delete) return false;
            *values = vcopy_all(w->values, t->ncolumns);
            *nvalues = t->ncolumns;
            return true;
        }
    }
    for (size_t r = 0; r < t->nrows; r++) {
        if (has_key(t, t->rows[r].values, key)) {
            *values = vcopy_all(t->rows[r].values, t->ncolumns);
            *nvalues = t->ncolumns;
            return true;
        }
    }
    return false;
}

static void pend(uint32_t input, uint16_t table, const weir_value *values, size_t n, bool is_delete) {
    ttable *t = &g_tables[table];
    if (n != t->ncolumns) weir_fatal("weir_testing: a row of the wrong width");
    GROW(g_pending, g_npending, g_cappending);
    twrite *w = &g_pending[g_npending++];
    w->input = input;
    w->table = table;
    w->is_delete = is_delete;
    w->values = vcopy_all(values, n);
}

void weir_backend_upsert(uint32_t input, uint16_t table, const weir_value *values, size_t n) {
    pend(input, table, values, n, false);
}

void weir_backend_delete(uint32_t input, uint16_t table, const weir_value *values, size_t n) {
    pend(input, table, values, n, true);
}

void weir_backend_emit(uint32_t input, uint16_t topic, weir_str key, weir_str event_type, weir_str data) {
    if (topic >= g_ntopics) weir_fatal("weir_testing: emit to an unknown topic number");
    GROW(g_pemits, g_npemits, g_cappemits);
    g_pemit_input = weir_xrealloc(g_pemit_input, sizeof *g_pemit_input * g_cappemits);
    weir_test_emitted *e = &g_pemits[g_npemits];
    g_pemit_input[g_npemits++] = input;
    e->topic = dup(g_topics[topic]);
    e->key = weir_str_dup(key);
    e->event_type = weir_str_dup(event_type);
    e->data = weir_str_dup(data);
    /* The host parses emitted data as JSON: so must it be. */
    weir_json j;
    weir_error *err = weir_json_parse(data, &j);
    if (err) weir_fatal("weir_testing: emitted data is not JSON");
}

void weir_backend_record_info(uint32_t origin, weir_record_meta *out) {
    memset(out, 0, sizeof *out);
    out->topic = dup("test");
    out->offset = origin;
}

void weir_backend_log(uint8_t level, weir_str message) {
    GROW(g_logs, g_nlogs, g_caplogs);
    g_log_levels = weir_xrealloc(g_log_levels, sizeof *g_log_levels * g_caplogs);
    g_log_levels[g_nlogs] = level;
    g_logs[g_nlogs++] = weir_str_dup(message);
}

static void commit_write(twrite *w) {
    ttable *t = &g_tables[w->table];
    weir_value key[16];
    if (t->npk > 16) weir_fatal("weir_testing: primary key too wide");
    key_of(t, w->values, key);
    for (size_t r = 0; r < t->nrows; r++) {
        if (has_key(t, t->rows[r].values, key)) {
            vfree_all(t->rows[r].values, t->ncolumns);
            if (w->is_delete) {
                vfree_all(w->values, t->ncolumns);
                t->rows[r] = t->rows[--t->nrows];
            } else {
                t->rows[r].values = w->values;
            }
            return;
        }
    }
    if (w->is_delete) {
        vfree_all(w->values, t->ncolumns);
        return;
    }
    GROW(t->rows, t->nrows, t->caprows);
    t->rows[t->nrows++].values = w->values;
}

void weir_backend_event_done(uint32_t input, bool failed) {
    for (size_t i = 0; i < g_npending; i++) {
        twrite *w = &g_pending[i];
        if (w->input != input) weir_fatal("weir_testing: a write tagged with another input");
        if (failed) vfree_all(w->values, g_tables[w->table].ncolumns);
        else commit_write(w);
    }
    g_npending = 0;
    for (size_t i = 0; i < g_npemits; i++) {
        if (g_pemit_input[i] != input) weir_fatal("weir_testing: an emit tagged with another input");
        if (failed) {
            free(g_pemits[i].topic);
            free(g_pemits[i].key);
            free(g_pemits[i].event_type);
            free(g_pemits[i].data);
        } else {
            GROW(g_emitted, g_nemitted, g_capemitted);
            g_emitted[g_nemitted++] = g_pemits[i];
        }
    }
    g_npemits = 0;
}

/* --- running ----------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void bput(buf *b, const void *s, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = weir_xrealloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_span(buf *bytes, uint8_t *row, size_t at, const char *s) {
    if (!s) {
        le32(row + at, 0);
        le32(row + at + 4, 0xFFFFFFFFu);
        return;
    }
    le32(row + at, (uint32_t)bytes->len);
    le32(row + at + 4, (uint32_t)strlen(s));
    bput(bytes, s, strlen(s));
}

char **weir_test_run(const weir_test_event *events, size_t n) {
    buf bytes = {0}, index = {0};
    weir_str *types = weir_xmalloc(sizeof *types * (n ? n : 1));
    size_t ntypes = 0;
    /* Something before the first event, so that no span starts at 0 by luck. */
    bput(&bytes, "##", 2);
    for (size_t k = 0; k < n; k++) {
        const weir_test_event *e = &events[k];
        uint8_t row[64] = {0};
        size_t t = 0;
        while (t < ntypes && !weir_str_eq(types[t], e->event_type)) t++;
        if (t == ntypes) types[ntypes++] = weir_cstr(e->event_type);
        put_span(&bytes, row, 0, e->id);
        uint64_t ts = (uint64_t)e->timestamp_ms;
        le32(row + 8, (uint32_t)ts);
        le32(row + 12, (uint32_t)(ts >> 32));
        le32(row + 16, e->version ? e->version : 1);
        row[20] = (uint8_t)t;
        row[21] = (uint8_t)(t >> 8);
        put_span(&bytes, row, 24, e->aggregate_id);
        put_span(&bytes, row, 32, e->correlation_id);
        put_span(&bytes, row, 40, e->key);
        put_span(&bytes, row, 48, e->data);
        le32(row + 56, (uint32_t)k);
        bput(&index, row, sizeof row);
    }
    weir_failure *fails;
    size_t nfail = weir_run_batch(bytes.p, bytes.len, types, ntypes, index.p, index.len, &fails);
    char **results = weir_xmalloc(sizeof(char *) * (n ? n : 1));
    for (size_t k = 0; k < n; k++) results[k] = NULL;
    for (size_t i = 0; i < nfail; i++) {
        results[fails[i].index] = fails[i].error->message;
        free(fails[i].error);
    }
    free(fails);
    free(types);
    free(bytes.p);
    free(index.p);
    return results;
}

void weir_test_results_free(char **results, size_t n) {
    for (size_t i = 0; i < n; i++) free(results[i]);
    free(results);
}

/* --- inspecting -------------------------------------------------------------------- */

const weir_value *weir_test_row(const char *table, const char *key) {
    ttable *t = table_named(table);
    weir_value k = weir_text(key);
    if (t->npk != 1) weir_fatal("weir_testing: weir_test_row needs a one-column key");
    for (size_t r = 0; r < t->nrows; r++)
        if (has_key(t, t->rows[r].values, &k)) return t->rows[r].values;
    return NULL;
}

const weir_value *weir_test_value(const char *table, const char *key, const char *column) {
    const weir_value *row = weir_test_row(table, key);
    if (!row) return NULL;
    return &row[col_pos(table_named(table), column)];
}

size_t weir_test_nrows(const char *table) { return table_named(table)->nrows; }

size_t weir_test_nemitted(void) { return g_nemitted; }

const weir_test_emitted *weir_test_emitted_at(size_t i) { return i < g_nemitted ? &g_emitted[i] : NULL; }

size_t weir_test_nlogs(void) { return g_nlogs; }

const char *weir_test_log_at(size_t i, int *level) {
    if (i >= g_nlogs) return NULL;
    if (level) *level = g_log_levels[i];
    return g_logs[i];
}

size_t weir_test_schema_loads(void) { return g_schema_loads; }
