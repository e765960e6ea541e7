/* The hot path from 4 threads at once: counter inc/add, gauge add, histogram record, each
 * through its own handle and through a shared one, with exact totals afterwards. */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t under -std=c11 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define THREADS 4

static uint64_t iterations = 200000;

struct shared {
    const struct metricore_counter_family *requests;
    const struct metricore_counter *all;    /* one handle, used by every thread */
    const struct metricore_gauge *inflight;
    const struct metricore_histogram *latency;
    pthread_barrier_t start;
};

struct worker {
    struct shared *shared;
    int index;
    int ok;
};

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *sh = w->shared;
    char label[16];
    snprintf(label, sizeof label, "t%d", w->index);
    struct metricore_str v[] = {ms(label)};
    const struct metricore_counter *mine = NULL;
    /* Each thread takes its own series handle, then hammers shared and own cells. */
    w->ok = metricore_counter_family_with_labels(sh->requests, v, 1, &mine) == METRICORE_STATUS_OK;
    const struct metricore_counter *all = metricore_counter_clone(sh->all);
    pthread_barrier_wait(&sh->start);
    for (uint64_t i = 0; i < iterations; i++) {
        metricore_counter_inc(mine);
        metricore_counter_inc(all);
        metricore_counter_add(all, 2);
        metricore_gauge_add(sh->inflight, 1.0);
        metricore_histogram_record(sh->latency, 1 + (i % 2000));
        metricore_gauge_add(sh->inflight, -1.0);
    }
    metricore_counter_free(all);
    metricore_counter_free(mine);
    /* The last error is per thread: each thread reads its own failure back. */
    const struct metricore_counter *none = NULL;
    struct metricore_str two[] = {ms(label), ms(label)};
    char msg[256], want[64];
    size_t n = 0;
    snprintf(want, sizeof want, "got %d", w->index == 0 ? 2 : 0);
    metricore_status st = metricore_counter_family_with_labels(sh->requests, two, w->index == 0 ? 2 : 0, &none);
    pthread_barrier_wait(&sh->start); /* every thread has failed before any reads */
    w->ok &= st == METRICORE_STATUS_INVALID_LABELS &&
             metricore_last_error_message(msg, sizeof msg, &n) == METRICORE_STATUS_OK &&
             strstr(msg, want) != NULL;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        iterations = strtoull(argv[1], NULL, 10);
    }
    const struct metricore_registry *r = metricore_registry_new();
    struct shared sh;
    struct metricore_family_builder *b = NULL;
    struct metricore_str thread_label[] = {ms("thread")};
    CHECK_STATUS(metricore_family_builder_new("thread_requests", 15, NULL, 0, &b), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_set_labels(b, thread_label, 1), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &sh.requests), METRICORE_STATUS_OK);
    const struct metricore_counter_family *all_f = NULL;
    CHECK_STATUS(metricore_family_builder_new("all_requests", 12, NULL, 0, &b), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &all_f), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_counter_family_with_labels(all_f, NULL, 0, &sh.all), METRICORE_STATUS_OK);
    const struct metricore_gauge_family *g_f = NULL;
    CHECK_STATUS(metricore_family_builder_new("inflight", 8, NULL, 0, &b), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_gauge(b, r, &g_f), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_gauge_family_with_labels(g_f, NULL, 0, &sh.inflight), METRICORE_STATUS_OK);
    const struct metricore_histogram_family *h_f = NULL;
    CHECK_STATUS(metricore_family_builder_new("work_latency", 12, NULL, 0, &b), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_histogram(b, r, &h_f), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_histogram_family_with_labels(h_f, NULL, 0, &sh.latency), METRICORE_STATUS_OK);
    pthread_barrier_init(&sh.start, NULL, THREADS);

    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){&sh, i, 0};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(workers[i].ok);
    }
    pthread_barrier_destroy(&sh.start);

    const uint64_t n = iterations;
    CHECK(metricore_counter_get(sh.all) == THREADS * n * 3);
    CHECK(metricore_gauge_get(sh.inflight) == 0.0);
    CHECK(metricore_histogram_count(sh.latency) == THREADS * n);

    /* Exact totals in a collection too: per-thread series, and the histogram's sum. */
    struct metricore_gathered *g = NULL;
    CHECK_STATUS(metricore_registry_gather(r, &g), METRICORE_STATUS_OK);
    for (int i = 0; i < THREADS; i++) {
        char label[16];
        snprintf(label, sizeof label, "t%d", i);
        struct metricore_str v[] = {ms(label)};
        uint64_t got = 0;
        CHECK_STATUS(metricore_gathered_counter_value(g, "thread_requests", 15, v, 1, &got),
                     METRICORE_STATUS_OK);
        CHECK(got == n);
    }
    struct metricore_histogram_snapshot *s = NULL;
    CHECK_STATUS(metricore_gathered_histogram(g, "work_latency", 12, NULL, 0, &s), METRICORE_STATUS_OK);
    /* Values 1..2000 cycle; the exact integer sum of what each thread recorded. */
    uint64_t per_thread = 0;
    for (uint64_t i = 0; i < n; i++) {
        per_thread += 1 + (i % 2000);
    }
    CHECK(metricore_histogram_snapshot_count(s) == THREADS * n);
    double want_sum = (double)(THREADS * per_thread);
    CHECK(fabs(metricore_histogram_snapshot_sum(s) * 1e6 - want_sum) <= 1e-9 * want_sum);
    CHECK(metricore_histogram_snapshot_min(s) == 1);
    CHECK(metricore_histogram_snapshot_max(s) == (n >= 2000 ? 2000 : n));
    metricore_histogram_snapshot_free(s);
    metricore_gathered_free(g);

    metricore_histogram_free(sh.latency);
    metricore_histogram_family_free(h_f);
    metricore_gauge_free(sh.inflight);
    metricore_gauge_family_free(g_f);
    metricore_counter_free(sh.all);
    metricore_counter_family_free(all_f);
    metricore_counter_family_free(sh.requests);
    metricore_registry_free(r);
    printf("hot path from %d threads x %llu iterations: exact\n", THREADS, (unsigned long long)n);
    return report("test_threads");
}
