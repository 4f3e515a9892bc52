/*
 * The seeds' CQRS read model in C, the twin of plugins/order-summary (Rust): `OrderPlaced`
 * (or `OrderCreated`) inserts an `order_summaries` row with status `pending`;
 * `OrderShipped` sets `shipped` and `shipped_at` on an existing row.
 *
 * `data` is read as the Rust twin's serde structs read it: an object (or serde's sequence
 * form, the fields in declaration order), unknown fields ignored, duplicates refused,
 * `total` or its alias `totalAmount`, `userId` a string or null (or missing), `items` an
 * array of anything (or missing). Errors are serde_json's texts, "at line L column C"
 * included, so that dead letters match the twin's too.
 *
 * Written for speed within the SDK: `data` is validated once (weir_json_parse, as serde
 * does) and then walked once; strings without escapes go to the row as spans of the batch
 * (the row copies them once), not as unescaped copies.
 *
 * Build: plugins/order-summary-c/build.sh (target/plugins/order-summary-c.wasm).
 * Native test: plugins/order-summary-c/test.sh. Against the Rust twin, through weir:
 * plugins/order-summary-c/equivalence.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir.h"

#define TABLE "order_summaries"

/* ---------------------------------------------------------------------------------------
 * serde_json's errors
 * ------------------------------------------------------------------------------------- */

/* Appends serde_json's position: `p` is where its reader stood (bytes consumed) in the
 * data text starting at `base`. */
static weir_error *at(const char *base, const char *p, weir_error *e) {
    size_t i = (size_t)(p - base), start = i, line = 1;
    while (start > 0 && base[start - 1] != '\n') start--;
    for (size_t k = 0; k < start; k++) line += base[k] == '\n';
    weir_error *positioned = weir_error_new("%s at line %zu column %zu", e->message, line, i - start);
    weir_error_free(e);
    return positioned;
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* A string as Rust's `{:?}` shows it (serde's Unexpected::Str): quoted, with \0 \t \r \n
 * \\ \" and control characters (C0, DEL, C1) escaped. Malloc'd. */
static char *rust_debug(weir_json v) {
    char *s;
    size_t n;
    weir_json_as_string(v, &s, &n);
    char *out = malloc(n * 7 + 3), *o = out;
    if (!out) abort();
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case 0: *o++ = '\\'; *o++ = '0'; continue;
        case '\t': *o++ = '\\'; *o++ = 't'; continue;
        case '\r': *o++ = '\\'; *o++ = 'r'; continue;
        case '\n': *o++ = '\\'; *o++ = 'n'; continue;
        case '\\': *o++ = '\\'; *o++ = '\\'; continue;
        case '"': *o++ = '\\'; *o++ = '"'; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\u{%x}", c);
        } else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
            o += sprintf(o, "\\u{%x}", (unsigned char)s[++i]); /* U+0080..U+009F */
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = 0;
    free(s);
    return out;
}

/* serde_json's "invalid type: <unexpected>, expected <what>", where its reader stops: past
 * a scalar, before an array or object. */
static weir_error *invalid_type(const char *base, weir_json v, const char *expected) {
    weir_error *e;
    const char *end = v.ptr + v.len;
    switch (weir_json_kind_of(v)) {
    case WEIR_JSON_NULL_KIND: e = weir_error_new("invalid type: null, expected %s", expected); break;
    case WEIR_JSON_BOOL_KIND: e = weir_error_new("invalid type: boolean `%.*s`, expected %s", (int)v.len, v.ptr, expected); break;
    case WEIR_JSON_STRING_KIND: {
        char *shown = rust_debug(v);
        e = weir_error_new("invalid type: string %s, expected %s", shown, expected);
        free(shown);
        break;
    }
    case WEIR_JSON_ARRAY_KIND: e = weir_error_new("invalid type: sequence, expected %s", expected); end = v.ptr; break;
    case WEIR_JSON_OBJECT_KIND: e = weir_error_new("invalid type: map, expected %s", expected); end = v.ptr; break;
    default: {
        /* serde_json's classes: integers (u64, i64) as written, other numbers as f64 in its
         * float format, which always has a `.` or an exponent. */
        char shown[32];
        if (!weir_json_number_text(v, shown, sizeof shown)) {
            e = weir_error_new("number out of range");
            break;
        }
        const char *kind = strpbrk(shown, ".e") ? "floating point" : "integer";
        e = weir_error_new("invalid type: %s `%s`, expected %s", kind, shown, expected);
        break;
    }
    }
    return at(base, end, e);
}

/* ---------------------------------------------------------------------------------------
 * Reading `data`
 * ------------------------------------------------------------------------------------- */

/* A JSON string's text: a span of the batch when it has no escapes, else unescaped into
 * `owned` (malloc'd). */
typedef struct {
    const char *ptr;
    size_t len;
    char *owned;
} text;

/* String: a string. */
static weir_error *read_string(const char *base, weir_json v, text *out) {
    if (v.ptr[0] != '"') return invalid_type(base, v, "a string");
    const char *body = v.ptr + 1;
    size_t n = v.len - 2;
    if (!memchr(body, '\\', n)) {
        out->ptr = body;
        out->len = n;
        return NULL;
    }
    weir_json_as_string(v, &out->owned, &out->len);
    out->ptr = out->owned;
    return NULL;
}

/* Option<String>: null (None; ptr stays NULL) or a string. */
static weir_error *read_opt_string(const char *base, weir_json v, text *out) {
    if (v.ptr[0] == 'n') return NULL;
    return read_string(base, v, out);
}

/* f64: any number. */
static weir_error *read_f64(const char *base, weir_json v, double *out) {
    if (weir_json_kind_of(v) != WEIR_JSON_NUMBER_KIND) return invalid_type(base, v, "f64");
    if (!weir_json_as_f64(v, out)) return at(base, v.ptr + v.len, weir_error_new("number out of range"));
    return NULL;
}

/* Vec<IgnoredAny>: an array, of which only the length counts. */
static weir_error *read_count(const char *base, weir_json v, int64_t *out) {
    if (v.ptr[0] != '[') return invalid_type(base, v, "a sequence");
    weir_json_iter it;
    weir_json item;
    int64_t n = 0;
    weir_json_iter_init(&it, v);
    while (weir_json_next_element(&it, &item)) n++;
    *out = n;
    return NULL;
}

/* The fields either struct reads, in OrderPlaced's declaration order. */
enum { F_ORDER_ID, F_USER_ID, F_ITEMS, F_TOTAL, F_OTHER };
static const char *const FIELD_NAMES[] = {"orderId", "userId", "items", "total"};

static int field_named(const char *k, size_t n) {
    switch (n) {
    case 7: return memcmp(k, "orderId", 7) == 0 ? F_ORDER_ID : F_OTHER;
    case 6: return memcmp(k, "userId", 6) == 0 ? F_USER_ID : F_OTHER;
    case 5: return memcmp(k, "items", 5) == 0 ? F_ITEMS : memcmp(k, "total", 5) == 0 ? F_TOTAL : F_OTHER;
    case 11: return memcmp(k, "totalAmount", 11) == 0 ? F_TOTAL : F_OTHER; /* serde(alias) */
    default: return F_OTHER;
    }
}

/* A member name (a string literal, quotes included) as a field; escaped names match. */
static int field_of(weir_json key) {
    const char *body = key.ptr + 1;
    size_t n = key.len - 2;
    if (!memchr(body, '\\', n)) return field_named(body, n);
    char *s;
    size_t len;
    weir_json_as_string(key, &s, &len);
    int f = field_named(s, len);
    free(s);
    return f;
}

/* Errors of serde's derived visitors: positioned once serde_json has closed the object or
 * array (`data` here), or past the duplicate key (and the whitespace after it). */
static weir_error *missing(const char *base, weir_json data, const char *field) {
    return at(base, data.ptr + data.len, weir_error_new("missing field `%s`", field));
}
static weir_error *duplicate(const char *base, weir_json key, const char *field) {
    return at(base, skip_ws(key.ptr + key.len), weir_error_new("duplicate field `%s`", field));
}
static weir_error *invalid_length(const char *base, weir_json data, size_t n, const char *expecting) {
    return at(base, data.ptr + data.len, weir_error_new("invalid length %zu, expected %s", n, expecting));
}
static weir_error *trailing(const char *base, weir_json extra) {
    return at(base, extra.ptr + 1, weir_error_new("trailing characters"));
}

/* Rust: struct OrderPlaced { order_id: String, user_id: Option<String>,
 * #[serde(default)] items: Vec<IgnoredAny>, #[serde(alias = "totalAmount")] total: f64 } */
typedef struct {
    text order_id;
    text user_id; /* ptr NULL: None */
    int64_t item_count;
    double total;
} order_placed;

static weir_error *placed_field(const char *base, int f, weir_json v, order_placed *o) {
    switch (f) {
    case F_ORDER_ID: return read_string(base, v, &o->order_id);
    case F_USER_ID: return read_opt_string(base, v, &o->user_id);
    case F_ITEMS: return read_count(base, v, &o->item_count);
    default: return read_f64(base, v, &o->total);
    }
}

static weir_error *decode_placed(const char *base, weir_json data, order_placed *o) {
    weir_json_iter it;
    weir_json key, v;
    weir_json_iter_init(&it, data);
    if (data.ptr[0] == '[') { /* all four, in order (items' default cannot apply before total) */
        size_t i = 0;
        while (weir_json_next_element(&it, &v)) {
            if (i == 4) return trailing(base, v);
            WEIR_TRY(placed_field(base, (int)i, v, o));
            i++;
        }
        if (i < 4) return invalid_length(base, data, i < 2 ? i : 3, "struct OrderPlaced with 4 elements");
        return NULL;
    }
    if (data.ptr[0] != '{') return invalid_type(base, data, "struct OrderPlaced");
    unsigned seen = 0;
    while (weir_json_next_member(&it, &key, &v)) {
        int f = field_of(key);
        if (f == F_OTHER) continue;
        if (seen & (1u << f)) return duplicate(base, key, FIELD_NAMES[f]);
        seen |= 1u << f;
        WEIR_TRY(placed_field(base, f, v, o));
    }
    if (!(seen & (1u << F_ORDER_ID))) return missing(base, data, "orderId");
    if (!(seen & (1u << F_TOTAL))) return missing(base, data, "total");
    return NULL;
}

/* Rust: struct OrderShipped { order_id: String } */
static weir_error *decode_shipped(const char *base, weir_json data, text *order_id) {
    weir_json_iter it;
    weir_json key, v;
    weir_json_iter_init(&it, data);
    if (data.ptr[0] == '[') {
        if (!weir_json_next_element(&it, &v)) return invalid_length(base, data, 0, "struct OrderShipped with 1 element");
        WEIR_TRY(read_string(base, v, order_id));
        if (weir_json_next_element(&it, &v)) return trailing(base, v);
        return NULL;
    }
    if (data.ptr[0] != '{') return invalid_type(base, data, "struct OrderShipped");
    bool seen = false;
    while (weir_json_next_member(&it, &key, &v)) {
        if (field_of(key) != F_ORDER_ID) continue;
        if (seen) return duplicate(base, key, "orderId");
        seen = true;
        WEIR_TRY(read_string(base, v, order_id));
    }
    if (!seen) return missing(base, data, "orderId");
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * The projection
 * ------------------------------------------------------------------------------------- */

static weir_error *on_placed(const weir_event *event, weir_ctx *ctx, weir_json data) {
    order_placed o = {0};
    weir_error *err = weir_error_prefix(decode_placed(event->data.ptr, data, &o), "invalid event data: ");
    if (!err) {
        char created_at[WEIR_RFC3339_LEN];
        weir_row *row = weir_row_new(TABLE);
        weir_row_set_textn(row, "id", o.order_id.ptr, o.order_id.len);
        if (o.user_id.ptr) weir_row_set_textn(row, "user_id", o.user_id.ptr, o.user_id.len);
        else weir_row_set_null(row, "user_id");
        weir_row_set_textn(row, "status", "pending", 7);
        weir_row_set_f64(row, "total", o.total);
        weir_row_set_i64(row, "item_count", o.item_count);
        weir_row_set_text(row, "created_at", weir_event_timestamp_rfc3339(event, created_at));
        err = weir_upsert(ctx, row);
        weir_row_free(row);
    }
    free(o.order_id.owned);
    free(o.user_id.owned);
    return err;
}

static weir_error *on_shipped(const weir_event *event, weir_ctx *ctx, weir_json data) {
    text id = {0};
    weir_row *row = NULL;
    weir_error *err = weir_error_prefix(decode_shipped(event->data.ptr, data, &id), "invalid event data: ");
    if (!err) {
        weir_value key = weir_textn(id.ptr, id.len);
        err = weir_get(ctx, TABLE, &key, 1, &row);
    }
    if (!err && !row) err = weir_error_new("OrderShipped for unknown order %.*s", (int)id.len, id.ptr);
    if (!err) {
        char shipped_at[WEIR_RFC3339_LEN];
        weir_row_set_textn(row, "status", "shipped", 7);
        weir_row_set_text(row, "shipped_at", weir_event_timestamp_rfc3339(event, shipped_at));
        err = weir_upsert(ctx, row);
    }
    weir_row_free(row);
    free(id.owned);
    return err;
}

/* Projects one order event into `order_summaries`. */
weir_error *weir_handle(const weir_event *event, weir_ctx *ctx) {
    const char *type = event->event_type;
    bool placed = strcmp(type, "OrderPlaced") == 0 || strcmp(type, "OrderCreated") == 0;
    /* The pipeline routes only these types; anything else is ignored on purpose. */
    if (!placed && strcmp(type, "OrderShipped") != 0) return NULL;
    weir_json data;
    WEIR_TRY(weir_error_prefix(weir_json_parse(event->data, &data), "invalid event data: "));
    return placed ? on_placed(event, ctx, data) : on_shipped(event, ctx, data);
}
