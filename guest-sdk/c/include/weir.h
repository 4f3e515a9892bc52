/*
 * weir C guest SDK: write a projection plugin in C.
 *
 * The plugin defines one function,
 *
 *     weir_error *weir_handle(const weir_event *event, weir_ctx *ctx);
 *
 * which the SDK calls once per event of each batch, in order. It returns NULL on success,
 * or an error (weir_error_new) that fails that event alone: its writes and emits are
 * dropped by the host, the rest of the batch commits.
 *
 * The SDK hides the contract's packed event index and the table/column/topic positions:
 * tables, columns and topics are named, and the names are resolved against the pipeline's
 * declarations, asked from the host once per instance.
 *
 * Ownership, in short: everything the SDK hands out with `_new`, `_dup` or an `out` pointer
 * is the caller's to free (weir_row_free, weir_error_free, free); everything `const` in a
 * weir_event belongs to the batch and lives until weir_handle returns.
 */
#ifndef WEIR_H
#define WEIR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Bytes and text
 * ------------------------------------------------------------------------------------- */

/* A borrowed span of bytes (UTF-8 text or raw JSON). `ptr == NULL` means absent. Not
 * NUL-terminated. */
typedef struct weir_str {
    const char *ptr;
    size_t len;
} weir_str;

/* A span over a NUL-terminated C string (NULL stays absent). */
weir_str weir_cstr(const char *s);
/* Whether `s` is present and equal to the C string `c`. */
bool weir_str_eq(weir_str s, const char *c);
/* A malloc'd, NUL-terminated copy (NULL when absent). */
char *weir_str_dup(weir_str s);

/* ---------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------- */

typedef struct weir_error {
    char *message;  /* malloc'd, NUL-terminated */
    bool retryable; /* the host may retry a retryable error */
} weir_error;

/* A (non-retryable) error with a printf-style message. Never returns NULL. */
weir_error *weir_error_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
weir_error *weir_error_newv(const char *fmt, va_list ap);
/* A retryable error (a transient condition: the host may run the event again). */
weir_error *weir_error_retryable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void weir_error_free(weir_error *e);
/* Puts `prefix` before the message of `e` and returns `e` (NULL stays NULL):
 * `WEIR_TRY(weir_error_prefix(decode(data, &x), "invalid event data: "));` */
weir_error *weir_error_prefix(weir_error *e, const char *prefix);

/* Propagates an error: `WEIR_TRY(weir_upsert(ctx, row));` returns it from the caller. */
#define WEIR_TRY(expr)                      \
    do {                                    \
        weir_error *weir_try_err_ = (expr); \
        if (weir_try_err_) return weir_try_err_; \
    } while (0)

/* ---------------------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------------------- */

/* One input event: the envelope's fields, borrowed from the batch. */
typedef struct weir_event {
    const char *event_type;  /* the envelope's eventType, NUL-terminated */
    weir_str id;             /* eventId */
    int64_t timestamp_ms;    /* timestamp, ms since the Unix epoch (0 when absent) */
    uint32_t version;        /* schema version (1 when absent) */
    weir_str aggregate_id;   /* aggregateId */
    weir_str correlation_id; /* correlationId */
    weir_str key;            /* the Kafka record key */
    weir_str data;           /* the envelope's data, raw JSON ("null" when absent) */
    uint32_t origin;         /* handle for weir_record_info */
    uint32_t index;          /* position in the batch */
} weir_event;

/* Whether the event's type is `type`. */
bool weir_event_is(const weir_event *event, const char *type);

/* Room for "YYYY-MM-DDTHH:MM:SS.mmmZ" (and years up to 6 digits) with its NUL. */
#define WEIR_RFC3339_LEN 40
/* Formats ms since the epoch as RFC 3339 in UTC with millisecond precision,
 * e.g. "2026-03-30T09:00:00.000Z" (as the Rust SDK's timestamp_rfc3339). Returns `buf`. */
char *weir_rfc3339_from_ms(int64_t ms, char buf[WEIR_RFC3339_LEN]);
/* The event's timestamp as RFC 3339 text. Returns `buf`. */
char *weir_event_timestamp_rfc3339(const weir_event *event, char buf[WEIR_RFC3339_LEN]);

/* ---------------------------------------------------------------------------------------
 * Values and rows
 * ------------------------------------------------------------------------------------- */

typedef enum weir_value_tag {
    WEIR_NULL = 0,
    WEIR_BOOLEAN = 1,
    WEIR_INTEGER = 2,
    WEIR_FLOAT = 3,
    WEIR_TEXT = 4, /* text and timestamptz columns (timestamps as RFC 3339 text) */
    WEIR_JSON = 5, /* raw JSON text */
} weir_value_tag;

/* One column value. In a row the text/json bytes are owned by the row (malloc'd); as a
 * key passed to weir_get they are borrowed. */
typedef struct weir_value {
    uint8_t tag; /* weir_value_tag */
    union {
        bool boolean;
        int64_t integer;
        double float_;
        weir_str text; /* WEIR_TEXT and WEIR_JSON */
    } val;
} weir_value;

static inline weir_value weir_null(void) { weir_value v; v.tag = WEIR_NULL; v.val.integer = 0; return v; }
static inline weir_value weir_bool(bool b) { weir_value v; v.tag = WEIR_BOOLEAN; v.val.boolean = b; return v; }
static inline weir_value weir_int(int64_t i) { weir_value v; v.tag = WEIR_INTEGER; v.val.integer = i; return v; }
static inline weir_value weir_float(double f) { weir_value v; v.tag = WEIR_FLOAT; v.val.float_ = f; return v; }
static inline weir_value weir_textn(const char *s, size_t n) { weir_value v; v.tag = WEIR_TEXT; v.val.text.ptr = s; v.val.text.len = n; return v; }
weir_value weir_text(const char *s); /* borrowed C string */

/* A read-model row: values by column name, in the declared order underneath. Columns not
 * set are NULL. A row of an undeclared table, or a set of an undeclared column, makes the
 * row carry an error that weir_upsert reports. */
typedef struct weir_row weir_row;

/* An empty row of `table`. Never NULL (aborts when out of memory). */
weir_row *weir_row_new(const char *table);
void weir_row_free(weir_row *row);
const char *weir_row_table(const weir_row *row);

/* Setters copy their argument; each replaces an earlier value. */
void weir_row_set_null(weir_row *row, const char *column);
void weir_row_set_bool(weir_row *row, const char *column, bool v);
void weir_row_set_i64(weir_row *row, const char *column, int64_t v);
void weir_row_set_f64(weir_row *row, const char *column, double v);
void weir_row_set_text(weir_row *row, const char *column, const char *v); /* NULL sets NULL */
void weir_row_set_textn(weir_row *row, const char *column, const char *v, size_t len);
void weir_row_set_json(weir_row *row, const char *column, const char *json, size_t len);
void weir_row_set(weir_row *row, const char *column, weir_value v);

/* The value of a column (NULL when the table has no such column). */
const weir_value *weir_row_get(const weir_row *row, const char *column);
/* Typed getters: false when the column is missing or of another type. f64 accepts
 * integers too (as the Rust SDK's Row::f64). */
bool weir_row_f64(const weir_row *row, const char *column, double *out);
bool weir_row_i64(const weir_row *row, const char *column, int64_t *out);
bool weir_row_bool(const weir_row *row, const char *column, bool *out);
/* A text column as a borrowed span (valid until the row changes or is freed). */
bool weir_row_text(const weir_row *row, const char *column, weir_str *out);

/* ---------------------------------------------------------------------------------------
 * The context: read model, topics, metadata, log
 * ------------------------------------------------------------------------------------- */

typedef struct weir_ctx weir_ctx;

/* The row of `table` whose primary key is `key` (one value per key column, in key order),
 * as this batch's earlier writes left it. `*out` is NULL when there is no such row;
 * otherwise it is the caller's (weir_row_free). */
weir_error *weir_get(weir_ctx *ctx, const char *table, const weir_value *key, size_t nkey,
                     weir_row **out);
/* weir_get for a one-column text key. */
weir_error *weir_get_text(weir_ctx *ctx, const char *table, const char *key, weir_row **out);

/* Inserts `row`, or replaces the row with the same primary key. Does not take the row. */
weir_error *weir_upsert(weir_ctx *ctx, const weir_row *row);
/* Deletes the row of `table` whose primary key is `key`. */
weir_error *weir_delete(weir_ctx *ctx, const char *table, const weir_value *key, size_t nkey);

/* Emits an event to `topic` (which the pipeline must allow) with `data` as raw JSON;
 * `key` (NULL for none) becomes the record key. The host wraps it in the envelope. */
weir_error *weir_emit(weir_ctx *ctx, const char *topic, const char *key, const char *event_type,
                      const char *data, size_t data_len);
weir_error *weir_emitn(weir_ctx *ctx, const char *topic, weir_str key, const char *event_type,
                       const char *data, size_t data_len);

typedef struct weir_header {
    char *name;
    uint8_t *value;
    size_t value_len;
} weir_header;

typedef struct weir_record_meta {
    char *topic;
    int32_t partition;
    int64_t offset;
    weir_header *headers;
    size_t nheaders;
} weir_record_meta;

/* Kafka metadata of the current event; free with weir_record_meta_free. */
void weir_record_info(weir_ctx *ctx, weir_record_meta *out);
void weir_record_meta_free(weir_record_meta *meta);

typedef enum weir_level {
    WEIR_LOG_ERROR = 0,
    WEIR_LOG_WARN = 1,
    WEIR_LOG_INFO = 2,
    WEIR_LOG_DEBUG = 3,
    WEIR_LOG_TRACE = 4,
} weir_level;

void weir_log(weir_ctx *ctx, weir_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The current event's position in its batch. */
uint32_t weir_ctx_input(const weir_ctx *ctx);

/* ---------------------------------------------------------------------------------------
 * JSON: a small validating reader (enough to decode event data) and a writer (serde_json's
 * output format, so that emitted data matches Rust plugins byte for byte).
 * ------------------------------------------------------------------------------------- */

/* The raw text of one JSON value, trimmed. */
typedef weir_str weir_json;

typedef enum weir_json_kind {
    WEIR_JSON_INVALID = 0,
    WEIR_JSON_NULL_KIND,
    WEIR_JSON_BOOL_KIND,
    WEIR_JSON_NUMBER_KIND,
    WEIR_JSON_STRING_KIND,
    WEIR_JSON_ARRAY_KIND,
    WEIR_JSON_OBJECT_KIND,
} weir_json_kind;

/* Validates `text` as one JSON value (RFC 8259, nesting up to 128) and returns it. The
 * other readers assume a value that came from here. */
weir_error *weir_json_parse(weir_str text, weir_json *out);
weir_json_kind weir_json_kind_of(weir_json v);
/* "null", "a boolean", "a number", "a string", "an array", "an object". */
const char *weir_json_kind_name(weir_json_kind kind);

/* Object member lookup: the number of members named `key` (0, 1, or 2 for "more than
 * one"); `*out` is the first. 0 when `obj` is not an object. */
int weir_json_get(weir_json obj, const char *key, weir_json *out);

/* Iteration over an object's members or an array's elements. */
typedef struct weir_json_iter {
    const char *p, *end;
    bool started;
} weir_json_iter;
void weir_json_iter_init(weir_json_iter *it, weir_json v);
bool weir_json_next_member(weir_json_iter *it, weir_json *key, weir_json *value);
bool weir_json_next_element(weir_json_iter *it, weir_json *value);

/* Scalars. False when `v` is of another kind (or out of range). */
bool weir_json_as_bool(weir_json v, bool *out);
bool weir_json_as_f64(weir_json v, double *out);
bool weir_json_as_i64(weir_json v, int64_t *out); /* integers without fraction/exponent */
/* A string, unescaped, malloc'd and NUL-terminated (`len` may be NULL). */
bool weir_json_as_string(weir_json v, char **out, size_t *len);
/* A number as serde_json's Number displays it: integers as written ("-7"), other numbers
 * as the shortest f64 text ("12.5", "100.0", "1e+21"). `buf` of at least 32 bytes. */
bool weir_json_number_text(weir_json v, char *buf, size_t cap);

/* Field readers for decoding `data` objects, with serde-like error messages. `obj` must be
 * an object (weir_json_expect_object). Strings they return are C strings: one holding a
 * NUL character ("\u0000") is an error (use weir_json_get and weir_json_as_string). */
weir_error *weir_json_expect_object(weir_json v, const char *what);
/* A required number. */
weir_error *weir_json_field_f64(weir_json obj, const char *name, double *out);
/* A number that defaults to `dflt` when the field is missing. */
weir_error *weir_json_field_f64_or(weir_json obj, const char *name, double dflt, double *out);
/* An optional string: `*out` NULL when missing or null; malloc'd otherwise. */
weir_error *weir_json_field_opt_string(weir_json obj, const char *name, char **out);
/* A required id that may be a string or a number (numbers become their text, as serde_json
 * displays them); `alias` (or NULL) is another accepted name. `*out` malloc'd. */
weir_error *weir_json_field_id(weir_json obj, const char *name, const char *alias, char **out);

/* Formats a finite double as serde_json 1.0.154 does: "0.3", "150.0", "0.00001", "1e+16",
 * "-1.5e+300", "1.5e-7".
 * Returns the length; `buf` of at least 32 bytes. Non-finite values give "null". */
size_t weir_fmt_f64(double v, char buf[32]);

/* A JSON writer into a growing malloc'd buffer. */
typedef struct weir_json_writer {
    char *buf;
    size_t len, cap;
    int depth;
    bool after_key;
    uint8_t has_item[64];
} weir_json_writer;

void weir_jw_init(weir_json_writer *w);
void weir_jw_free(weir_json_writer *w);
void weir_jw_object_begin(weir_json_writer *w);
void weir_jw_object_end(weir_json_writer *w);
void weir_jw_array_begin(weir_json_writer *w);
void weir_jw_array_end(weir_json_writer *w);
void weir_jw_key(weir_json_writer *w, const char *key);
void weir_jw_string(weir_json_writer *w, const char *s); /* NULL writes null */
void weir_jw_stringn(weir_json_writer *w, const char *s, size_t len);
void weir_jw_f64(weir_json_writer *w, double v); /* non-finite writes null */
void weir_jw_i64(weir_json_writer *w, int64_t v);
void weir_jw_bool(weir_json_writer *w, bool v);
void weir_jw_null(weir_json_writer *w);
void weir_jw_raw(weir_json_writer *w, const char *json, size_t len); /* a JSON value as is */

/* ---------------------------------------------------------------------------------------
 * The plugin's entry point
 * ------------------------------------------------------------------------------------- */

/* Defined by the plugin: handles one event. NULL on success. */
weir_error *weir_handle(const weir_event *event, weir_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* WEIR_H */
