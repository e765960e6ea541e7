/* Runs the cross-language golden cases of the tests/fixtures JSON files through the C ABI, as
 * core/tests/fixtures.rs runs them through the Rust API; tests/fixtures/README.md defines
 * the format. Unknown keys, ops or kinds are errors, so a typo cannot silently test
 * nothing. Expected values come from the fixture files at run time, never from here.
 *
 * Usage: test_fixtures DIR   (DIR = tests/fixtures) */
#define _POSIX_C_SOURCE 200809L /* opendir/readdir under -std=c11 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

/* ------------------------------------------------------------ failure reporting */

static const char *cur_file = "";
static const char *cur_case = "";
static int case_failures;
/* A broken fixture (not a library failure): the case stops. */
static int broken;

static void failure(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s :: %s :: ", cur_file, cur_case);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    case_failures++;
}

#define BROKEN(...)                                   \
    do {                                              \
        failure("broken fixture: " __VA_ARGS__);      \
        broken = 1;                                   \
    } while (0)

/* ------------------------------------------------------------ JSON helpers */

static int only_keys(const struct json *obj, const char *const *allowed, const char *what) {
    if (obj == NULL || obj->type != JSON_OBJECT) {
        BROKEN("%s must be an object", what);
        return 0;
    }
    for (size_t i = 0; i < obj->len; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) {
            ok |= strcmp(obj->keys[i], *a) == 0;
        }
        if (!ok) {
            BROKEN("%s: unknown key \"%s\"", what, obj->keys[i]);
            return 0;
        }
    }
    return 1;
}

static const char *opt_string(const struct json *obj, const char *key) {
    const struct json *v = json_get(obj, key);
    if (v == NULL) {
        return NULL;
    }
    if (v->type != JSON_STRING) {
        BROKEN("\"%s\" must be a string", key);
        return NULL;
    }
    return v->string;
}

static const char *string(const struct json *obj, const char *key) {
    const char *s = opt_string(obj, key);
    if (s == NULL && !broken) {
        BROKEN("\"%s\" must be a string", key);
    }
    return s;
}

static int as_uint(const struct json *v, const char *what, uint64_t *out) {
    if (v == NULL || v->type != JSON_NUMBER || !v->is_uint) {
        BROKEN("%s must be a non-negative integer", what);
        return 0;
    }
    *out = v->uint;
    return 1;
}

/* A float: a JSON number or "NaN", "+Inf", "-Inf". */
static int as_float(const struct json *v, const char *what, double *out) {
    if (v != NULL && v->type == JSON_NUMBER) {
        *out = v->number;
        return 1;
    }
    if (v != NULL && v->type == JSON_STRING) {
        if (strcmp(v->string, "NaN") == 0) {
            *out = NAN;
            return 1;
        }
        if (strcmp(v->string, "+Inf") == 0) {
            *out = INFINITY;
            return 1;
        }
        if (strcmp(v->string, "-Inf") == 0) {
            *out = -INFINITY;
            return 1;
        }
    }
    BROKEN("%s must be a number or \"NaN\", \"+Inf\", \"-Inf\"", what);
    return 0;
}

/* Label values as metricore_str views into the JSON (valid while the JSON is). */
struct labels {
    struct metricore_str v[16];
    size_t n;
};

static int strings(const struct json *obj, const char *key, struct labels *out) {
    out->n = 0;
    const struct json *a = json_get(obj, key);
    if (a == NULL) {
        return 1;
    }
    if (a->type != JSON_ARRAY || a->len > 16) {
        BROKEN("\"%s\" must be an array of at most 16 strings", key);
        return 0;
    }
    for (size_t i = 0; i < a->len; i++) {
        if (a->items[i].type != JSON_STRING) {
            BROKEN("\"%s\" must hold strings", key);
            return 0;
        }
        out->v[i].data = a->items[i].string;
        out->v[i].len = a->items[i].len;
    }
    out->n = a->len;
    return 1;
}

/* Floats agree when both are NaN, or equal, or within 1e-9 relative. */
static int close_enough(double got, double want) {
    if (isnan(got) && isnan(want)) {
        return 1;
    }
    if (got == want) {
        return 1;
    }
    double scale = fmax(fabs(got), fabs(want));
    return fabs(got - want) <= 1e-9 * scale;
}

static const char *kind_name(metricore_status s) {
    switch (s) {
        case METRICORE_STATUS_INVALID_NAME: return "invalid_name";
        case METRICORE_STATUS_INVALID_LABELS: return "invalid_labels";
        case METRICORE_STATUS_CONFLICT: return "conflict";
        case METRICORE_STATUS_INVALID_VALUE: return "invalid_value";
        case METRICORE_STATUS_INVALID_CONFIG: return "invalid_config";
        case METRICORE_STATUS_INVALID_EXEMPLAR: return "invalid_exemplar";
        case METRICORE_STATUS_CORRUPT_BLOB: return "corrupt_blob";
        default: return metricore_status_str(s);
    }
}

/* ------------------------------------------------------------ declarations */

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct metric {
    char *key; /* the declaration's name, which ops use */
    enum kind kind;
    uint32_t resolution;
    const struct metricore_counter_family *counter;
    const struct metricore_gauge_family *gauge;
    const struct metricore_histogram_family *histogram;
};

struct case_state {
    const struct metricore_registry *registry;
    struct metric metrics[32];
    size_t n_metrics;
};

static struct metric *find_metric(struct case_state *c, const char *key) {
    for (size_t i = 0; i < c->n_metrics; i++) {
        if (strcmp(c->metrics[i].key, key) == 0) {
            return &c->metrics[i];
        }
    }
    return NULL;
}

static struct metricore_str family_name(const struct metric *m) {
    switch (m->kind) {
        case COUNTER: return metricore_counter_family_name(m->counter);
        case GAUGE: return metricore_gauge_family_name(m->gauge);
        default: return metricore_histogram_family_name(m->histogram);
    }
}

static void free_metric(struct metric *m) {
    metricore_counter_family_free(m->counter);
    metricore_gauge_family_free(m->gauge);
    metricore_histogram_family_free(m->histogram);
    free(m->key);
}

static const char *const DECL_KEYS[] = {"kind", "name", "help", "labels", "unit",
                                        "cardinality_limit", "lowest", "highest",
                                        "significant_figures", "resolution", "buckets", NULL};
static const char *const HISTOGRAM_KEYS[] = {"lowest", "highest", "significant_figures",
                                             "resolution", "buckets", NULL};

static int resolution_code(const char *name, uint32_t *out) {
    static const char *const names[] = {"nanosecond", "microsecond", "millisecond", "unit"};
    static const uint32_t codes[] = {METRICORE_RESOLUTION_NANOSECOND, METRICORE_RESOLUTION_MICROSECOND,
                                     METRICORE_RESOLUTION_MILLISECOND, METRICORE_RESOLUTION_UNIT};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = codes[i];
            return 1;
        }
    }
    BROKEN("unknown resolution \"%s\"", name);
    return 0;
}

/* Registers a declaration into `m` (key, kind, family); returns the library's status.
 * A broken fixture sets `broken` and returns METRICORE_STATUS_INVALID_ARGUMENT. */
static metricore_status declare(struct case_state *c, const struct json *d, struct metric *m) {
    memset(m, 0, sizeof *m);
    if (!only_keys(d, DECL_KEYS, "metric declaration")) {
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    const char *kind = string(d, "kind");
    const char *name = string(d, "name");
    const char *help = opt_string(d, "help");
    const char *unit = opt_string(d, "unit");
    struct labels labels;
    if (broken || !strings(d, "labels", &labels)) {
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    if (strcmp(kind, "counter") == 0) {
        m->kind = COUNTER;
    } else if (strcmp(kind, "gauge") == 0) {
        m->kind = GAUGE;
    } else if (strcmp(kind, "histogram") == 0) {
        m->kind = HISTOGRAM;
    } else {
        BROKEN("unknown metric kind \"%s\"", kind);
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    if (m->kind != HISTOGRAM) {
        for (const char *const *k = HISTOGRAM_KEYS; *k; k++) {
            if (json_get(d, *k) != NULL) {
                BROKEN("\"%s\" is a histogram option, but \"%s\" is a %s", *k, name, kind);
                return METRICORE_STATUS_INVALID_ARGUMENT;
            }
        }
    }
    m->resolution = METRICORE_RESOLUTION_MICROSECOND;
    struct metricore_family_builder *b = NULL;
    metricore_status st = metricore_family_builder_new(name, strlen(name), help, help ? strlen(help) : 0, &b);
    if (st != METRICORE_STATUS_OK) {
        return st;
    }
    /* Setter failures are the library's answer too; the builder is then freed here. */
#define SET(call)                                  \
    do {                                           \
        st = (call);                               \
        if (st != METRICORE_STATUS_OK) {           \
            metricore_family_builder_free(b);      \
            return st;                             \
        }                                          \
    } while (0)
    SET(metricore_family_builder_set_labels(b, labels.v, labels.n));
    if (unit) {
        SET(metricore_family_builder_set_unit(b, unit, strlen(unit)));
    }
    uint64_t u = 0;
    if (json_get(d, "cardinality_limit")) {
        if (!as_uint(json_get(d, "cardinality_limit"), "cardinality_limit", &u)) {
            metricore_family_builder_free(b);
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        SET(metricore_family_builder_set_cardinality_limit(b, (size_t)u));
    }
    if (m->kind == HISTOGRAM) {
        uint64_t lowest = 1, highest = 60000000;
        if ((json_get(d, "lowest") && !as_uint(json_get(d, "lowest"), "lowest", &lowest)) ||
            (json_get(d, "highest") && !as_uint(json_get(d, "highest"), "highest", &highest))) {
            metricore_family_builder_free(b);
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        SET(metricore_family_builder_set_histogram_range(b, lowest, highest));
        if (json_get(d, "significant_figures")) {
            if (!as_uint(json_get(d, "significant_figures"), "significant_figures", &u) || u > UINT32_MAX) {
                metricore_family_builder_free(b);
                return METRICORE_STATUS_INVALID_ARGUMENT;
            }
            SET(metricore_family_builder_set_histogram_significant_figures(b, (uint32_t)u));
        }
        const char *res = opt_string(d, "resolution");
        if (res) {
            if (!resolution_code(res, &m->resolution)) {
                metricore_family_builder_free(b);
                return METRICORE_STATUS_INVALID_ARGUMENT;
            }
            SET(metricore_family_builder_set_histogram_resolution(b, m->resolution));
        }
        const struct json *bs = json_get(d, "buckets");
        if (bs) {
            double bounds[64];
            if (bs->type != JSON_ARRAY || bs->len > 64) {
                BROKEN("\"buckets\" must be an array of at most 64 bounds");
                metricore_family_builder_free(b);
                return METRICORE_STATUS_INVALID_ARGUMENT;
            }
            for (size_t i = 0; i < bs->len; i++) {
                if (!as_float(&bs->items[i], "bucket bound", &bounds[i])) {
                    metricore_family_builder_free(b);
                    return METRICORE_STATUS_INVALID_ARGUMENT;
                }
            }
            SET(metricore_family_builder_set_histogram_buckets(b, bounds, bs->len));
        }
    }
#undef SET
    switch (m->kind) {
        case COUNTER: st = metricore_family_builder_build_counter(b, c->registry, &m->counter); break;
        case GAUGE: st = metricore_family_builder_build_gauge(b, c->registry, &m->gauge); break;
        default: st = metricore_family_builder_build_histogram(b, c->registry, &m->histogram); break;
    }
    if (st == METRICORE_STATUS_OK) {
        m->key = strdup(name);
    }
    return st;
}

/* ------------------------------------------------------------ ops */

static const char *const OP_KEYS[] = {"op", "metric", "labels", "value", "count", "error",
                                      "error_metric", "from", "from_labels", "blob_hex",
                                      "encoding", "into", "into_labels", "note", NULL};

static const struct metricore_histogram *histogram_series(struct case_state *c, const char *key,
                                                          const struct labels *l,
                                                          metricore_status *st, uint32_t *res) {
    struct metric *m = find_metric(c, key);
    if (m == NULL || m->kind != HISTOGRAM) {
        BROKEN("\"%s\" is not a declared histogram", key);
        *st = METRICORE_STATUS_INVALID_ARGUMENT;
        return NULL;
    }
    const struct metricore_histogram *h = NULL;
    *st = metricore_histogram_family_with_labels(m->histogram, l->v, l->n, &h);
    if (res) {
        *res = m->resolution;
    }
    return h;
}

static int hex_decode(const char *hex, uint8_t **out, size_t *n) {
    size_t len = strlen(hex);
    if (len % 2) {
        BROKEN("hex blob has an odd length");
        return 0;
    }
    *out = malloc(len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned int byte = 0;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            BROKEN("bad hex at %zu", 2 * i);
            free(*out);
            *out = NULL;
            return 0;
        }
        (*out)[i] = (uint8_t)byte;
    }
    *n = len / 2;
    return 1;
}

/* Encodes `h` as a V2 blob and decodes it in `res`: the round trip of the v2_round_trip op. */
static metricore_status round_trip(const struct metricore_histogram *h, int deflate, uint32_t res,
                                   struct metricore_histogram_snapshot **decoded) {
    struct metricore_histogram_snapshot *s = NULL;
    metricore_status st = metricore_histogram_take_snapshot(h, &s);
    if (st != METRICORE_STATUS_OK) {
        return st;
    }
    size_t n = 0;
    st = metricore_histogram_snapshot_encode_v2(s, deflate, NULL, 0, &n);
    uint8_t *blob = malloc(n ? n : 1);
    if (st == METRICORE_STATUS_BUFFER_TOO_SMALL || st == METRICORE_STATUS_OK) {
        st = metricore_histogram_snapshot_encode_v2(s, deflate, blob, n, &n);
    }
    if (st == METRICORE_STATUS_OK) {
        st = metricore_histogram_snapshot_decode_v2(blob, n, res, decoded);
    }
    free(blob);
    metricore_histogram_snapshot_free(s);
    return st;
}

static metricore_status run_op(struct case_state *c, const struct json *op) {
    const char *name = string(op, "op");
    if (broken) {
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    if (strcmp(name, "register") == 0) {
        const struct json *decl = json_get(op, "metric");
        if (decl == NULL) {
            BROKEN("register needs \"metric\"");
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        struct metric m;
        metricore_status st = declare(c, decl, &m);
        if (st == METRICORE_STATUS_OK) {
            if (find_metric(c, m.key) == NULL && c->n_metrics < 32) {
                c->metrics[c->n_metrics++] = m;
            } else {
                free_metric(&m);
            }
        }
        return st;
    }
    const char *key = string(op, "metric");
    struct labels labels;
    if (broken || !strings(op, "labels", &labels)) {
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    struct metric *m = find_metric(c, key);
    if (m == NULL) {
        BROKEN("no metric declared as \"%s\"", key);
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    const struct json *value = json_get(op, "value");
    metricore_status st = METRICORE_STATUS_OK;
    if (m->kind == COUNTER && strcmp(name, "inc") == 0) {
        uint64_t n = 1;
        if (value && !as_uint(value, "counter increment", &n)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        const struct metricore_counter *ctr = NULL;
        st = metricore_counter_family_with_labels(m->counter, labels.v, labels.n, &ctr);
        metricore_counter_add(ctr, n);
        metricore_counter_free(ctr);
        return st;
    }
    if (m->kind == GAUGE && (strcmp(name, "inc") == 0 || strcmp(name, "dec") == 0 ||
                             strcmp(name, "set") == 0 || strcmp(name, "add") == 0 ||
                             strcmp(name, "sub") == 0)) {
        double x = 1.0;
        if (value == NULL && strcmp(name, "inc") != 0 && strcmp(name, "dec") != 0) {
            BROKEN("%s needs a \"value\"", name);
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        if (value && !as_float(value, "gauge value", &x)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        const struct metricore_gauge *g = NULL;
        st = metricore_gauge_family_with_labels(m->gauge, labels.v, labels.n, &g);
        if (strcmp(name, "inc") == 0 || strcmp(name, "add") == 0) {
            metricore_gauge_add(g, x);
        } else if (strcmp(name, "dec") == 0 || strcmp(name, "sub") == 0) {
            metricore_gauge_sub(g, x);
        } else {
            metricore_gauge_set(g, x);
        }
        metricore_gauge_free(g);
        return st;
    }
    if (m->kind != HISTOGRAM) {
        BROKEN("op \"%s\" does not apply to \"%s\"", name, key);
        return METRICORE_STATUS_INVALID_ARGUMENT;
    }
    uint32_t res = 0;
    if (strcmp(name, "record") == 0) {
        uint64_t v = 0, n = 0;
        const struct json *count = json_get(op, "count");
        if (!as_uint(value, "recorded integer", &v) || (count && !as_uint(count, "count", &n))) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        const struct metricore_histogram *h = histogram_series(c, key, &labels, &st, NULL);
        if (count) {
            metricore_histogram_record_n(h, v, n);
        } else {
            metricore_histogram_record(h, v);
        }
        metricore_histogram_free(h);
        return st;
    }
    if (strcmp(name, "observe") == 0 || strcmp(name, "record_ms") == 0) {
        double x = 0;
        if (!as_float(value, "value", &x)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        const struct metricore_histogram *h = histogram_series(c, key, &labels, &st, NULL);
        if (st == METRICORE_STATUS_OK) {
            st = strcmp(name, "observe") == 0 ? metricore_histogram_observe(h, x)
                                               : metricore_histogram_record_ms(h, x);
        }
        metricore_histogram_free(h);
        return st;
    }
    if (strcmp(name, "merge") == 0) {
        struct labels from_labels;
        const char *from_key = string(op, "from");
        if (broken || !strings(op, "from_labels", &from_labels)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        metricore_status from_st, into_st;
        const struct metricore_histogram *from = histogram_series(c, from_key, &from_labels, &from_st, NULL);
        const struct metricore_histogram *into = histogram_series(c, key, &labels, &into_st, NULL);
        st = from_st != METRICORE_STATUS_OK ? from_st : into_st;
        if (st == METRICORE_STATUS_OK) {
            struct metricore_histogram_snapshot *s = NULL;
            st = metricore_histogram_take_snapshot(from, &s);
            if (st == METRICORE_STATUS_OK) {
                st = metricore_histogram_merge(into, s);
            }
            metricore_histogram_snapshot_free(s);
        }
        metricore_histogram_free(from);
        metricore_histogram_free(into);
        return st;
    }
    if (strcmp(name, "merge_v2") == 0) {
        const char *hex = string(op, "blob_hex");
        uint8_t *blob = NULL;
        size_t n = 0;
        if (broken || !hex_decode(hex, &blob, &n)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        const struct metricore_histogram *into = histogram_series(c, key, &labels, &st, &res);
        if (st == METRICORE_STATUS_OK) {
            struct metricore_histogram_snapshot *d = NULL;
            st = metricore_histogram_snapshot_decode_v2(blob, n, res, &d);
            if (st == METRICORE_STATUS_OK) {
                st = metricore_histogram_merge(into, d);
            }
            metricore_histogram_snapshot_free(d);
        }
        free(blob);
        metricore_histogram_free(into);
        return st;
    }
    if (strcmp(name, "v2_round_trip") == 0) {
        const char *encoding = opt_string(op, "encoding");
        int deflate = 0;
        if (encoding && strcmp(encoding, "deflate") == 0) {
            deflate = 1;
        } else if (encoding && strcmp(encoding, "plain") != 0) {
            BROKEN("unknown encoding \"%s\"", encoding);
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        struct labels into_labels;
        const char *into_key = string(op, "into");
        if (broken || !strings(op, "into_labels", &into_labels)) {
            return METRICORE_STATUS_INVALID_ARGUMENT;
        }
        metricore_status into_st, from_st;
        const struct metricore_histogram *into = histogram_series(c, into_key, &into_labels, &into_st, NULL);
        const struct metricore_histogram *from = histogram_series(c, key, &labels, &from_st, &res);
        st = from_st != METRICORE_STATUS_OK ? from_st : into_st;
        if (from_st == METRICORE_STATUS_OK) {
            struct metricore_histogram_snapshot *d = NULL;
            metricore_status rt = round_trip(from, deflate, res, &d);
            if (rt != METRICORE_STATUS_OK) {
                st = rt;
            } else if (into_st == METRICORE_STATUS_OK) {
                st = metricore_histogram_merge(into, d);
            }
            metricore_histogram_snapshot_free(d);
        }
        metricore_histogram_free(from);
        metricore_histogram_free(into);
        return st;
    }
    BROKEN("op \"%s\" does not apply to \"%s\"", name, key);
    return METRICORE_STATUS_INVALID_ARGUMENT;
}

/* Checks an op's status against its `error` / `error_metric` keys. */
static void check_outcome(int index, const struct json *op, metricore_status st) {
    const char *want = opt_string(op, "error");
    const char *want_metric = opt_string(op, "error_metric");
    if (broken) {
        return;
    }
    if (st == METRICORE_STATUS_OK) {
        if (want) {
            failure("op #%d: succeeded, but should fail with %s", index, want);
        }
        return;
    }
    if (!want) {
        failure("op #%d: failed unexpectedly: %s (%s)", index, kind_name(st), last_error());
        return;
    }
    if (strcmp(kind_name(st), want) != 0) {
        failure("op #%d: failed with %s (%s), but should fail with %s", index, kind_name(st),
                last_error(), want);
        return;
    }
    if (want_metric) {
        char prefix[256];
        snprintf(prefix, sizeof prefix, "metric '%s': ", want_metric);
        if (strncmp(last_error(), prefix, strlen(prefix)) != 0) {
            failure("op #%d: the error should name metric \"%s\": %s", index, want_metric, last_error());
        }
    }
}

/* ------------------------------------------------------------ expectations */

static const char *const SERIES_KEYS[] = {"metric", "family", "labels", "value", "count", "sum",
                                          "min", "max", "saturated", "quantiles", "buckets",
                                          "note", NULL};
static const char *const SCALAR_KEYS[] = {"metric", "family", "labels", "value", "note", NULL};

static void check_histogram(const struct metricore_histogram_snapshot *s, const struct json *w,
                            const char *what) {
    if (json_get(w, "value")) {
        BROKEN("a histogram series has count/sum/min/max/saturated/quantiles/buckets, not \"value\"");
        return;
    }
    static const char *const keys[] = {"count", "min", "max", "saturated"};
    uint64_t got[4] = {metricore_histogram_snapshot_count(s), metricore_histogram_snapshot_min(s),
                       metricore_histogram_snapshot_max(s), metricore_histogram_snapshot_saturated(s)};
    for (int i = 0; i < 4; i++) {
        uint64_t want = 0;
        const struct json *v = json_get(w, keys[i]);
        if (v && as_uint(v, keys[i], &want) && want != got[i]) {
            failure("expect: %s: %s: got %llu, want %llu", what, keys[i],
                    (unsigned long long)got[i], (unsigned long long)want);
        }
    }
    double want_sum = 0;
    const struct json *sum = json_get(w, "sum");
    if (sum && as_float(sum, "sum", &want_sum) &&
        !close_enough(metricore_histogram_snapshot_sum(s), want_sum)) {
        failure("expect: %s: sum: got %.17g, want %.17g", what, metricore_histogram_snapshot_sum(s), want_sum);
    }
    const struct json *qs = json_get(w, "quantiles");
    if (qs) {
        if (qs->type != JSON_ARRAY) {
            BROKEN("\"quantiles\" must be an array");
            return;
        }
        for (size_t i = 0; i < qs->len; i++) {
            static const char *const qkeys[] = {"q", "value", NULL};
            const struct json *q = &qs->items[i];
            uint64_t want = 0, gotv = 0;
            if (!only_keys(q, qkeys, "quantile") || !json_get(q, "q") ||
                json_get(q, "q")->type != JSON_NUMBER || !as_uint(json_get(q, "value"), "a quantile's \"value\"", &want)) {
                if (!broken) {
                    BROKEN("a quantile needs \"q\": a number");
                }
                return;
            }
            double qv = json_get(q, "q")->number;
            metricore_status st = metricore_histogram_snapshot_value_at_quantile(s, qv, &gotv);
            if (st != METRICORE_STATUS_OK || gotv != want) {
                failure("expect: %s: quantile %g: got %llu (%s), want %llu", what, qv,
                        (unsigned long long)gotv, metricore_status_str(st), (unsigned long long)want);
            }
        }
    }
    const struct json *bs = json_get(w, "buckets");
    if (bs) {
        if (bs->type != JSON_ARRAY) {
            BROKEN("\"buckets\" must be an array");
            return;
        }
        size_t n = metricore_histogram_snapshot_bucket_count(s);
        if (n != bs->len) {
            failure("expect: %s: buckets: got %zu buckets, want %zu", what, n, bs->len);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            static const char *const bkeys[] = {"le", "count", NULL};
            const struct json *b = &bs->items[i];
            double want_le = 0, le = 0;
            uint64_t want_count = 0, count = 0;
            if (!only_keys(b, bkeys, "bucket") || !as_float(json_get(b, "le"), "le", &want_le) ||
                !as_uint(json_get(b, "count"), "a bucket's \"count\"", &want_count)) {
                return;
            }
            metricore_status st = metricore_histogram_snapshot_bucket(s, i, &le, &count);
            if (st != METRICORE_STATUS_OK || !close_enough(le, want_le) || count != want_count) {
                failure("expect: %s: bucket %zu: got (le %g, %llu), want (le %g, %llu)", what, i, le,
                        (unsigned long long)count, want_le, (unsigned long long)want_count);
            }
        }
    }
}

static void check_series(struct case_state *c, const struct metricore_gathered *g, const struct json *w) {
    if (!only_keys(w, SERIES_KEYS, "expected series")) {
        return;
    }
    const char *key = opt_string(w, "metric");
    const char *family = opt_string(w, "family");
    struct labels labels;
    if (broken || !strings(w, "labels", &labels)) {
        return;
    }
    struct metricore_str name;
    if (key && !family) {
        struct metric *m = find_metric(c, key);
        if (m == NULL) {
            BROKEN("no metric declared as \"%s\"", key);
            return;
        }
        name = family_name(m);
    } else if (family && !key) {
        name = ms(family);
    } else {
        BROKEN("an expected series names either \"metric\" (a declaration) or \"family\" (a gathered name)");
        return;
    }
    char what[256];
    snprintf(what, sizeof what, "series %.*s (%zu labels)", (int)name.len, name.data, labels.n);

    uint64_t u = 0;
    double d = 0;
    struct metricore_histogram_snapshot *s = NULL;
    metricore_status st = metricore_gathered_counter_value(g, name.data, name.len, labels.v, labels.n, &u);
    if (st == METRICORE_STATUS_OK) {
        uint64_t want = 0;
        const struct json *v = json_get(w, "value");
        if (only_keys(w, SCALAR_KEYS, "expected counter series") && v && as_uint(v, "value", &want) && want != u) {
            failure("expect: %s: value: got %llu, want %llu", what, (unsigned long long)u, (unsigned long long)want);
        }
        return;
    }
    if (st == METRICORE_STATUS_WRONG_KIND) {
        st = metricore_gathered_gauge_value(g, name.data, name.len, labels.v, labels.n, &d);
    }
    if (st == METRICORE_STATUS_OK) {
        double want = 0;
        const struct json *v = json_get(w, "value");
        if (only_keys(w, SCALAR_KEYS, "expected gauge series") && v && as_float(v, "value", &want) &&
            !close_enough(d, want)) {
            failure("expect: %s: value: got %.17g, want %.17g", what, d, want);
        }
        return;
    }
    if (st == METRICORE_STATUS_WRONG_KIND) {
        st = metricore_gathered_histogram(g, name.data, name.len, labels.v, labels.n, &s);
    }
    if (st == METRICORE_STATUS_OK) {
        check_histogram(s, w, what);
        metricore_histogram_snapshot_free(s);
        return;
    }
    failure("expect: %s: not collected (%s: %s)", what, metricore_status_str(st), last_error());
}

static void check_expect(struct case_state *c, const struct json *e) {
    static const char *const keys[] = {"families", "series", NULL};
    if (!only_keys(e, keys, "expect")) {
        return;
    }
    struct metricore_gathered *g = NULL;
    if (metricore_registry_gather(c->registry, &g) != METRICORE_STATUS_OK) {
        failure("expect: gather failed: %s", last_error());
        return;
    }
    const struct json *fams = json_get(e, "families");
    if (fams) {
        struct labels want;
        if (strings(e, "families", &want)) {
            size_t n = metricore_gathered_family_count(g);
            int same = n == want.n;
            for (size_t i = 0; same && i < n; i++) {
                struct metricore_str got = {NULL, 0};
                same = metricore_gathered_family_name(g, i, &got) == METRICORE_STATUS_OK &&
                       got.len == want.v[i].len && memcmp(got.data, want.v[i].data, got.len) == 0;
            }
            if (!same) {
                failure("expect: families differ (got %zu, want %zu):", n, want.n);
                for (size_t i = 0; i < n; i++) {
                    struct metricore_str got = {NULL, 0};
                    metricore_gathered_family_name(g, i, &got);
                    fprintf(stderr, "    got  %.*s\n", (int)got.len, got.data);
                }
                for (size_t i = 0; i < want.n; i++) {
                    fprintf(stderr, "    want %.*s\n", (int)want.v[i].len, want.v[i].data);
                }
            }
        }
    }
    const struct json *series = json_get(e, "series");
    if (series && series->type == JSON_ARRAY) {
        for (size_t i = 0; i < series->len && !broken; i++) {
            check_series(c, g, &series->items[i]);
        }
    } else if (series) {
        BROKEN("\"series\" must be an array");
    }
    metricore_gathered_free(g);
}

/* ------------------------------------------------------------ driver */

static void run_case(const struct json *kase) {
    static const char *const keys[] = {"name", "description", "note", "metrics", "ops", "expect", NULL};
    if (!only_keys(kase, keys, "case")) {
        return;
    }
    struct case_state c;
    memset(&c, 0, sizeof c);
    c.registry = metricore_registry_new();
    const struct json *metrics = json_get(kase, "metrics");
    for (size_t i = 0; metrics && i < metrics->len && !broken; i++) {
        struct metric m;
        metricore_status st = declare(&c, &metrics->items[i], &m);
        if (broken) {
            break;
        }
        if (st != METRICORE_STATUS_OK) {
            failure("declaring metric #%zu failed: %s", i, last_error());
            broken = 1;
            break;
        }
        if (find_metric(&c, m.key) != NULL || c.n_metrics == 32) {
            BROKEN("\"%s\" is declared twice (use a \"register\" op to re-register)", m.key);
            free_metric(&m);
            break;
        }
        c.metrics[c.n_metrics++] = m;
    }
    const struct json *ops = json_get(kase, "ops");
    for (size_t i = 0; ops && i < ops->len && !broken; i++) {
        const struct json *op = &ops->items[i];
        if (!only_keys(op, OP_KEYS, "op")) {
            break;
        }
        metricore_status st = run_op(&c, op);
        check_outcome((int)i, op, st);
    }
    const struct json *expect = json_get(kase, "expect");
    if (expect && !broken) {
        check_expect(&c, expect);
    }
    for (size_t i = 0; i < c.n_metrics; i++) {
        free_metric(&c.metrics[i]);
    }
    metricore_registry_free(c.registry);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", dir);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char *names[64];
    size_t n_files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n_files < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            names[n_files++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n_files, sizeof *names, compare_names);
    CHECK(n_files > 0);

    int files_ok = 0;
    for (size_t f = 0; f < n_files; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        cur_file = names[f];
        cur_case = "(file)";
        size_t len = 0;
        char *text = read_file(path, &len);
        char err[256];
        struct json *doc = text ? json_parse(text, len, err, sizeof err) : NULL;
        static const char *const file_keys[] = {"description", "cases", NULL};
        const struct json *cases = json_get(doc, "cases");
        broken = 0;
        case_failures = 0;
        if (doc == NULL) {
            failure("broken fixture file: %s", text ? err : "unreadable");
        } else if (!only_keys(doc, file_keys, "file") || !string(doc, "description") ||
                   cases == NULL || cases->type != JSON_ARRAY) {
            if (!broken) {
                failure("broken fixture file: \"cases\" must be an array");
            }
        } else {
            files_ok++;
            for (size_t i = 0; i < cases->len; i++) {
                const struct json *kase = &cases->items[i];
                broken = 0;
                case_failures = 0;
                cur_case = "(unnamed)";
                const char *name = string(kase, "name");
                if (name) {
                    cur_case = name;
                    for (size_t j = 0; j < i; j++) {
                        const char *other = opt_string(&cases->items[j], "name");
                        if (other && strcmp(other, name) == 0) {
                            BROKEN("case name appears twice");
                        }
                    }
                }
                if (!broken) {
                    run_case(kase);
                }
                /* One CHECK per case: it passes when the case had no failure. */
                CHECK(case_failures == 0);
            }
            fprintf(stderr, "%s: %zu cases\n", names[f], cases->len);
        }
        if (doc == NULL || cases == NULL) {
            CHECK(0);
        }
        json_free(doc);
        free(text);
        free(names[f]);
    }
    printf("fixtures: %d files, %d cases passed, %d failed\n", files_ok, check_passed - 1,
           check_failed);
    return report("test_fixtures");
}
