/* Tiny test harness shared by the C test programs: CHECK counts passes and failures and
 * prints each failure with its location; report() prints the closing
 * `N passed, M failed` line and gives the exit code. */
#ifndef METRICORE_TEST_CHECK_H
#define METRICORE_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "metricore.h"

static int check_passed;
static int check_failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            check_passed++;                                                        \
        } else {                                                                   \
            check_failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

/* Checks that `call` returns status `want`; on a mismatch prints both and the last error. */
#define CHECK_STATUS(call, want)                                                       \
    do {                                                                               \
        metricore_status got_ = (call);                                                \
        if (got_ == (metricore_status)(want)) {                                        \
            check_passed++;                                                            \
        } else {                                                                       \
            check_failed++;                                                            \
            fprintf(stderr, "%s:%d: %s returned %u (%s), want %s; last error: %s\n",   \
                    __FILE__, __LINE__, #call, (unsigned)got_, metricore_status_str(got_), \
                    #want, last_error());                                              \
        }                                                                              \
    } while (0)

/* This thread's last error message, in a static buffer (test use only). */
static inline const char *last_error(void) {
    static char buf[1024];
    size_t n = 0;
    if (metricore_last_error_message(buf, sizeof buf, &n) > METRICORE_STATUS_BUFFER_TOO_SMALL) {
        return "(metricore_last_error_message failed)";
    }
    return buf;
}

/* Whether the last error contains `needle`; prints it when not. */
static inline int last_error_has(const char *needle) {
    const char *msg = last_error();
    if (strstr(msg, needle) != NULL) {
        return 1;
    }
    fprintf(stderr, "    last error \"%s\" lacks \"%s\"\n", msg, needle);
    return 0;
}

/* A metricore_str view of a NUL-terminated string. */
static inline struct metricore_str ms(const char *s) {
    struct metricore_str v = {s, s ? strlen(s) : 0};
    return v;
}

static inline int report(const char *program) {
    fprintf(stderr, "%s: done\n", program);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
