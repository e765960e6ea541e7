/* Custom collectors through the C ABI: a callback adds gauge and counter families through a
 * sink; one that fails, one that is slow and one whose family name clashes with a registered
 * family each cost only themselves, and every other family of the scrape is still there. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

struct queue {
    const char *family;      /* the gauge family it adds */
    atomic_int fail;         /* return this status instead of collecting */
    atomic_int freed;        /* times free_queue ran */
    atomic_int entered;      /* set when a collection starts */
    atomic_int release;      /* a slow collection waits for this */
    int slow;
};

static uint32_t collect_queue(void *user_data, metricore_collector_sink *sink) {
    struct queue *q = user_data;
    atomic_store(&q->entered, 1);
    if (q->slow) {
        /* Waits for the test (at most 30 s, so a deadlock fails rather than hangs). */
        for (int i = 0; i < 30000 && !atomic_load(&q->release); i++) {
            struct timespec ms1 = {0, 1000000};
            nanosleep(&ms1, NULL);
        }
    }
    int fail = atomic_load(&q->fail);
    if (fail != 0) {
        return (uint32_t)fail;
    }
    struct metricore_str names[] = {ms("queue")};
    metricore_status s = metricore_collector_sink_family(
        sink, q->family, strlen(q->family), "Items waiting.", 14, METRICORE_COLLECTED_KIND_GAUGE,
        names, 1);
    if (s != METRICORE_STATUS_OK) {
        return s;
    }
    struct metricore_str high[] = {ms("high")}, low[] = {ms("low")};
    metricore_collector_sink_value(sink, high, 1, 3.0);
    metricore_collector_sink_value(sink, low, 1, 0.5);
    s = metricore_collector_sink_family(sink, "queue_taken", 11, NULL, 0,
                                        METRICORE_COLLECTED_KIND_COUNTER, NULL, 0);
    if (s == METRICORE_STATUS_OK) {
        s = metricore_collector_sink_value(sink, NULL, 0, 12.0);
    }
    return s;
}

static void free_queue(void *user_data) {
    struct queue *q = user_data;
    atomic_fetch_add(&q->freed, 1);
}

/* One scrape into a static buffer. */
static const char *render(const struct metricore_registry *r) {
    static char buf[1 << 16];
    size_t n = 0;
    if (metricore_registry_render(r, METRICORE_FORMAT_TEXT, (uint8_t *)buf, sizeof buf - 1, &n) !=
        METRICORE_STATUS_OK) {
        return "(render failed)";
    }
    buf[n] = '\0';
    return buf;
}

static int has(const char *text, const char *line) {
    if (strstr(text, line) != NULL) {
        return 1;
    }
    fprintf(stderr, "    exposition lacks \"%s\":\n%s\n", line, text);
    return 0;
}

/* A registry with a counter jobs_total at 3. */
static const struct metricore_registry *with_jobs(const struct metricore_counter **jobs) {
    const struct metricore_registry *r = metricore_registry_new();
    struct metricore_family_builder *b = NULL;
    metricore_family_builder_new("jobs", 4, "Jobs.", 5, &b);
    const struct metricore_counter_family *f = NULL;
    metricore_family_builder_build_counter(b, r, &f);
    metricore_counter_family_with_labels(f, NULL, 0, jobs);
    metricore_counter_add(*jobs, 3);
    metricore_counter_family_free(f);
    return r;
}

static void test_families_and_failure(void) {
    const struct metricore_counter *jobs = NULL;
    const struct metricore_registry *r = with_jobs(&jobs);
    static struct queue q = {.family = "queue_depth"};
    CHECK_STATUS(metricore_registry_register_collector(r, "queues", 6, collect_queue, &q,
                                                       free_queue),
                 METRICORE_STATUS_OK);
    const char *text = render(r);
    CHECK(has(text, "queue_depth{queue=\"high\"} 3\n"));
    CHECK(has(text, "queue_depth{queue=\"low\"} 0.5\n"));
    CHECK(has(text, "queue_taken_total 12\n"));
    CHECK(has(text, "jobs_total 3\n"));

    atomic_store(&q.fail, METRICORE_STATUS_NOT_FOUND);
    text = render(r);
    CHECK(strstr(text, "queue_depth") == NULL);
    CHECK(has(text, "jobs_total 3\n"));
    CHECK(has(text, "metricore_collector_errors_total{collector=\"queues\"} 1\n"));

    bool removed = false;
    CHECK_STATUS(metricore_registry_unregister_collector(r, "queues", 6, &removed),
                 METRICORE_STATUS_OK);
    CHECK(removed);
    CHECK(atomic_load(&q.freed) == 1);
    metricore_counter_free(jobs);
    metricore_registry_free(r);
    CHECK(atomic_load(&q.freed) == 1);
}

static void test_clash(void) {
    const struct metricore_counter *jobs = NULL;
    const struct metricore_registry *r = with_jobs(&jobs);
    static struct queue clash = {.family = "jobs_total"};
    CHECK_STATUS(metricore_registry_register_collector(r, "clash", 5, collect_queue, &clash,
                                                       free_queue),
                 METRICORE_STATUS_CONFLICT);
    CHECK(last_error_has("jobs_total"));
    CHECK(atomic_load(&clash.freed) == 1);
    CHECK_STATUS(metricore_registry_register_collector(r, "none", 4, NULL, &clash, free_queue),
                 METRICORE_STATUS_NULL_PARAMETER);
    CHECK(atomic_load(&clash.freed) == 2);
    CHECK(has(render(r), "jobs_total 3\n"));
    metricore_counter_free(jobs);
    metricore_registry_free(r);
}

struct scrape {
    const struct metricore_registry *r;
    char text[1 << 16];
};

static void *scrape_thread(void *arg) {
    struct scrape *s = arg;
    strcpy(s->text, render(s->r));
    return NULL;
}

static void test_slow(void) {
    const struct metricore_counter *jobs = NULL;
    const struct metricore_registry *r = with_jobs(&jobs);
    static struct queue slow = {.family = "slow_depth", .slow = 1};
    atomic_store(&slow.release, 1); /* registration collects once: let it through */
    CHECK_STATUS(metricore_registry_register_collector(r, "slow", 4, collect_queue, &slow,
                                                       free_queue),
                 METRICORE_STATUS_OK);
    atomic_store(&slow.release, 0);
    atomic_store(&slow.entered, 0);
    static struct scrape s;
    s.r = r;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, scrape_thread, &s) == 0);
    while (!atomic_load(&slow.entered)) {
        struct timespec ms1 = {0, 1000000};
        nanosleep(&ms1, NULL);
    }
    /* While the collector is busy: recording, registering and unregistering go on. */
    metricore_counter_inc(jobs);
    struct metricore_family_builder *b = NULL;
    metricore_family_builder_new("meanwhile", 9, NULL, 0, &b);
    const struct metricore_counter_family *f = NULL;
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &f), METRICORE_STATUS_OK);
    bool removed = false;
    CHECK_STATUS(metricore_registry_unregister(r, "meanwhile", 9, &removed), METRICORE_STATUS_OK);
    CHECK(removed);
    CHECK(!atomic_load(&slow.release)); /* it was still collecting throughout */
    atomic_store(&slow.release, 1);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(has(s.text, "slow_depth{queue=\"high\"} 3\n"));
    CHECK(strstr(s.text, "jobs_total") != NULL);
    metricore_counter_family_free(f);
    metricore_counter_free(jobs);
    metricore_registry_free(r);
    CHECK(atomic_load(&slow.freed) == 1);
}

int main(void) {
    test_families_and_failure();
    test_clash();
    test_slow();
    return report("test_collector");
}
