/* ns/op of counter inc and histogram record through the C ABI beside the same loop in Rust,
 * in one process: the Rust loops are exported by the library's `testing` feature
 * (metricore_bench_rust_*), run on the same handles, interleaved batch by batch with the C
 * loops, and each side reports the median of its batches. The difference is the cost of the
 * ABI: a call that Rust inlines, the NULL check and the panic boundary (free unless a panic
 * happens).
 *
 * Usage: bench [--quick] [--no-bar]
 * Exits non-zero when a difference is above the bar (1.5 ns/op), unless --no-bar. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metricore.h"

#ifndef METRICORE_TESTING
#error "bench.c needs the testing exports: compile with -DMETRICORE_TESTING"
#endif

#define BAR_NS 1.5
#define MAX_BATCHES 64

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t c_counter(const struct metricore_counter *c, uint64_t n) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        metricore_counter_inc(c);
    }
    return now_ns() - t0;
}

static uint64_t c_histogram(const struct metricore_histogram *h, uint64_t n) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        metricore_histogram_record(h, 100 + (i & 1023));
    }
    return now_ns() - t0;
}

/* Runs `batches` interleaved batches of both loops; returns the medians in ns/op. */
static void measure(const char *what, int batches, uint64_t n,
                    uint64_t (*in_c)(const void *, uint64_t),
                    uint64_t (*in_rust)(const void *, uint64_t), const void *handle,
                    double *abi_out, double *rust_out) {
    double abi[MAX_BATCHES], rust[MAX_BATCHES];
    in_c(handle, n / 4); /* warm up: pages, caches, branch predictors */
    in_rust(handle, n / 4);
    for (int b = 0; b < batches; b++) {
        if (b % 2 == 0) {
            abi[b] = (double)in_c(handle, n) / (double)n;
            rust[b] = (double)in_rust(handle, n) / (double)n;
        } else {
            rust[b] = (double)in_rust(handle, n) / (double)n;
            abi[b] = (double)in_c(handle, n) / (double)n;
        }
    }
    *abi_out = median(abi, batches);
    *rust_out = median(rust, batches);
    printf("%-18s ABI %6.2f ns/op   Rust %6.2f ns/op   difference %+6.2f ns/op   (median of %d batches of %llu)\n",
           what, *abi_out, *rust_out, *abi_out - *rust_out, batches, (unsigned long long)n);
}

static uint64_t c_counter_v(const void *h, uint64_t n) { return c_counter(h, n); }
static uint64_t rust_counter_v(const void *h, uint64_t n) { return metricore_bench_rust_counter_inc(h, n); }
static uint64_t c_histogram_v(const void *h, uint64_t n) { return c_histogram(h, n); }
static uint64_t rust_histogram_v(const void *h, uint64_t n) { return metricore_bench_rust_histogram_record(h, n); }

int main(int argc, char **argv) {
    int quick = 0, bar = 1;
    for (int i = 1; i < argc; i++) {
        quick |= strcmp(argv[i], "--quick") == 0;
        bar &= strcmp(argv[i], "--no-bar") != 0;
    }
    int batches = quick ? 9 : 21;
    uint64_t n = quick ? 1000000 : 5000000;

    const struct metricore_registry *r = metricore_registry_new();
    struct metricore_family_builder *b = NULL;
    const struct metricore_counter_family *cf = NULL;
    const struct metricore_histogram_family *hf = NULL;
    const struct metricore_counter *c = NULL;
    const struct metricore_histogram *h = NULL;
    if (metricore_family_builder_new("bench_ops", 9, NULL, 0, &b) != METRICORE_STATUS_OK ||
        metricore_family_builder_build_counter(b, r, &cf) != METRICORE_STATUS_OK ||
        metricore_counter_family_with_labels(cf, NULL, 0, &c) != METRICORE_STATUS_OK ||
        metricore_family_builder_new("bench_latency", 13, NULL, 0, &b) != METRICORE_STATUS_OK ||
        metricore_family_builder_build_histogram(b, r, &hf) != METRICORE_STATUS_OK ||
        metricore_histogram_family_with_labels(hf, NULL, 0, &h) != METRICORE_STATUS_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    /* Noise on a shared machine only ever adds time, and can hit one side's batches more
     * than the other's; a real ABI cost shows in every round. So a round that misses the
     * bar is measured again, up to three rounds in all, and the bar holds if one round
     * meets it. */
    double abi_c = 0, rust_c = 0, abi_h = 0, rust_h = 0;
    int within = 0, rounds = 0;
    while (!within && rounds < 3) {
        if (rounds > 0) {
            printf("round %d missed the bar: measuring again\n", rounds);
        }
        measure("counter inc", batches, n, c_counter_v, rust_counter_v, c, &abi_c, &rust_c);
        measure("histogram record", batches, n, c_histogram_v, rust_histogram_v, h, &abi_h, &rust_h);
        within = abi_c - rust_c <= BAR_NS && abi_h - rust_h <= BAR_NS;
        rounds++;
    }

    /* Every call counted: the loops really ran. */
    uint64_t calls = (uint64_t)rounds * ((uint64_t)(2 * batches) * n + 2 * (n / 4));
    int ok = metricore_counter_get(c) == calls && metricore_histogram_count(h) == calls;
    if (!ok) {
        fprintf(stderr, "counts differ from the calls made\n");
    }
    printf("bar: ABI <= Rust + %.1f ns/op: %s%s\n", BAR_NS, within ? "met" : "NOT met",
           bar ? "" : " (not enforced for this build)");

    metricore_counter_free(c);
    metricore_histogram_free(h);
    metricore_counter_family_free(cf);
    metricore_histogram_family_free(hf);
    metricore_registry_free(r);
    return ok && (within || !bar) ? 0 : 1;
}
