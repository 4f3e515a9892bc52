/*
 * A few assertion macros for native tests of C plugins. Each TEST prints its outcome; the
 * runner ends with "N passed, N failed" and a non-zero exit on a failure.
 */
#ifndef WEIR_CHECK_H
#define WEIR_CHECK_H

#include <stdio.h>
#include <string.h>

static int weir_check_failed_now;
static int weir_check_passed, weir_check_failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            weir_check_failed_now = 1;                                                 \
        }                                                                              \
    } while (0)

#define CHECK_STR(got, want)                                                                     \
    do {                                                                                         \
        const char *g_ = (got), *w_ = (want);                                                    \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                                 \
            fprintf(stderr, "  %s:%d: %s\n    got:  %s\n    want: %s\n", __FILE__, __LINE__, #got, \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                     \
            weir_check_failed_now = 1;                                                           \
        }                                                                                        \
    } while (0)

#define CHECK_CONTAINS(got, part)                                                                   \
    do {                                                                                            \
        const char *g_ = (got), *p_ = (part);                                                       \
        if (!g_ || !strstr(g_, p_)) {                                                               \
            fprintf(stderr, "  %s:%d: %s = \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, #got, \
                    g_ ? g_ : "(null)", p_);                                                        \
            weir_check_failed_now = 1;                                                              \
        }                                                                                           \
    } while (0)

#define RUN_TEST(fn)                                          \
    do {                                                      \
        weir_check_failed_now = 0;                            \
        fn();                                                 \
        if (weir_check_failed_now) {                          \
            weir_check_failed++;                              \
            printf("test %s ... FAILED\n", #fn);              \
        } else {                                              \
            weir_check_passed++;                              \
            printf("test %s ... ok\n", #fn);                  \
        }                                                     \
    } while (0)

#define CHECK_SUMMARY()                                                          \
    (printf("%d passed, %d failed\n", weir_check_passed, weir_check_failed), \
     weir_check_failed ? 1 : 0)

#endif /* WEIR_CHECK_H */
