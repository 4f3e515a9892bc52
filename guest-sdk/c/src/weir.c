/*
 * weir C guest SDK, core: the batch loop over the packed index, the schema (asked once per
 * instance), names -> positions, rows, errors, and the context operations. Host-neutral:
 * it talks to a backend (weir_backend.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_backend.h"

/* ---------------------------------------------------------------------------------------
 * Memory, text
 * ------------------------------------------------------------------------------------- */

_Noreturn void weir_fatal(const char *what) {
#ifdef __wasm__
    /* No stderr in the sandbox (and no WASI imports wanted): log through the host, trap. */
    weir_backend_log(0, weir_cstr(what));
    __builtin_trap();
#else
    fprintf(stderr, "weir: %s\n", what);
    abort();
#endif
}

void *weir_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) weir_fatal("out of memory");
    return p;
}

void *weir_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) weir_fatal("out of memory");
    return q;
}

weir_str weir_cstr(const char *s) {
    weir_str r = {s, s ? strlen(s) : 0};
    return r;
}

bool weir_str_eq(weir_str s, const char *c) {
    size_t n = strlen(c);
    return s.ptr && s.len == n && memcmp(s.ptr, c, n) == 0;
}

char *weir_str_dup(weir_str s) {
    if (!s.ptr) return NULL;
    char *p = weir_xmalloc(s.len + 1);
    memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p;
}

static char *vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    char *p = weir_xmalloc((size_t)n + 1);
    if ((size_t)n < sizeof small) memcpy(p, small, (size_t)n + 1);
    else vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

/* ---------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------- */

weir_error *weir_error_newv(const char *fmt, va_list ap) {
    weir_error *e = weir_xmalloc(sizeof *e);
    e->message = vformat(fmt, ap);
    e->retryable = false;
    return e;
}

weir_error *weir_error_new(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    weir_error *e = weir_error_newv(fmt, ap);
    va_end(ap);
    return e;
}

weir_error *weir_error_retryable(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    weir_error *e = weir_error_newv(fmt, ap);
    va_end(ap);
    e->retryable = true;
    return e;
}

weir_error *weir_error_prefix(weir_error *e, const char *prefix) {
    if (!e) return NULL;
    size_t a = strlen(prefix), b = strlen(e->message);
    char *m = weir_xmalloc(a + b + 1);
    memcpy(m, prefix, a);
    memcpy(m + a, e->message, b + 1);
    free(e->message);
    e->message = m;
    return e;
}

void weir_error_free(weir_error *e) {
    if (!e) return;
    free(e->message);
    free(e);
}

/* ---------------------------------------------------------------------------------------
 * Schema: asked once per instance
 * ------------------------------------------------------------------------------------- */

static weir_schema *g_schema;

static void schema_free(weir_schema *s) {
    if (!s) return;
    for (size_t t = 0; t < s->ntables; t++) {
        weir_table_schema *ts = &s->tables[t];
        for (size_t c = 0; c < ts->ncolumns; c++) free(ts->columns[c]);
        for (size_t c = 0; c < ts->nprimary_key; c++) free(ts->primary_key[c]);
        free(ts->columns);
        free(ts->primary_key);
        free(ts->pk_pos);
        free(ts->name);
    }
    for (size_t i = 0; i < s->ntopics; i++) free(s->topics[i]);
    free(s->tables);
    free(s->topics);
    free(s);
}

const weir_schema *weir_schema_get(void) {
    if (g_schema) return g_schema;
    weir_schema *s = weir_backend_load_schema();
    for (size_t t = 0; t < s->ntables; t++) {
        weir_table_schema *ts = &s->tables[t];
        ts->pk_pos = weir_xmalloc(sizeof(size_t) * (ts->nprimary_key ? ts->nprimary_key : 1));
        for (size_t k = 0; k < ts->nprimary_key; k++) {
            size_t c = 0;
            while (c < ts->ncolumns && strcmp(ts->columns[c], ts->primary_key[k]) != 0) c++;
            if (c == ts->ncolumns) weir_fatal("a primary-key column is not among the table's columns");
            ts->pk_pos[k] = c;
        }
    }
    g_schema = s;
    return s;
}

void weir_schema_reset(void) {
    schema_free(g_schema);
    g_schema = NULL;
}

/* "a, b, c" of a list of names, malloc'd. */
static char *join(char *const *names, size_t n) {
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(names[i]) + 2;
    char *out = weir_xmalloc(len);
    out[0] = 0;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        size_t l = strlen(names[i]);
        memcpy(p, names[i], l);
        p += l;
    }
    *p = 0;
    return out;
}

/* Finds a table by name: its number, or -1. */
static int find_table(const char *name, const weir_table_schema **out) {
    const weir_schema *s = weir_schema_get();
    for (size_t t = 0; t < s->ntables; t++) {
        if (strcmp(s->tables[t].name, name) == 0) {
            *out = &s->tables[t];
            return (int)t;
        }
    }
    return -1;
}

static weir_error *undeclared_table(const char *name) {
    const weir_schema *s = weir_schema_get();
    char **names = weir_xmalloc(sizeof(char *) * (s->ntables ? s->ntables : 1));
    for (size_t t = 0; t < s->ntables; t++) names[t] = s->tables[t].name;
    char *declared = join(names, s->ntables);
    free(names);
    weir_error *e = weir_error_new("table `%s` is not declared in the pipeline (declared: %s)", name, declared);
    free(declared);
    return e;
}

/* ---------------------------------------------------------------------------------------
 * Values and rows
 * ------------------------------------------------------------------------------------- */

weir_value weir_text(const char *s) {
    if (!s) return weir_null();
    return weir_textn(s, strlen(s));
}

struct weir_row {
    char *table_name;
    int table; /* -1: not declared */
    const weir_table_schema *schema;
    weir_value *values; /* one per declared column; text/json malloc'd */
    size_t n;
    char *error; /* the first problem, reported by weir_upsert */
};

static void value_clear(weir_value *v) {
    if (v->tag == WEIR_TEXT || v->tag == WEIR_JSON) free((void *)v->val.text.ptr);
    *v = weir_null();
}

static weir_value value_copy(weir_value v) {
    if (v.tag == WEIR_TEXT || v.tag == WEIR_JSON) {
        char *p = weir_xmalloc(v.val.text.len + 1);
        if (v.val.text.len) memcpy(p, v.val.text.ptr, v.val.text.len);
        p[v.val.text.len] = 0;
        v.val.text.ptr = p;
    }
    return v;
}

weir_row *weir_row_new(const char *table) {
    weir_row *r = weir_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->table_name = weir_str_dup(weir_cstr(table));
    r->table = find_table(table, &r->schema);
    if (r->table < 0) {
        weir_error *e = undeclared_table(table);
        r->error = e->message;
        free(e);
        return r;
    }
    r->n = r->schema->ncolumns;
    r->values = weir_xmalloc(sizeof(weir_value) * (r->n ? r->n : 1));
    for (size_t i = 0; i < r->n; i++) r->values[i] = weir_null();
    return r;
}

void weir_row_free(weir_row *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) value_clear(&r->values[i]);
    free(r->values);
    free(r->table_name);
    free(r->error);
    free(r);
}

const char *weir_row_table(const weir_row *r) { return r->table_name; }

static int column_of(const weir_row *r, const char *column) {
    if (!r->schema) return -1;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->schema->columns[i], column) == 0) return (int)i;
    return -1;
}

void weir_row_set(weir_row *r, const char *column, weir_value v) {
    if (r->table < 0) return; /* the row already carries its error */
    int c = column_of(r, column);
    if (c < 0) {
        if (!r->error) {
            char *declared = join(r->schema->columns, r->schema->ncolumns);
            weir_error *e = weir_error_new("table `%s` has no column `%s` (declared: %s)", r->table_name, column, declared);
            free(declared);
            r->error = e->message;
            free(e);
        }
        return;
    }
    weir_value copy = value_copy(v);
    value_clear(&r->values[c]);
    r->values[c] = copy;
}

void weir_row_set_null(weir_row *r, const char *column) { weir_row_set(r, column, weir_null()); }
void weir_row_set_bool(weir_row *r, const char *column, bool v) { weir_row_set(r, column, weir_bool(v)); }
void weir_row_set_i64(weir_row *r, const char *column, int64_t v) { weir_row_set(r, column, weir_int(v)); }
void weir_row_set_f64(weir_row *r, const char *column, double v) { weir_row_set(r, column, weir_float(v)); }
void weir_row_set_text(weir_row *r, const char *column, const char *v) { weir_row_set(r, column, weir_text(v)); }
void weir_row_set_textn(weir_row *r, const char *column, const char *v, size_t len) {
    weir_row_set(r, column, weir_textn(v, len));
}
void weir_row_set_json(weir_row *r, const char *column, const char *json, size_t len) {
    weir_value v = weir_textn(json, len);
    v.tag = WEIR_JSON;
    weir_row_set(r, column, v);
}

const weir_value *weir_row_get(const weir_row *r, const char *column) {
    int c = column_of(r, column);
    return c < 0 ? NULL : &r->values[c];
}

bool weir_row_f64(const weir_row *r, const char *column, double *out) {
    const weir_value *v = weir_row_get(r, column);
    if (!v) return false;
    if (v->tag == WEIR_FLOAT) *out = v->val.float_;
    else if (v->tag == WEIR_INTEGER) *out = (double)v->val.integer;
    else return false;
    return true;
}

bool weir_row_i64(const weir_row *r, const char *column, int64_t *out) {
    const weir_value *v = weir_row_get(r, column);
    if (!v || v->tag != WEIR_INTEGER) return false;
    *out = v->val.integer;
    return true;
}

bool weir_row_bool(const weir_row *r, const char *column, bool *out) {
    const weir_value *v = weir_row_get(r, column);
    if (!v || v->tag != WEIR_BOOLEAN) return false;
    *out = v->val.boolean;
    return true;
}

bool weir_row_text(const weir_row *r, const char *column, weir_str *out) {
    const weir_value *v = weir_row_get(r, column);
    if (!v || v->tag != WEIR_TEXT) return false;
    *out = v->val.text;
    return true;
}

/* ---------------------------------------------------------------------------------------
 * Context
 * ------------------------------------------------------------------------------------- */

struct weir_ctx {
    uint32_t input;
    uint32_t origin;
};

uint32_t weir_ctx_input(const weir_ctx *ctx) { return ctx->input; }

weir_error *weir_get(weir_ctx *ctx, const char *table, const weir_value *key, size_t nkey, weir_row **out) {
    (void)ctx;
    *out = NULL;
    const weir_table_schema *ts;
    int t = find_table(table, &ts);
    if (t < 0) return undeclared_table(table);
    if (nkey != ts->nprimary_key)
        return weir_error_new("table `%s` has a primary key of %zu column(s), got %zu", table, ts->nprimary_key, nkey);
    weir_value *values;
    size_t n;
    if (!weir_backend_get((uint16_t)t, key, nkey, &values, &n)) return NULL;
    weir_row *r = weir_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->table_name = weir_str_dup(weir_cstr(table));
    r->table = t;
    r->schema = ts;
    r->n = ts->ncolumns;
    if (n == r->n) {
        r->values = values;
    } else { /* a host that disagrees with its own schema: keep what fits */
        r->values = weir_xmalloc(sizeof(weir_value) * (r->n ? r->n : 1));
        for (size_t i = 0; i < r->n; i++) r->values[i] = i < n ? values[i] : weir_null();
        for (size_t i = r->n; i < n; i++) value_clear(&values[i]);
        free(values);
    }
    *out = r;
    return NULL;
}

weir_error *weir_get_text(weir_ctx *ctx, const char *table, const char *key, weir_row **out) {
    weir_value k = weir_text(key);
    return weir_get(ctx, table, &k, 1, out);
}

weir_error *weir_upsert(weir_ctx *ctx, const weir_row *row) {
    if (row->error) return weir_error_new("%s", row->error);
    weir_backend_upsert(ctx->input, (uint16_t)row->table, row->values, row->n);
    return NULL;
}

weir_error *weir_delete(weir_ctx *ctx, const char *table, const weir_value *key, size_t nkey) {
    const weir_table_schema *ts;
    int t = find_table(table, &ts);
    if (t < 0) return undeclared_table(table);
    if (nkey != ts->nprimary_key)
        return weir_error_new("table `%s` has a primary key of %zu column(s), got %zu", table, ts->nprimary_key, nkey);
    weir_value small[16];
    weir_value *values = ts->ncolumns <= 16 ? small : weir_xmalloc(sizeof(weir_value) * ts->ncolumns);
    for (size_t i = 0; i < ts->ncolumns; i++) values[i] = weir_null();
    for (size_t k = 0; k < nkey; k++) values[ts->pk_pos[k]] = key[k];
    weir_backend_delete(ctx->input, (uint16_t)t, values, ts->ncolumns);
    if (values != small) free(values);
    return NULL;
}

weir_error *weir_emitn(weir_ctx *ctx, const char *topic, weir_str key, const char *event_type, const char *data,
                       size_t data_len) {
    const weir_schema *s = weir_schema_get();
    size_t i = 0;
    while (i < s->ntopics && strcmp(s->topics[i], topic) != 0) i++;
    if (i == s->ntopics) {
        char *allowed = join(s->topics, s->ntopics);
        weir_error *e = weir_error_new("topic `%s` is not in the pipeline's [sink.topics] allowed list (%s)", topic, allowed);
        free(allowed);
        return e;
    }
    weir_str d = {data, data_len};
    weir_backend_emit(ctx->input, (uint16_t)i, key, weir_cstr(event_type), d);
    return NULL;
}

weir_error *weir_emit(weir_ctx *ctx, const char *topic, const char *key, const char *event_type, const char *data,
                      size_t data_len) {
    return weir_emitn(ctx, topic, weir_cstr(key), event_type, data, data_len);
}

void weir_record_info(weir_ctx *ctx, weir_record_meta *out) { weir_backend_record_info(ctx->origin, out); }

void weir_record_meta_free(weir_record_meta *m) {
    free(m->topic);
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    memset(m, 0, sizeof *m);
}

void weir_log(weir_ctx *ctx, weir_level level, const char *fmt, ...) {
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    weir_backend_log((uint8_t)level, weir_cstr(msg));
    free(msg);
}

/* ---------------------------------------------------------------------------------------
 * Events and the batch loop
 * ------------------------------------------------------------------------------------- */

bool weir_event_is(const weir_event *event, const char *type) { return strcmp(event->event_type, type) == 0; }

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

char *weir_rfc3339_from_ms(int64_t ms, char buf[WEIR_RFC3339_LEN]) {
    int64_t secs = floor_div(ms, 1000);
    int64_t millis = ms - secs * 1000;
    int64_t days = floor_div(secs, 86400);
    int64_t rem = secs - days * 86400;
    /* Howard Hinnant's civil_from_days, as the Rust SDK. */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    /* Narrow types keep the compiler's length analysis happy; all are in range. */
    int mo = (int)m, da = (int)d, hh = (int)(rem / 3600), mi = (int)(rem % 3600 / 60), ss = (int)(rem % 60);
    unsigned short ml = (unsigned short)millis;
    if (y >= 0 && y <= 9999) {
        /* The common case by hand: snprintf costs more than the rest of a small plugin's
         * event in Wasm (about 0.7 us of it per call). */
        int yy = (int)y;
        const int parts[5] = {mo, da, hh, mi, ss};
        static const char seps[5] = {'-', 'T', ':', ':', '.'};
        char *p = buf;
        p[0] = (char)('0' + yy / 1000);
        p[1] = (char)('0' + yy / 100 % 10);
        p[2] = (char)('0' + yy / 10 % 10);
        p[3] = (char)('0' + yy % 10);
        p[4] = '-';
        p += 5;
        for (int i = 0; i < 5; i++) {
            p[0] = (char)('0' + parts[i] / 10);
            p[1] = (char)('0' + parts[i] % 10);
            p[2] = seps[i];
            p += 3;
        }
        p[0] = (char)('0' + ml / 100);
        p[1] = (char)('0' + ml / 10 % 10);
        p[2] = (char)('0' + ml % 10);
        p[3] = 'Z';
        p[4] = 0;
        return buf;
    }
    snprintf(buf, WEIR_RFC3339_LEN, "%04lld-%02d-%02dT%02d:%02d:%02d.%03huZ", (long long)y, mo % 100, da % 100,
             hh % 100, mi % 100, ss % 100, (unsigned short)(ml % 1000));
    return buf;
}

char *weir_event_timestamp_rfc3339(const weir_event *event, char buf[WEIR_RFC3339_LEN]) {
    return weir_rfc3339_from_ms(event->timestamp_ms, buf);
}

#define ROW 64
#define ABSENT 0xFFFFFFFFu

static uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t i64_at(const uint8_t *p) {
    return (int64_t)((uint64_t)u32_at(p) | (uint64_t)u32_at(p + 4) << 32);
}

/* The span at `at` of an index row; false when it lies outside `bytes`. */
static bool span(const uint8_t *bytes, size_t nbytes, const uint8_t *row, size_t at, weir_str *out) {
    uint32_t start = u32_at(row + at), len = u32_at(row + at + 4);
    if (len == ABSENT) {
        out->ptr = NULL;
        out->len = 0;
        return true;
    }
    if ((uint64_t)start + len > nbytes) return false;
    out->ptr = bytes ? (const char *)bytes + start : "";
    out->len = len;
    return true;
}

size_t weir_run_batch(const uint8_t *bytes, size_t nbytes, const weir_str *event_types, size_t ntypes,
                      const uint8_t *index, size_t nindex, weir_failure **failures) {
    size_t nevents = nindex / ROW;
    size_t nfail = 0, capfail = 0;
    weir_failure *fails = NULL;

    /* NUL-terminated copies of the event-type names, once per batch. */
    char **types = weir_xmalloc(sizeof(char *) * (ntypes ? ntypes : 1));
    for (size_t i = 0; i < ntypes; i++) {
        types[i] = weir_str_dup(event_types[i]);
        if (!types[i]) types[i] = weir_str_dup(weir_cstr(""));
    }

    for (size_t k = 0; k < nevents; k++) {
        const uint8_t *row = index + k * ROW;
        weir_event ev;
        weir_error *err = NULL;
        uint16_t et = (uint16_t)(row[20] | row[21] << 8);
        ev.index = (uint32_t)k;
        ev.timestamp_ms = i64_at(row + 8);
        ev.version = u32_at(row + 16);
        ev.origin = u32_at(row + 56);
        if (et >= ntypes || !span(bytes, nbytes, row, 0, &ev.id) || !span(bytes, nbytes, row, 24, &ev.aggregate_id) ||
            !span(bytes, nbytes, row, 32, &ev.correlation_id) || !span(bytes, nbytes, row, 40, &ev.key) ||
            !span(bytes, nbytes, row, 48, &ev.data)) {
            err = weir_error_new("malformed batch index at event %zu", k);
        } else {
            ev.event_type = types[et];
            if (!ev.data.ptr) ev.data = weir_cstr("null");
            weir_ctx ctx = {(uint32_t)k, ev.origin};
            err = weir_handle(&ev, &ctx);
        }
        weir_backend_event_done((uint32_t)k, err != NULL);
        if (err) {
            if (nfail == capfail) {
                capfail = capfail ? capfail * 2 : 8;
                fails = weir_xrealloc(fails, sizeof *fails * capfail);
            }
            fails[nfail].index = (uint32_t)k;
            fails[nfail].error = err;
            nfail++;
        }
    }
    for (size_t i = 0; i < ntypes; i++) free(types[i]);
    free(types);
    *failures = fails;
    return nfail;
}
