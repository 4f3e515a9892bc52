/*
 * The SDK's seam between its core (weir.c: batch loop, names -> positions, rows) and what
 * it runs against: the Wasm host's imports (weir_wasm.c, over the wit-bindgen bindings),
 * or an in-memory fake for native tests (testing/weir_testing.c). Not for plugins.
 */
#ifndef WEIR_BACKEND_H
#define WEIR_BACKEND_H

#include "weir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A table the pipeline declares. All strings NUL-terminated and malloc'd. */
typedef struct weir_table_schema {
    char *name;
    char **columns;
    size_t ncolumns;
    char **primary_key;
    size_t nprimary_key;
    size_t *pk_pos; /* filled by the core: each key column's position in `columns` */
} weir_table_schema;

typedef struct weir_schema {
    weir_table_schema *tables;
    size_t ntables;
    char **topics;
    size_t ntopics;
} weir_schema;

/* --- implemented by a backend ------------------------------------------------------ */

/* The pipeline's tables and topics; called once per instance, the result is kept. */
weir_schema *weir_backend_load_schema(void);
/* The row of `table` with primary key `key`. On true, `*values` is a malloc'd array of
 * `*nvalues` values whose text/json bytes are each malloc'd (the caller frees them). */
bool weir_backend_get(uint16_t table, const weir_value *key, size_t nkey, weir_value **values,
                      size_t *nvalues);
/* Values are borrowed for the call. */
void weir_backend_upsert(uint32_t input, uint16_t table, const weir_value *values, size_t n);
void weir_backend_delete(uint32_t input, uint16_t table, const weir_value *values, size_t n);
/* `key.ptr == NULL` means no key. All borrowed for the call. */
void weir_backend_emit(uint32_t input, uint16_t topic, weir_str key, weir_str event_type,
                       weir_str data);
void weir_backend_record_info(uint32_t origin, weir_record_meta *out);
void weir_backend_log(uint8_t level, weir_str message);
/* Called after each event of a batch with whether it failed (a test backend commits or
 * drops that event's writes here; the Wasm host tracks inputs itself). */
void weir_backend_event_done(uint32_t input, bool failed);

/* --- implemented by the core ------------------------------------------------------- */

typedef struct weir_failure {
    uint32_t index;
    weir_error *error; /* owned */
} weir_failure;

/* Runs weir_handle over a batch in the contract's packed layout (see weir.wit): `bytes`,
 * the event-type names, and the 64-byte-per-event `index`. Returns the number of failures;
 * `*failures` is a malloc'd array (NULL when none). */
size_t weir_run_batch(const uint8_t *bytes, size_t nbytes, const weir_str *event_types,
                      size_t ntypes, const uint8_t *index, size_t nindex,
                      weir_failure **failures);

/* The cached schema (loads it on first use). */
const weir_schema *weir_schema_get(void);
/* Forgets the cached schema (tests switch pipelines). */
void weir_schema_reset(void);

/* Aborts with a message (out of memory, broken invariants). */
_Noreturn void weir_fatal(const char *what);
void *weir_xmalloc(size_t n);
void *weir_xrealloc(void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* WEIR_BACKEND_H */
