/*
 * Test a C plugin natively (host gcc/clang, no Wasm): link the plugin with src/weir.c,
 * src/weir_json.c and testing/weir_testing.c (instead of src/weir_wasm.c). The fake host
 * keeps the real host's rules: one event's failure drops that event's writes and emits;
 * later events see earlier events' writes. Events go through the real packed batch index.
 */
#ifndef WEIR_TESTING_H
#define WEIR_TESTING_H

#include "weir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Forgets every table, topic, row, emitted event and log line. */
void weir_test_reset(void);
/* Declares a table (as [[sink.read_model.tables]]): NULL-terminated name lists. */
void weir_test_table(const char *name, const char *const *columns, const char *const *primary_key);
/* Allows a topic (as [sink.topics] allowed). */
void weir_test_topic(const char *name);

/* An input event. NULL strings are absent; `version` 0 means 1. */
typedef struct weir_test_event {
    const char *event_type;
    const char *data; /* raw JSON; NULL for absent */
    int64_t timestamp_ms;
    const char *id;
    const char *key;
    const char *aggregate_id;
    const char *correlation_id;
    uint32_t version;
} weir_test_event;

/* Runs the events as one batch. Returns one entry per event: NULL for success or the
 * failure's message (malloc'd; weir_test_results_free). */
char **weir_test_run(const weir_test_event *events, size_t n);
void weir_test_results_free(char **results, size_t n);

/* A committed row by a one-column text key: its values in declared column order, or NULL. */
const weir_value *weir_test_row(const char *table, const char *key);
/* One column of that row, or NULL. */
const weir_value *weir_test_value(const char *table, const char *key, const char *column);
size_t weir_test_nrows(const char *table);

typedef struct weir_test_emitted {
    char *topic;
    char *key; /* NULL: no key */
    char *event_type;
    char *data; /* raw JSON, NUL-terminated */
} weir_test_emitted;

/* Events emitted by events that succeeded, in order. */
size_t weir_test_nemitted(void);
const weir_test_emitted *weir_test_emitted_at(size_t i);

/* Log lines, in order. */
size_t weir_test_nlogs(void);
const char *weir_test_log_at(size_t i, int *level);

/* How many times the SDK asked for the schema (it should, once per instance). */
size_t weir_test_schema_loads(void);

#ifdef __cplusplus
}
#endif

#endif /* WEIR_TESTING_H */
