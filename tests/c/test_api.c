/* The C API end to end: versions, every handle type, the hot path, snapshots, V2 blobs,
 * exposition into caller buffers, collections, the sampler, and every error path (NULL,
 * bad UTF-8, NUL bytes, wrong label count, bad names, conflicts, bad values, corrupt
 * blobs, buffers too small, a panic forced through the test-only export). Every handle
 * is freed, so AddressSanitizer's and valgrind's leak reports mean something. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

_Static_assert(METRICORE_VERSION_NUMBER == METRICORE_VERSION_MAJOR * 1000000 +
                                               METRICORE_VERSION_MINOR * 1000 +
                                               METRICORE_VERSION_PATCH,
               "packed version number");
_Static_assert(METRICORE_STATUS_OK == 0 && METRICORE_STATUS_PANIC == 4 &&
                   METRICORE_STATUS_BUFFER_TOO_SMALL == 5 && METRICORE_STATUS_UNKNOWN == 15,
               "status codes never renumber");

static struct metricore_family_builder *builder(const char *name, const char *const *labels,
                                                size_t n_labels) {
    struct metricore_family_builder *b = NULL;
    CHECK_STATUS(metricore_family_builder_new(name, strlen(name), "Help.", 5, &b),
                 METRICORE_STATUS_OK);
    struct metricore_str views[8];
    for (size_t i = 0; i < n_labels; i++) {
        views[i] = ms(labels[i]);
    }
    CHECK_STATUS(metricore_family_builder_set_labels(b, views, n_labels), METRICORE_STATUS_OK);
    return b;
}

static void test_versions(void) {
    CHECK(metricore_abi_version() == METRICORE_ABI_VERSION);
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", METRICORE_VERSION_MAJOR, METRICORE_VERSION_MINOR,
             METRICORE_VERSION_PATCH);
    CHECK(strcmp(metricore_version(), want) == 0);
    for (uint32_t code = 0; code <= METRICORE_STATUS_UNKNOWN; code++) {
        const char *text = metricore_status_str(code);
        CHECK(text != NULL && strlen(text) > 0 &&
              strcmp(text, "unrecognised status code") != 0);
    }
    CHECK(strcmp(metricore_status_str(999), "unrecognised status code") == 0);
}

static void test_last_error(void) {
    /* Make an error, then read it back in every way the API allows. */
    struct metricore_family_builder *b = NULL;
    CHECK_STATUS(metricore_family_builder_new(NULL, 3, NULL, 0, &b),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(b == NULL);
    const char *want = "argument 'name' is NULL but its length is 3";
    size_t n = 0;
    CHECK_STATUS(metricore_last_error_message(NULL, 0, &n), METRICORE_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == strlen(want));
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK_STATUS(metricore_last_error_message(small, sizeof small, &n),
                 METRICORE_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == strlen(want) && small[7] == '\0' && strncmp(small, want, 7) == 0);
    char full[128];
    CHECK_STATUS(metricore_last_error_message(full, sizeof full, &n), METRICORE_STATUS_OK);
    CHECK(strcmp(full, want) == 0);
    CHECK_STATUS(metricore_last_error_message(full, sizeof full, NULL),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_last_error_message(NULL, 5, &n), METRICORE_STATUS_NULL_PARAMETER);
    /* Neither a success nor a failing last_error_message call changes it. */
    CHECK(metricore_abi_version() == METRICORE_ABI_VERSION);
    CHECK(strcmp(last_error(), want) == 0);
}

static void test_builder_errors(const struct metricore_registry *r) {
    const struct metricore_counter_family *cf = NULL;
    const struct metricore_gauge_family *gf = NULL;
    const struct metricore_histogram_family *hf = NULL;
    struct metricore_family_builder *b = NULL;

    CHECK_STATUS(metricore_family_builder_new("x", 1, NULL, 0, NULL),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(last_error_has("builder_out"));
    CHECK_STATUS(metricore_family_builder_new("bad\xff", 4, NULL, 0, &b),
                 METRICORE_STATUS_INVALID_UTF8);
    CHECK(last_error_has("argument 'name' is not valid UTF-8 (invalid byte at offset 3)"));
    CHECK_STATUS(metricore_family_builder_new("nul\0name", 8, NULL, 0, &b),
                 METRICORE_STATUS_INVALID_UTF8);
    CHECK(last_error_has("argument 'name' contains a NUL byte at offset 3"));
    CHECK_STATUS(metricore_family_builder_new("ok", 2, "help\xc3", 5, &b),
                 METRICORE_STATUS_INVALID_UTF8);
    CHECK(last_error_has("'help'"));
    CHECK(b == NULL);

    /* Invalid metric name: the status names the kind, the message the metric and rule. */
    CHECK_STATUS(metricore_family_builder_build_counter(builder("1bad", NULL, 0), r, &cf),
                 METRICORE_STATUS_INVALID_NAME);
    CHECK(cf == NULL && last_error_has("1bad"));
    const char *bad_label[] = {"bad-label"};
    CHECK_STATUS(metricore_family_builder_build_counter(builder("good_name", bad_label, 1), r, &cf),
                 METRICORE_STATUS_INVALID_NAME);
    CHECK(last_error_has("metric 'good_name': ") && last_error_has("bad-label"));

    /* Histogram options on a counter or gauge. */
    b = builder("c_with_range", NULL, 0);
    CHECK_STATUS(metricore_family_builder_set_histogram_range(b, 1, 1000), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &cf), METRICORE_STATUS_INVALID_CONFIG);
    CHECK(last_error_has("metric 'c_with_range': histogram options"));
    b = builder("g_with_buckets", NULL, 0);
    const double bounds[] = {0.1, 1.0};
    CHECK_STATUS(metricore_family_builder_set_histogram_buckets(b, bounds, 2), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_gauge(b, r, &gf), METRICORE_STATUS_INVALID_CONFIG);

    /* Bad histogram options. */
    b = builder("h_bad_figures", NULL, 0);
    CHECK_STATUS(metricore_family_builder_set_histogram_significant_figures(b, 300),
                 METRICORE_STATUS_INVALID_CONFIG);
    CHECK(last_error_has("metric 'h_bad_figures': significant figures"));
    CHECK_STATUS(metricore_family_builder_set_histogram_significant_figures(b, 9),
                 METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_set_histogram_resolution(b, 99),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_has("unknown resolution 99"));
    CHECK_STATUS(metricore_family_builder_build_histogram(b, r, &hf),
                 METRICORE_STATUS_INVALID_CONFIG);
    CHECK(hf == NULL && last_error_has("h_bad_figures"));
    b = builder("h_bad_range", NULL, 0);
    CHECK_STATUS(metricore_family_builder_set_histogram_range(b, 100, 10), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_histogram(b, r, &hf),
                 METRICORE_STATUS_INVALID_CONFIG);
    b = builder("h_bad_buckets", NULL, 0);
    const double unsorted[] = {1.0, NAN};
    CHECK_STATUS(metricore_family_builder_set_histogram_buckets(b, unsorted, 2), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_histogram(b, r, &hf),
                 METRICORE_STATUS_INVALID_CONFIG);
    b = builder("h_null_buckets", NULL, 0);
    CHECK_STATUS(metricore_family_builder_set_histogram_buckets(b, NULL, 3),
                 METRICORE_STATUS_NULL_PARAMETER);
    metricore_family_builder_free(b);

    /* Conflicts: same name, another kind or other labels. */
    CHECK_STATUS(metricore_family_builder_build_counter(builder("taken", NULL, 0), r, &cf),
                 METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_gauge(builder("taken", NULL, 0), r, &gf),
                 METRICORE_STATUS_CONFLICT);
    CHECK(gf == NULL && last_error_has("metric 'taken': "));
    const char *one[] = {"method"};
    const struct metricore_counter_family *cf2 = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(builder("taken", one, 1), r, &cf2),
                 METRICORE_STATUS_CONFLICT);
    /* The identical shape returns the same family. */
    CHECK_STATUS(metricore_family_builder_build_counter(builder("taken", NULL, 0), r, &cf2),
                 METRICORE_STATUS_OK);
    const struct metricore_counter *a = NULL, *c = NULL;
    CHECK_STATUS(metricore_counter_family_with_labels(cf, NULL, 0, &a), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_counter_family_with_labels(cf2, NULL, 0, &c), METRICORE_STATUS_OK);
    metricore_counter_add(a, 3);
    CHECK(metricore_counter_get(c) == 3);
    metricore_counter_free(a);
    metricore_counter_free(c);
    metricore_counter_family_free(cf2);
    metricore_counter_family_free(cf);

    /* NULL builder, NULL registry (the builder is consumed and freed anyway), NULL out. */
    CHECK_STATUS(metricore_family_builder_build_counter(NULL, r, &cf), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(last_error_has("builder"));
    CHECK_STATUS(metricore_family_builder_build_counter(builder("n1", NULL, 0), NULL, &cf),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(last_error_has("registry"));
    CHECK_STATUS(metricore_family_builder_build_histogram(builder("n2", NULL, 0), r, NULL),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_family_builder_set_labels(NULL, NULL, 0), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_family_builder_set_unit(NULL, "s", 1), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_family_builder_set_cardinality_limit(NULL, 3),
                 METRICORE_STATUS_NULL_PARAMETER);
    metricore_family_builder_free(NULL);
}

static void test_counters_and_labels(const struct metricore_registry *r) {
    const char *labels[] = {"method", "code"};
    struct metricore_family_builder *b = builder("requests", labels, 2);
    CHECK_STATUS(metricore_family_builder_set_namespace(b, "app", 3), METRICORE_STATUS_OK);
    const struct metricore_counter_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &f), METRICORE_STATUS_OK);
    struct metricore_str name = metricore_counter_family_name(f);
    CHECK(name.len == strlen("app_requests") && memcmp(name.data, "app_requests", name.len) == 0);
    struct metricore_str nil = metricore_counter_family_name(NULL);
    CHECK(nil.data == NULL && nil.len == 0);

    struct metricore_str get200[] = {ms("GET"), ms("200")};
    const struct metricore_counter *c = NULL;
    CHECK_STATUS(metricore_counter_family_with_labels(f, get200, 2, &c), METRICORE_STATUS_OK);
    metricore_counter_inc(c);
    metricore_counter_add(c, 41);
    metricore_counter_add(c, 0);
    CHECK(metricore_counter_get(c) == 42);
    const struct metricore_counter *c2 = metricore_counter_clone(c);
    CHECK(c2 == c);
    metricore_counter_free(c);
    metricore_counter_inc(c2);
    CHECK(metricore_counter_get(c2) == 43);
    metricore_counter_free(c2);
    /* Looking the same labels up again finds the same series. */
    CHECK_STATUS(metricore_counter_family_with_labels(f, get200, 2, &c), METRICORE_STATUS_OK);
    CHECK(metricore_counter_get(c) == 43);
    metricore_counter_free(c);

    /* Wrong label count: an error naming the metric and the rule; nothing written. */
    const struct metricore_counter *none = NULL;
    CHECK_STATUS(metricore_counter_family_with_labels(f, get200, 1, &none),
                 METRICORE_STATUS_INVALID_LABELS);
    CHECK(none == NULL);
    CHECK(last_error_has("metric 'app_requests': expected 2 label values (method, code), got 1"));
    CHECK_STATUS(metricore_counter_family_with_labels(f, NULL, 0, &none),
                 METRICORE_STATUS_INVALID_LABELS);
    CHECK_STATUS(metricore_counter_family_with_labels(f, NULL, 2, &none),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(last_error_has("'label_values' is NULL but its length is 2"));
    struct metricore_str bad_utf8[] = {ms("GET"), {"\xc3\x28", 2}};
    CHECK_STATUS(metricore_counter_family_with_labels(f, bad_utf8, 2, &none),
                 METRICORE_STATUS_INVALID_UTF8);
    CHECK(last_error_has("label_values[1]"));
    struct metricore_str with_nul[] = {{"GE\0T", 4}, ms("200")};
    CHECK_STATUS(metricore_counter_family_with_labels(f, with_nul, 2, &none),
                 METRICORE_STATUS_INVALID_UTF8);
    CHECK(last_error_has("label_values[0]' contains a NUL byte at offset 2"));
    struct metricore_str null_value[] = {{NULL, 3}, ms("200")};
    CHECK_STATUS(metricore_counter_family_with_labels(f, null_value, 2, &none),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_counter_family_with_labels(NULL, get200, 2, &none),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(last_error_has("argument 'family' is NULL"));
    CHECK_STATUS(metricore_counter_family_with_labels(f, get200, 2, NULL),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(none == NULL);

    /* Hot-path calls on NULL do nothing and return neutral values. */
    metricore_counter_inc(NULL);
    metricore_counter_add(NULL, 5);
    CHECK(metricore_counter_get(NULL) == 0);
    CHECK(metricore_counter_clone(NULL) == NULL);
    metricore_counter_free(NULL);

    const struct metricore_counter_family *f2 = metricore_counter_family_clone(f);
    metricore_counter_family_free(f);
    metricore_counter_family_free(f2);
}

static void test_cardinality(const struct metricore_registry *r) {
    const char *labels[] = {"user"};
    struct metricore_family_builder *b = builder("logins", labels, 1);
    CHECK_STATUS(metricore_family_builder_set_cardinality_limit(b, 2), METRICORE_STATUS_OK);
    const struct metricore_counter_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &f), METRICORE_STATUS_OK);
    const char *users[] = {"ann", "bob", "cy", "di"};
    for (int i = 0; i < 4; i++) {
        struct metricore_str v[] = {ms(users[i])};
        const struct metricore_counter *c = NULL;
        CHECK_STATUS(metricore_counter_family_with_labels(f, v, 1, &c), METRICORE_STATUS_OK);
        metricore_counter_inc(c);
        metricore_counter_free(c);
    }
    struct metricore_gathered *g = NULL;
    CHECK_STATUS(metricore_registry_gather(r, &g), METRICORE_STATUS_OK);
    uint64_t v = 0;
    struct metricore_str overflow[] = {ms("__overflow__")};
    CHECK_STATUS(metricore_gathered_counter_value(g, "logins", 6, overflow, 1, &v),
                 METRICORE_STATUS_OK);
    CHECK(v == 2);
    metricore_gathered_free(g);
    metricore_counter_family_free(f);
}

static void test_gauges(const struct metricore_registry *r) {
    const struct metricore_gauge_family *f = NULL;
    struct metricore_family_builder *b = builder("temperature", NULL, 0);
    CHECK_STATUS(metricore_family_builder_set_unit(b, "celsius", 7), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_gauge(b, r, &f), METRICORE_STATUS_OK);
    struct metricore_str name = metricore_gauge_family_name(f);
    CHECK(name.len == strlen("temperature_celsius") &&
          memcmp(name.data, "temperature_celsius", name.len) == 0);
    const struct metricore_gauge *g = NULL;
    CHECK_STATUS(metricore_gauge_family_with_labels(f, NULL, 0, &g), METRICORE_STATUS_OK);
    metricore_gauge_set(g, 10.0);
    metricore_gauge_inc(g);
    metricore_gauge_dec(g);
    metricore_gauge_dec(g);
    metricore_gauge_add(g, 0.5);
    metricore_gauge_sub(g, 2.0);
    CHECK(metricore_gauge_get(g) == 7.5);
    metricore_gauge_set(g, NAN);
    CHECK(isnan(metricore_gauge_get(g)));
    metricore_gauge_set(g, -INFINITY);
    CHECK(isinf(metricore_gauge_get(g)) && metricore_gauge_get(g) < 0);
    metricore_gauge_set_to_current_time(g);
    CHECK(metricore_gauge_get(g) > 1.7e9);
    metricore_gauge_set(NULL, 1.0);
    metricore_gauge_inc(NULL);
    CHECK(metricore_gauge_get(NULL) == 0.0);
    const struct metricore_gauge *g2 = metricore_gauge_clone(g);
    metricore_gauge_free(g);
    metricore_gauge_free(g2);
    const struct metricore_gauge_family *f2 = metricore_gauge_family_clone(f);
    metricore_gauge_family_free(f);
    metricore_gauge_family_free(f2);
}

static const struct metricore_histogram *histogram(const struct metricore_registry *r,
                                                   const char *name) {
    const struct metricore_histogram_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_histogram(builder(name, NULL, 0), r, &f),
                 METRICORE_STATUS_OK);
    const struct metricore_histogram *h = NULL;
    CHECK_STATUS(metricore_histogram_family_with_labels(f, NULL, 0, &h), METRICORE_STATUS_OK);
    metricore_histogram_family_free(f);
    return h;
}

static void test_histograms(const struct metricore_registry *r) {
    const struct metricore_histogram *h = histogram(r, "latency_seconds");
    metricore_histogram_record(h, 1000);
    metricore_histogram_record(h, 2000);
    metricore_histogram_record_n(h, 3000, 2);
    CHECK_STATUS(metricore_histogram_observe(h, 0.004), METRICORE_STATUS_OK);   /* 4000 us */
    CHECK_STATUS(metricore_histogram_record_ms(h, 5.0), METRICORE_STATUS_OK);   /* 5000 us */
    CHECK_STATUS(metricore_histogram_record_secs(h, 0.006), METRICORE_STATUS_OK); /* 6000 us */
    CHECK(metricore_histogram_count(h) == 7);

    /* As prometheus_client: NaN is not counted (tallied as rejected); a value below zero
       counts at the bottom of the range and +Inf at its top, both as saturated. */
    const struct metricore_registry *own = metricore_registry_new();
    const struct metricore_histogram *odd = histogram(own, "odd_seconds");
    CHECK_STATUS(metricore_histogram_observe(odd, NAN), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_histogram_record_ms(odd, -1.0), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_histogram_record_secs(odd, INFINITY), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_histogram_record_ms(odd, NAN), METRICORE_STATUS_OK);
    struct metricore_histogram_snapshot *os = NULL;
    CHECK_STATUS(metricore_histogram_take_snapshot(odd, &os), METRICORE_STATUS_OK);
    CHECK(metricore_histogram_snapshot_count(os) == 2);
    CHECK(metricore_histogram_snapshot_saturated(os) == 2);
    CHECK(metricore_histogram_snapshot_rejected(os) == 2);
    CHECK(isinf(metricore_histogram_snapshot_sum(os)) && metricore_histogram_snapshot_sum(os) > 0);
    CHECK(metricore_histogram_snapshot_rejected(NULL) == 0);
    metricore_histogram_snapshot_free(os);
    metricore_histogram_free(odd);
    metricore_registry_free(own);
    CHECK_STATUS(metricore_histogram_observe(NULL, 1.0), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(metricore_histogram_count(h) == 7);
    metricore_histogram_record(NULL, 1);
    CHECK(metricore_histogram_count(NULL) == 0);

    struct metricore_histogram_snapshot *s = NULL;
    CHECK_STATUS(metricore_histogram_take_snapshot(h, &s), METRICORE_STATUS_OK);
    CHECK(metricore_histogram_snapshot_count(s) == 7);
    CHECK(metricore_histogram_snapshot_min(s) == 1000);
    CHECK(metricore_histogram_snapshot_max(s) == 6000);
    CHECK(fabs(metricore_histogram_snapshot_sum(s) - 0.024) < 1e-12);
    CHECK(fabs(metricore_histogram_snapshot_mean(s) - 24000.0 / 7) < 1e-9);
    CHECK(metricore_histogram_snapshot_saturated(s) == 0);
    uint64_t v = 0;
    CHECK_STATUS(metricore_histogram_snapshot_value_at_quantile(s, 0.5, &v), METRICORE_STATUS_OK);
    CHECK(v == 3001); /* rank 4 of 7 is 3000, in the 2-wide bucket 3000..3001 */
    CHECK_STATUS(metricore_histogram_snapshot_value_at_quantile(s, 0.0, &v), METRICORE_STATUS_OK);
    CHECK(v == 1000);
    CHECK_STATUS(metricore_histogram_snapshot_value_at_quantile(s, NAN, &v),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_has("a quantile must be within 0..=1"));
    CHECK_STATUS(metricore_histogram_snapshot_value_at_quantile(s, 1.5, &v),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    double q = 0;
    CHECK_STATUS(metricore_histogram_snapshot_quantile(s, 1.0, &q), METRICORE_STATUS_OK);
    CHECK(q == 0.006); /* clamped to the exact max */
    CHECK_STATUS(metricore_histogram_snapshot_quantile(s, -0.1, &q),
                 METRICORE_STATUS_INVALID_ARGUMENT);

    struct metricore_latency_stats st;
    memset(&st, 0, sizeof st);
    CHECK_STATUS(metricore_histogram_snapshot_latency_stats(s, &st), METRICORE_STATUS_OK);
    CHECK(st.count == 7 && st.min_ms == 1.0 && st.max_ms == 6.0);
    CHECK(fabs(st.mean_ms - 24.0 / 7) < 1e-9 && st.p50_ms == 3.001 && st.p999_ms == 6.0);
    struct metricore_latency_stats live;
    CHECK_STATUS(metricore_histogram_latency_stats(h, &live), METRICORE_STATUS_OK);
    CHECK(memcmp(&live, &st, sizeof st) == 0);
    CHECK_STATUS(metricore_histogram_latency_stats(h, NULL), METRICORE_STATUS_NULL_PARAMETER);

    /* Default Prometheus buckets: 0.005 ... 10 and +Inf. */
    size_t nb = metricore_histogram_snapshot_bucket_count(s);
    CHECK(nb == 15);
    double le = 0;
    uint64_t cum = 0;
    CHECK_STATUS(metricore_histogram_snapshot_bucket(s, 0, &le, &cum), METRICORE_STATUS_OK);
    CHECK(le == 0.005 && cum >= 5 && cum <= 6); /* 5000 us sits in the HDR bucket at the bound */
    CHECK_STATUS(metricore_histogram_snapshot_bucket(s, 1, &le, &cum), METRICORE_STATUS_OK);
    CHECK(le == 0.01 && cum == 7);
    CHECK_STATUS(metricore_histogram_snapshot_bucket(s, nb - 1, &le, &cum), METRICORE_STATUS_OK);
    CHECK(isinf(le) && cum == 7);
    CHECK_STATUS(metricore_histogram_snapshot_bucket(s, nb, &le, &cum),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_has("past the end of 15 buckets"));

    /* Snapshot getters on NULL. */
    CHECK(metricore_histogram_snapshot_count(NULL) == 0);
    CHECK(metricore_histogram_snapshot_bucket_count(NULL) == 0);
    CHECK_STATUS(metricore_histogram_snapshot_value_at_quantile(NULL, 0.5, &v),
                 METRICORE_STATUS_NULL_PARAMETER);

    /* Timers: stop records and returns the milliseconds; discard records nothing. */
    struct metricore_timer *t = metricore_histogram_start_timer(h);
    CHECK(t != NULL && metricore_timer_elapsed_ms(t) >= 0.0);
    double ms_elapsed = metricore_timer_stop(t);
    CHECK(ms_elapsed >= 0.0 && metricore_histogram_count(h) == 8);
    t = metricore_histogram_start_timer(h);
    metricore_timer_discard(t);
    CHECK(metricore_histogram_count(h) == 8);
    CHECK(metricore_histogram_start_timer(NULL) == NULL);
    CHECK(metricore_timer_stop(NULL) == 0.0);
    metricore_timer_discard(NULL);

    struct metricore_histogram_snapshot *copy = metricore_histogram_snapshot_clone(s);
    CHECK(copy != NULL && metricore_histogram_snapshot_count(copy) == 7);
    metricore_histogram_snapshot_free(copy);
    metricore_histogram_snapshot_free(s);
    metricore_histogram_snapshot_free(NULL);
    const struct metricore_histogram *h2 = metricore_histogram_clone(h);
    metricore_histogram_free(h);
    metricore_histogram_free(h2);
}

static void test_v2_blobs(const struct metricore_registry *r) {
    const struct metricore_histogram *h = histogram(r, "rpc_seconds");
    for (uint64_t v = 100; v <= 100000; v *= 10) {
        metricore_histogram_record(h, v);
    }
    struct metricore_histogram_snapshot *s = NULL;
    CHECK_STATUS(metricore_histogram_take_snapshot(h, &s), METRICORE_STATUS_OK);

    for (int deflate = 0; deflate <= 1; deflate++) {
        size_t n = 0;
        CHECK_STATUS(metricore_histogram_snapshot_encode_v2(s, deflate, NULL, 0, &n),
                     METRICORE_STATUS_BUFFER_TOO_SMALL);
        CHECK(n > 0 && last_error_has("the V2 blob needs"));
        uint8_t *blob = malloc(n);
        size_t m = 0;
        CHECK_STATUS(metricore_histogram_snapshot_encode_v2(s, deflate, blob, n - 1, &m),
                     METRICORE_STATUS_BUFFER_TOO_SMALL);
        CHECK(m == n);
        CHECK_STATUS(metricore_histogram_snapshot_encode_v2(s, deflate, blob, n, &m),
                     METRICORE_STATUS_OK);
        CHECK(m == n);
        struct metricore_histogram_snapshot *d = NULL;
        CHECK_STATUS(metricore_histogram_snapshot_decode_v2(blob, n, METRICORE_RESOLUTION_MICROSECOND, &d),
                     METRICORE_STATUS_OK);
        CHECK(metricore_histogram_snapshot_count(d) == 4);
        CHECK(metricore_histogram_snapshot_min(d) == 100);
        /* Merge the decoded blob into the live histogram and into a snapshot. */
        CHECK_STATUS(metricore_histogram_merge(h, d), METRICORE_STATUS_OK);
        CHECK_STATUS(metricore_histogram_snapshot_merge(d, s), METRICORE_STATUS_OK);
        CHECK(metricore_histogram_snapshot_count(d) == 4 + metricore_histogram_snapshot_count(s));
        /* A truncated blob is corrupt. */
        struct metricore_histogram_snapshot *bad = NULL;
        CHECK_STATUS(metricore_histogram_snapshot_decode_v2(blob, n / 2, METRICORE_RESOLUTION_MICROSECOND, &bad),
                     METRICORE_STATUS_CORRUPT_BLOB);
        CHECK(bad == NULL);
        metricore_histogram_snapshot_free(d);
        free(blob);
    }
    CHECK(metricore_histogram_count(h) == 12);

    static const uint8_t junk[] = "this is not an HdrHistogram";
    struct metricore_histogram_snapshot *bad = NULL;
    CHECK_STATUS(metricore_histogram_snapshot_decode_v2(junk, sizeof junk, METRICORE_RESOLUTION_MICROSECOND, &bad),
                 METRICORE_STATUS_CORRUPT_BLOB);
    CHECK(bad == NULL && last_error_has("not a valid HdrHistogram V2 blob"));
    CHECK_STATUS(metricore_histogram_snapshot_decode_v2(junk, sizeof junk, 42, &bad),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(metricore_histogram_snapshot_decode_v2(NULL, 10, METRICORE_RESOLUTION_UNIT, &bad),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_histogram_snapshot_decode_v2(NULL, 0, METRICORE_RESOLUTION_UNIT, &bad),
                 METRICORE_STATUS_CORRUPT_BLOB);

    /* Histograms of different resolutions do not merge; nothing changes. */
    size_t n = 0;
    uint8_t blob[4096];
    CHECK_STATUS(metricore_histogram_snapshot_encode_v2(s, 0, blob, sizeof blob, &n), METRICORE_STATUS_OK);
    struct metricore_histogram_snapshot *ns = NULL;
    CHECK_STATUS(metricore_histogram_snapshot_decode_v2(blob, n, METRICORE_RESOLUTION_NANOSECOND, &ns),
                 METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_histogram_merge(h, ns), METRICORE_STATUS_CORRUPT_BLOB);
    CHECK(last_error_has("cannot merge"));
    CHECK_STATUS(metricore_histogram_snapshot_merge(s, ns), METRICORE_STATUS_CORRUPT_BLOB);
    CHECK(metricore_histogram_count(h) == 12 && metricore_histogram_snapshot_count(s) == 4);
    CHECK_STATUS(metricore_histogram_snapshot_merge(NULL, ns), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_histogram_merge(h, NULL), METRICORE_STATUS_NULL_PARAMETER);
    metricore_histogram_snapshot_free(ns);
    metricore_histogram_snapshot_free(s);
    metricore_histogram_free(h);
}

static void test_exposition(const struct metricore_registry *r) {
    size_t n = 0;
    CHECK_STATUS(metricore_registry_render(r, METRICORE_FORMAT_TEXT, NULL, 0, &n),
                 METRICORE_STATUS_BUFFER_TOO_SMALL);
    CHECK(n > 0 && last_error_has("the exposition needs"));
    size_t need = n;
    char *buf = malloc(need + 64);
    memset(buf, '#', need + 64);
    CHECK_STATUS(metricore_registry_render(r, METRICORE_FORMAT_TEXT, (uint8_t *)buf, 10, &n),
                 METRICORE_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == need && buf[0] == '#'); /* nothing written */
    CHECK_STATUS(metricore_registry_render(r, METRICORE_FORMAT_TEXT, (uint8_t *)buf, need + 64, &n),
                 METRICORE_STATUS_OK);
    CHECK(n == need && buf[n] == '#'); /* no NUL added */
    buf[n] = '\0';
    CHECK(strstr(buf, "app_requests_total{method=\"GET\",code=\"200\"} 43\n") != NULL);
    CHECK(strstr(buf, "# TYPE latency_seconds histogram\n") != NULL);
    free(buf);

    CHECK_STATUS(metricore_registry_render(r, METRICORE_FORMAT_OPEN_METRICS, NULL, 0, &n),
                 METRICORE_STATUS_BUFFER_TOO_SMALL);
    buf = malloc(n + 1);
    CHECK_STATUS(metricore_registry_render(r, METRICORE_FORMAT_OPEN_METRICS, (uint8_t *)buf, n, &n),
                 METRICORE_STATUS_OK);
    buf[n] = '\0';
    CHECK(n > 6 && strcmp(buf + n - 6, "# EOF\n") == 0);
    free(buf);

    CHECK_STATUS(metricore_registry_to_json(r, NULL, 0, &n), METRICORE_STATUS_BUFFER_TOO_SMALL);
    buf = malloc(n + 1);
    CHECK_STATUS(metricore_registry_to_json(r, (uint8_t *)buf, n, &n), METRICORE_STATUS_OK);
    buf[n] = '\0';
    CHECK(buf[0] == '[' && buf[n - 1] == ']' && strstr(buf, "\"name\":\"app_requests\"") != NULL);
    free(buf);

    char small[4];
    CHECK_STATUS(metricore_registry_render(r, 7, (uint8_t *)small, sizeof small, &n),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_has("unknown exposition format 7"));
    CHECK_STATUS(metricore_registry_render(r, 0, NULL, 100, &n), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_registry_render(r, 0, (uint8_t *)small, sizeof small, NULL),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_registry_render(NULL, 0, (uint8_t *)small, sizeof small, &n),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_registry_to_json(NULL, NULL, 0, &n), METRICORE_STATUS_NULL_PARAMETER);

    /* Content negotiation, as a scrape endpoint does it. */
    const char *prometheus =
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    uint32_t format = 99;
    CHECK_STATUS(metricore_format_negotiate(prometheus, strlen(prometheus), &format), METRICORE_STATUS_OK);
    CHECK(format == METRICORE_FORMAT_OPEN_METRICS);
    CHECK_STATUS(metricore_format_negotiate("*/*", 3, &format), METRICORE_STATUS_OK);
    CHECK(format == METRICORE_FORMAT_TEXT);
    format = 99;
    CHECK_STATUS(metricore_format_negotiate(NULL, 0, &format), METRICORE_STATUS_OK);
    CHECK(format == METRICORE_FORMAT_TEXT);
    CHECK_STATUS(metricore_format_negotiate("\xff", 1, &format), METRICORE_STATUS_INVALID_UTF8);
    CHECK_STATUS(metricore_format_negotiate("*/*", 3, NULL), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(strcmp(metricore_format_content_type(METRICORE_FORMAT_OPEN_METRICS),
                 "application/openmetrics-text; version=1.0.0; charset=utf-8") == 0);
    CHECK(strncmp(metricore_format_content_type(METRICORE_FORMAT_TEXT), "text/plain", 10) == 0);
    CHECK(metricore_format_content_type(2) == NULL);
}

static void test_gathered(const struct metricore_registry *r) {
    struct metricore_gathered *g = NULL;
    CHECK_STATUS(metricore_registry_gather(r, &g), METRICORE_STATUS_OK);
    size_t nf = metricore_gathered_family_count(g);
    CHECK(nf >= 4);
    struct metricore_str name = {NULL, 0};
    CHECK_STATUS(metricore_gathered_family_name(g, 0, &name), METRICORE_STATUS_OK);
    CHECK(name.len == 5 && memcmp(name.data, "taken", 5) == 0);
    CHECK_STATUS(metricore_gathered_family_name(g, nf, &name), METRICORE_STATUS_INVALID_ARGUMENT);
    struct metricore_str get200[] = {ms("GET"), ms("200")};
    uint64_t v = 0;
    CHECK_STATUS(metricore_gathered_counter_value(g, "app_requests", 12, get200, 2, &v), METRICORE_STATUS_OK);
    CHECK(v == 43);
    double d = 0;
    CHECK_STATUS(metricore_gathered_gauge_value(g, "temperature_celsius", 19, NULL, 0, &d), METRICORE_STATUS_OK);
    CHECK(d > 1.7e9);
    struct metricore_histogram_snapshot *s = NULL;
    CHECK_STATUS(metricore_gathered_histogram(g, "latency_seconds", 15, NULL, 0, &s), METRICORE_STATUS_OK);
    CHECK(metricore_histogram_snapshot_count(s) == 8);
    metricore_histogram_snapshot_free(s);
    s = NULL;
    CHECK_STATUS(metricore_gathered_histogram(g, "app_requests", 12, get200, 2, &s), METRICORE_STATUS_WRONG_KIND);
    CHECK(s == NULL && last_error_has("metric 'app_requests': is a counter, not a histogram"));
    CHECK_STATUS(metricore_gathered_counter_value(g, "nope", 4, NULL, 0, &v), METRICORE_STATUS_NOT_FOUND);
    CHECK(last_error_has("metric 'nope': no such family"));
    CHECK_STATUS(metricore_gathered_counter_value(g, "app_requests", 12, get200, 1, &v), METRICORE_STATUS_NOT_FOUND);
    CHECK_STATUS(metricore_gathered_gauge_value(g, "app_requests", 12, get200, 2, &d), METRICORE_STATUS_WRONG_KIND);
    CHECK_STATUS(metricore_gathered_counter_value(NULL, "x", 1, NULL, 0, &v), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(metricore_gathered_family_count(NULL) == 0);
    metricore_gathered_free(g);
    metricore_gathered_free(NULL);

    /* Unregistering removes a family from collections. */
    bool removed = false;
    CHECK_STATUS(metricore_registry_unregister(r, "taken", 5, &removed), METRICORE_STATUS_OK);
    CHECK(removed);
    CHECK_STATUS(metricore_registry_unregister(r, "taken", 5, &removed), METRICORE_STATUS_OK);
    CHECK(!removed);
    CHECK_STATUS(metricore_registry_gather(r, &g), METRICORE_STATUS_OK);
    CHECK(metricore_gathered_family_count(g) == nf - 1);
    metricore_gathered_free(g);
}

static void test_default_registry(void) {
    const struct metricore_registry *a = metricore_registry_default();
    const struct metricore_registry *b = metricore_registry_default();
    CHECK(a != NULL && b != NULL);
    const struct metricore_counter_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(builder("c_default_jobs", NULL, 0), a, &f),
                 METRICORE_STATUS_OK);
    const struct metricore_counter *jobs = NULL;
    CHECK_STATUS(metricore_counter_family_with_labels(f, NULL, 0, &jobs), METRICORE_STATUS_OK);
    metricore_counter_add(jobs, 5);
    metricore_counter_free(jobs);
    /* The second handle sees the same registry. */
    struct metricore_gathered *g = NULL;
    CHECK_STATUS(metricore_registry_gather(b, &g), METRICORE_STATUS_OK);
    uint64_t v = 99;
    CHECK_STATUS(metricore_gathered_counter_value(g, "c_default_jobs", 14, NULL, 0, &v), METRICORE_STATUS_OK);
    CHECK(v == 5);
    metricore_gathered_free(g);
    const struct metricore_registry *c = metricore_registry_clone(a);
    CHECK(c == a && metricore_registry_clone(NULL) == NULL);
    metricore_registry_free(c);
    metricore_registry_free(a);
    metricore_registry_free(b);
    metricore_registry_free(NULL);
    metricore_counter_family_free(f);
}

static void test_sampler(void) {
    const struct metricore_registry *r = metricore_registry_new();
    const struct metricore_sampler *s = NULL;
    CHECK_STATUS(metricore_registry_sampler(r, &s), METRICORE_STATUS_OK);
    CHECK(!metricore_sampler_is_running(s));
    size_t n = 0;
    CHECK_STATUS(metricore_sampler_sample_now(s, NULL, 0, &n), METRICORE_STATUS_BUFFER_TOO_SMALL);
    /* Each sample may be longer than the last (rates appear from the second one on):
     * retry with the size reported, as the API documents. */
    char *json = NULL;
    metricore_status st = METRICORE_STATUS_BUFFER_TOO_SMALL;
    for (int tries = 0; tries < 4 && st == METRICORE_STATUS_BUFFER_TOO_SMALL; tries++) {
        free(json);
        size_t cap = 2 * n + 1;
        json = malloc(cap);
        st = metricore_sampler_sample_now(s, (uint8_t *)json, cap - 1, &n);
    }
    CHECK_STATUS(st, METRICORE_STATUS_OK);
    json[n] = '\0';
    CHECK(strstr(json, "\"process\"") != NULL && strstr(json, "\"timestamp\"") != NULL);
    free(json);
    struct metricore_gathered *g = NULL;
    CHECK_STATUS(metricore_registry_gather(r, &g), METRICORE_STATUS_OK);
    double rss = 0;
    CHECK_STATUS(metricore_gathered_gauge_value(g, "process_resident_memory_bytes", 29, NULL, 0, &rss),
                 METRICORE_STATUS_OK);
    CHECK(rss > 0);
    metricore_gathered_free(g);

    CHECK_STATUS(metricore_sampler_start(s, 0.001), METRICORE_STATUS_INVALID_CONFIG);
    CHECK(last_error_has("resource sampler"));
    CHECK_STATUS(metricore_sampler_start(s, NAN), METRICORE_STATUS_INVALID_CONFIG);
    CHECK_STATUS(metricore_sampler_start(NULL, 1.0), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(!metricore_sampler_is_running(s));
    CHECK_STATUS(metricore_sampler_start(s, 0.2), METRICORE_STATUS_OK);
    CHECK(metricore_sampler_is_running(s));
    metricore_sampler_stop(s);
    CHECK(!metricore_sampler_is_running(s));
    metricore_sampler_stop(NULL);
    CHECK(!metricore_sampler_is_running(NULL));
    const struct metricore_sampler *s2 = metricore_sampler_clone(s);
    metricore_sampler_free(s);
    metricore_sampler_free(s2);

    /* A family already using a sampler name: the sampler conflicts. */
    const struct metricore_registry *r2 = metricore_registry_new();
    const struct metricore_gauge_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_gauge(builder("process_resident_memory_bytes", NULL, 0), r2, &f),
                 METRICORE_STATUS_OK);
    const struct metricore_sampler *s3 = NULL;
    CHECK_STATUS(metricore_registry_sampler(r2, &s3), METRICORE_STATUS_CONFLICT);
    CHECK(s3 == NULL && last_error_has("process_resident_memory_bytes"));
    metricore_gauge_family_free(f);
    metricore_registry_free(r2);
    metricore_registry_free(r);
}

static void test_panic_boundary(void) {
#if defined(METRICORE_TESTING)
    CHECK_STATUS(metricore_test_panic(), METRICORE_STATUS_PANIC);
    CHECK(last_error_has("a Rust panic was caught at the C boundary: metricore_test_panic was called"));
    CHECK(metricore_test_panic_u64() == 0);
    CHECK(last_error_has("metricore_test_panic_u64 was called"));
    /* The library keeps working after a caught panic. */
    const struct metricore_registry *r = metricore_registry_new();
    const struct metricore_counter_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(builder("after_panic", NULL, 0), r, &f),
                 METRICORE_STATUS_OK);
    metricore_counter_family_free(f);
    metricore_registry_free(r);
#else
    fprintf(stderr, "skipped: the panic test needs a library built with the `testing` feature "
                    "(compile with -DMETRICORE_TESTING)\n");
#endif
}

int main(void) {
    test_versions();
    test_last_error();
    const struct metricore_registry *r = metricore_registry_new();
    CHECK(r != NULL);
    test_builder_errors(r);
    test_counters_and_labels(r);
    test_cardinality(r);
    test_gauges(r);
    test_histograms(r);
    test_v2_blobs(r);
    test_exposition(r);
    test_gathered(r);
    metricore_registry_free(r);
    test_default_registry();
    test_sampler();
    test_panic_boundary();
    return report("test_api");
}
