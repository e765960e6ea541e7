/* The HTTP server through the C ABI: started on a free loopback port, scraped with a plain
 * socket GET, refused on a taken port with METRICORE_STATUS_IO naming the address, bad
 * options rejected, stopped. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

/* GET `path` from 127.0.0.1:`port` with HTTP/1.1 and `Connection: close`; the whole answer
 * (status line, headers, body) in `out`, NUL-terminated. Returns bytes read, -1 when the
 * connection could not be made. */
static long http_get(unsigned short port, const char *path, const char *extra_header, char *out,
                     size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char request[512];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n", path,
                     extra_header);
    if (write(fd, request, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0) {
        got += (size_t)r;
    }
    out[got] = '\0';
    close(fd);
    return (long)got;
}

static const struct metricore_counter *counter(const struct metricore_registry *r,
                                               const char *name) {
    struct metricore_family_builder *b = NULL;
    const struct metricore_counter_family *f = NULL;
    const struct metricore_counter *c = NULL;
    CHECK_STATUS(metricore_family_builder_new(name, strlen(name), "Jobs run.", 9, &b),
                 METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_family_builder_build_counter(b, r, &f), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_counter_family_with_labels(f, NULL, 0, &c), METRICORE_STATUS_OK);
    metricore_counter_family_free(f);
    return c;
}

static char answer[1 << 16];

static void test_serve_and_scrape(void) {
    const struct metricore_registry *r = metricore_registry_new();
    const struct metricore_counter *jobs = counter(r, "jobs");
    metricore_counter_add(jobs, 3);

    struct metricore_server_options *opts = NULL;
    CHECK_STATUS(metricore_server_options_new(&opts), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_listen(opts, "127.0.0.1:0", 11), METRICORE_STATUS_OK);
    struct metricore_server *server = NULL;
    CHECK_STATUS(metricore_server_start(r, opts, &server), METRICORE_STATUS_OK);
    unsigned short port = 0;
    CHECK_STATUS(metricore_server_port(server, &port), METRICORE_STATUS_OK);
    CHECK(port != 0);

    uint8_t addr[64];
    size_t addr_n = 0;
    CHECK_STATUS(metricore_server_local_addr(server, addr, 4, &addr_n),
                 METRICORE_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(metricore_server_local_addr(server, addr, sizeof addr, &addr_n),
                 METRICORE_STATUS_OK);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)port);
    CHECK(addr_n == strlen(want) && memcmp(addr, want, addr_n) == 0);

    CHECK(http_get(port, "/metrics", "", answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(answer, "text/plain; version=0.0.4") != NULL);
    CHECK(strstr(answer, "\njobs_total 3\n") != NULL);

    /* Recorded after the server started: the next scrape has it. */
    metricore_counter_inc(jobs);
    CHECK(http_get(port, "/metrics", "Accept: application/openmetrics-text\r\n", answer,
                   sizeof answer) > 0);
    CHECK(strstr(answer, "\njobs_total 4\n") != NULL);
    CHECK(strstr(answer, "# EOF\n") != NULL);

    CHECK(http_get(port, "/health", "", answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(answer, "\"status\":\"ok\"") != NULL);
    CHECK(http_get(port, "/nowhere", "", answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 404", 12) == 0);

    /* The same port again: the address is named in the error. */
    struct metricore_server *second = NULL;
    CHECK_STATUS(metricore_server_options_set_listen(opts, want, strlen(want)), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_start(r, opts, &second), METRICORE_STATUS_IO);
    CHECK(second == NULL);
    CHECK(last_error_has("cannot listen on"));
    CHECK(last_error_has(want));

    metricore_server_stop(server);
    CHECK(http_get(port, "/metrics", "", answer, sizeof answer) < 0);
    metricore_server_options_free(opts);
    metricore_counter_free(jobs);
    metricore_registry_free(r);
}

static void test_auth(void) {
    const struct metricore_registry *r = metricore_registry_new();
    struct metricore_server_options *opts = NULL;
    CHECK_STATUS(metricore_server_options_new(&opts), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_listen(opts, "127.0.0.1:0", 11), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_bearer_token(opts, "s3cret", 6), METRICORE_STATUS_OK);
    struct metricore_server *server = NULL;
    CHECK_STATUS(metricore_server_start(r, opts, &server), METRICORE_STATUS_OK);
    metricore_server_options_free(opts);
    unsigned short port = 0;
    CHECK_STATUS(metricore_server_port(server, &port), METRICORE_STATUS_OK);
    CHECK(http_get(port, "/health", "", answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 401", 12) == 0);
    CHECK(http_get(port, "/health", "Authorization: Bearer s3cret\r\n", answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200", 12) == 0);
    metricore_server_stop(server);
    metricore_registry_free(r);
}

static void test_bad_input(void) {
    const struct metricore_registry *r = metricore_registry_new();
    struct metricore_server_options *opts = NULL;
    struct metricore_server *server = NULL;
    CHECK_STATUS(metricore_server_options_new(NULL), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_server_options_new(&opts), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_listen(opts, "localhost", 9),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK(last_error_has("'localhost'"));
    CHECK_STATUS(metricore_server_options_set_listen(opts, "\xff:1", 3), METRICORE_STATUS_INVALID_UTF8);
    CHECK_STATUS(metricore_server_options_set_bearer_token(opts, "", 0),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(metricore_server_options_set_basic_auth(opts, "a:b", 3, "pw", 2),
                 METRICORE_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(metricore_server_options_set_listen(opts, "127.0.0.1:0", 11), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_metrics_path(opts, "metrics", 7), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_start(r, opts, &server), METRICORE_STATUS_INVALID_CONFIG);
    CHECK(last_error_has("metrics path"));
    CHECK_STATUS(metricore_server_options_set_metrics_path(opts, "/m", 2), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_options_set_tls(opts, "/nonexistent.pem", 16, "/nonexistent.key", 16),
                 METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_server_start(r, opts, &server), METRICORE_STATUS_IO);
    CHECK(last_error_has("/nonexistent.pem"));
    CHECK_STATUS(metricore_server_start(NULL, opts, &server), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_server_start(r, opts, NULL), METRICORE_STATUS_NULL_PARAMETER);
    CHECK_STATUS(metricore_server_port(NULL, NULL), METRICORE_STATUS_NULL_PARAMETER);
    CHECK(server == NULL);
    metricore_server_stop(NULL);
    metricore_server_options_free(NULL);
    metricore_server_options_free(opts);
    metricore_registry_free(r);
}

int main(void) {
    test_serve_and_scrape();
    test_auth();
    test_bad_input();
    return report("test_server");
}
