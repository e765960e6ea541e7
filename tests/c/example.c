/* An example C service: counts requests by method and status code, records their latency
 * in milliseconds, tracks requests in flight, and prints the Prometheus exposition (or
 * OpenMetrics with --openmetrics) the way a /metrics handler would serve it.
 *
 * Build against an installed metricore:
 *     cc -std=c11 example.c $(pkg-config --cflags --libs metricore) -o example */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <metricore.h>

static void die(const char *what, metricore_status st) {
    char msg[512];
    size_t n = 0;
    metricore_last_error_message(msg, sizeof msg, &n);
    fprintf(stderr, "%s: %s: %s\n", what, metricore_status_str(st), msg);
    exit(1);
}

#define TRY(what, call)                           \
    do {                                          \
        metricore_status st_ = (call);            \
        if (st_ != METRICORE_STATUS_OK) {         \
            die(what, st_);                       \
        }                                         \
    } while (0)

static struct metricore_family_builder *family(const char *name, const char *help) {
    struct metricore_family_builder *b = NULL;
    TRY(name, metricore_family_builder_new(name, strlen(name), help, strlen(help), &b));
    return b;
}

int main(int argc, char **argv) {
    if (metricore_abi_version() != METRICORE_ABI_VERSION) {
        fprintf(stderr, "libmetricore ABI %u, header ABI %d\n", metricore_abi_version(),
                METRICORE_ABI_VERSION);
        return 1;
    }
    const struct metricore_registry *registry = metricore_registry_default();

    /* Registration: once, at start-up. */
    struct metricore_str method_code[] = {{"method", 6}, {"code", 4}};
    struct metricore_family_builder *b = family("http_requests", "Requests served.");
    TRY("labels", metricore_family_builder_set_labels(b, method_code, 2));
    const struct metricore_counter_family *requests = NULL;
    TRY("http_requests", metricore_family_builder_build_counter(b, registry, &requests));

    b = family("http_request_duration", "Request latency.");
    TRY("labels", metricore_family_builder_set_labels(b, method_code, 1));
    TRY("unit", metricore_family_builder_set_unit(b, "seconds", 7));
    const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
    TRY("buckets", metricore_family_builder_set_histogram_buckets(b, bounds, 8));
    const struct metricore_histogram_family *latency = NULL;
    TRY("http_request_duration", metricore_family_builder_build_histogram(b, registry, &latency));

    b = family("http_requests_in_flight", "Requests being served.");
    const struct metricore_gauge_family *inflight_f = NULL;
    TRY("http_requests_in_flight", metricore_family_builder_build_gauge(b, registry, &inflight_f));
    const struct metricore_gauge *inflight = NULL;
    TRY("in flight", metricore_gauge_family_with_labels(inflight_f, NULL, 0, &inflight));

    /* Handles per label set, taken once: the hot path then never looks a label up. */
    const char *methods[] = {"GET", "POST"};
    const char *codes[] = {"200", "500"};
    const struct metricore_counter *count[2][2];
    const struct metricore_histogram *took[2];
    for (int m = 0; m < 2; m++) {
        struct metricore_str mv[] = {{methods[m], strlen(methods[m])}};
        TRY("latency series", metricore_histogram_family_with_labels(latency, mv, 1, &took[m]));
        for (int c = 0; c < 2; c++) {
            struct metricore_str v[] = {{methods[m], strlen(methods[m])}, {codes[c], 3}};
            TRY("request series", metricore_counter_family_with_labels(requests, v, 2, &count[m][c]));
        }
    }

    /* Serve 1000 simulated requests: every 7th POST fails, latencies 1..64 ms. */
    unsigned seed = 12345;
    for (int i = 0; i < 1000; i++) {
        int m = i % 3 == 0;
        int failed = m && i % 7 == 0;
        metricore_gauge_inc(inflight);
        seed = seed * 1103515245u + 12345u;
        double ms = 1.0 + (double)((seed >> 16) % 64000) / 1000.0;
        TRY("record", metricore_histogram_record_ms(took[m], ms));
        metricore_counter_inc(count[m][failed]);
        metricore_gauge_dec(inflight);
    }
    /* A timed request: the timer records when stopped. */
    struct metricore_timer *t = metricore_histogram_start_timer(took[0]);
    metricore_counter_inc(count[0][0]);
    metricore_timer_stop(t);

    /* Scrape: the format a Prometheus server asks for, or the one on the command line. */
    const char *accept = argc > 1 && strcmp(argv[1], "--openmetrics") == 0
                             ? "application/openmetrics-text;version=1.0.0"
                             : "text/plain;version=0.0.4";
    uint32_t format = METRICORE_FORMAT_TEXT;
    TRY("negotiate", metricore_format_negotiate(accept, strlen(accept), &format));
    size_t n = 0;
    uint8_t *body = NULL;
    metricore_status st = METRICORE_STATUS_BUFFER_TOO_SMALL;
    while (st == METRICORE_STATUS_BUFFER_TOO_SMALL) { /* values may grow between calls */
        free(body);
        body = malloc(n + 256);
        st = metricore_registry_render(registry, format, body, n + 256, &n);
    }
    TRY("render", st);
    fwrite(body, 1, n, stdout);
    free(body);

    for (int m = 0; m < 2; m++) {
        metricore_histogram_free(took[m]);
        for (int c = 0; c < 2; c++) {
            metricore_counter_free(count[m][c]);
        }
    }
    metricore_gauge_free(inflight);
    metricore_gauge_family_free(inflight_f);
    metricore_histogram_family_free(latency);
    metricore_counter_family_free(requests);
    metricore_registry_free(registry);
    return 0;
}
