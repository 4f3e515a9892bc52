/*
 * weir C guest SDK, Wasm side: the `projection` world's export and the host's imports,
 * over the bindings that `wit-bindgen c` 0.63 generates from guest-sdk/wit (projection.h).
 *
 * Memory rules of wit-bindgen's C bindings, kept here:
 *   - the export owns its arguments: the batch is freed once the batch has run;
 *   - the export's result is freed by the generated post-return function with free(), so
 *     the failure list and each message are their own malloc (an empty message is not freed
 *     there, so it must not be a malloc);
 *   - import arguments are borrowed for the call (rows and emits pass their buffers as is);
 *   - import results are the caller's, every list and string its own malloc (cabi_realloc),
 *     except that empty ones point at a dummy address and must not be freed.
 */
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "weir_backend.h"

/* A malloc'd NUL-terminated copy of a canonical-ABI string; frees the original. */
static char *take_string(projection_string_t *s) {
    char *out = weir_xmalloc(s->len + 1);
    if (s->len) memcpy(out, s->ptr, s->len);
    out[s->len] = 0;
    projection_string_free(s);
    return out;
}

static char **take_strings(projection_list_string_t *list, size_t *n) {
    char **out = weir_xmalloc(sizeof(char *) * (list->len ? list->len : 1));
    for (size_t i = 0; i < list->len; i++) out[i] = take_string(&list->ptr[i]);
    *n = list->len;
    if (list->len) free(list->ptr);
    list->ptr = NULL;
    list->len = 0;
    return out;
}

weir_schema *weir_backend_load_schema(void) {
    weir_plugin_context_list_table_schema_t tables;
    projection_list_string_t topics;
    weir_plugin_context_tables(&tables);
    weir_plugin_context_topics(&topics);
    weir_schema *s = weir_xmalloc(sizeof *s);
    s->ntables = tables.len;
    s->tables = weir_xmalloc(sizeof *s->tables * (tables.len ? tables.len : 1));
    for (size_t t = 0; t < tables.len; t++) {
        weir_table_schema *ts = &s->tables[t];
        memset(ts, 0, sizeof *ts);
        ts->name = take_string(&tables.ptr[t].name);
        ts->columns = take_strings(&tables.ptr[t].columns, &ts->ncolumns);
        ts->primary_key = take_strings(&tables.ptr[t].primary_key, &ts->nprimary_key);
    }
    if (tables.len) free(tables.ptr);
    s->topics = take_strings(&topics, &s->ntopics);
    return s;
}

static void to_wit(const weir_value *v, weir_plugin_types_value_t *out) {
    out->tag = v->tag;
    switch (v->tag) {
    case WEIR_BOOLEAN: out->val.boolean = v->val.boolean; break;
    case WEIR_INTEGER: out->val.integer = v->val.integer; break;
    case WEIR_FLOAT: out->val.float_ = v->val.float_; break;
    case WEIR_TEXT:
        out->val.text.ptr = (uint8_t *)v->val.text.ptr;
        out->val.text.len = v->val.text.len;
        break;
    case WEIR_JSON:
        out->val.json.ptr = (uint8_t *)v->val.text.ptr;
        out->val.json.len = v->val.text.len;
        break;
    default: out->tag = WEIR_NULL; break;
    }
}

/* Borrowed wit values for `n` SDK values: `small` when it fits, else malloc'd. */
static weir_plugin_types_value_t *wit_values(const weir_value *values, size_t n, weir_plugin_types_value_t *small,
                                             size_t nsmall) {
    weir_plugin_types_value_t *out = n <= nsmall ? small : weir_xmalloc(sizeof *out * n);
    for (size_t i = 0; i < n; i++) to_wit(&values[i], &out[i]);
    return out;
}

bool weir_backend_get(uint16_t table, const weir_value *key, size_t nkey, weir_value **values, size_t *nvalues) {
    weir_plugin_types_value_t small[8];
    weir_plugin_read_model_list_value_t k;
    k.ptr = wit_values(key, nkey, small, 8);
    k.len = nkey;
    weir_plugin_read_model_row_t row;
    bool found = weir_plugin_read_model_get(table, &k, &row);
    if (k.ptr != small) free(k.ptr);
    if (!found) return false;
    size_t n = row.values.len;
    weir_value *out = weir_xmalloc(sizeof *out * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        weir_plugin_types_value_t *w = &row.values.ptr[i];
        weir_value *v = &out[i];
        v->tag = w->tag;
        switch (w->tag) {
        case WEIR_PLUGIN_TYPES_VALUE_BOOLEAN: v->val.boolean = w->val.boolean; break;
        case WEIR_PLUGIN_TYPES_VALUE_INTEGER: v->val.integer = w->val.integer; break;
        case WEIR_PLUGIN_TYPES_VALUE_FLOAT: v->val.float_ = w->val.float_; break;
        case WEIR_PLUGIN_TYPES_VALUE_TEXT:
        case WEIR_PLUGIN_TYPES_VALUE_JSON: {
            /* Take the host's malloc'd bytes as they are; an empty one is a real "". */
            projection_string_t *s = &w->val.text; /* text and json share a layout */
            if (s->len) {
                v->val.text.ptr = (const char *)s->ptr;
            } else {
                char *empty = weir_xmalloc(1);
                empty[0] = 0;
                v->val.text.ptr = empty;
            }
            v->val.text.len = s->len;
            break;
        }
        default: v->tag = WEIR_NULL; v->val.integer = 0; break;
        }
    }
    if (n) free(row.values.ptr);
    *values = out;
    *nvalues = n;
    return true;
}

static void write_row(uint32_t input, uint16_t table, const weir_value *values, size_t n, bool is_delete) {
    weir_plugin_types_value_t small[32];
    weir_plugin_read_model_row_t row;
    row.table = table;
    row.values.ptr = wit_values(values, n, small, 32);
    row.values.len = n;
    if (is_delete) weir_plugin_read_model_delete(input, &row);
    else weir_plugin_read_model_upsert(input, &row);
    if (row.values.ptr != small) free(row.values.ptr);
}

void weir_backend_upsert(uint32_t input, uint16_t table, const weir_value *values, size_t n) {
    write_row(input, table, values, n, false);
}

void weir_backend_delete(uint32_t input, uint16_t table, const weir_value *values, size_t n) {
    write_row(input, table, values, n, true);
}

void weir_backend_emit(uint32_t input, uint16_t topic, weir_str key, weir_str event_type, weir_str data) {
    weir_plugin_topics_outgoing_t out;
    out.topic = topic;
    out.key.is_some = key.ptr != NULL;
    out.key.val.ptr = (uint8_t *)key.ptr;
    out.key.val.len = key.len;
    out.event_type.ptr = (uint8_t *)event_type.ptr;
    out.event_type.len = event_type.len;
    out.data.ptr = (uint8_t *)data.ptr;
    out.data.len = data.len;
    weir_plugin_topics_emit(input, &out);
}

void weir_backend_record_info(uint32_t origin, weir_record_meta *out) {
    weir_plugin_context_record_meta_t m;
    weir_plugin_context_record_info(origin, &m);
    memset(out, 0, sizeof *out);
    out->topic = take_string(&m.topic);
    out->partition = m.partition;
    out->offset = m.offset;
    out->nheaders = m.headers.len;
    out->headers = weir_xmalloc(sizeof *out->headers * (m.headers.len ? m.headers.len : 1));
    for (size_t i = 0; i < m.headers.len; i++) {
        projection_tuple2_string_list_u8_t *h = &m.headers.ptr[i];
        out->headers[i].name = take_string(&h->f0);
        out->headers[i].value_len = h->f1.len;
        out->headers[i].value = weir_xmalloc(h->f1.len ? h->f1.len : 1);
        if (h->f1.len) memcpy(out->headers[i].value, h->f1.ptr, h->f1.len);
        projection_list_u8_free(&h->f1);
    }
    if (m.headers.len) free(m.headers.ptr);
}

void weir_backend_log(uint8_t level, weir_str message) {
    projection_string_t s;
    s.ptr = (uint8_t *)message.ptr;
    s.len = message.len;
    weir_plugin_context_log(level, &s);
}

void weir_backend_event_done(uint32_t input, bool failed) {
    /* The host tracks writes by their input index itself. */
    (void)input;
    (void)failed;
}

void exports_projection_handle(projection_batch_t *batch, projection_list_failure_t *ret) {
    size_t ntypes = batch->event_types.len;
    weir_str small[16];
    weir_str *types = ntypes <= 16 ? small : weir_xmalloc(sizeof *types * ntypes);
    for (size_t i = 0; i < ntypes; i++) {
        types[i].ptr = (const char *)batch->event_types.ptr[i].ptr;
        types[i].len = batch->event_types.ptr[i].len;
    }
    weir_failure *fails;
    size_t n = weir_run_batch(batch->bytes.ptr, batch->bytes.len, types, ntypes, batch->index.ptr,
                              batch->index.len, &fails);
    if (types != small) free(types);
    weir_plugin_types_batch_free(batch);

    ret->ptr = NULL;
    ret->len = n;
    if (n == 0) return;
    ret->ptr = weir_xmalloc(sizeof *ret->ptr * n);
    for (size_t i = 0; i < n; i++) {
        projection_failure_t *f = &ret->ptr[i];
        weir_error *e = fails[i].error;
        size_t len = strlen(e->message);
        f->index = fails[i].index;
        f->error.retryable = e->retryable;
        f->error.message.len = len;
        if (len) {
            f->error.message.ptr = (uint8_t *)e->message; /* freed by the post-return */
        } else {
            f->error.message.ptr = NULL;
            free(e->message);
        }
        free(e);
    }
    free(fails);
}
