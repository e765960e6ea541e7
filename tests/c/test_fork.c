/* fork() at random moments while other threads render, record, create series, register and
 * unregister families, rotate a window and set exemplars (both under per-series locks that a
 * render takes too), and the resource sampler runs: every child must render, record into the
 * window with an exemplar, look up a new series and register a family at once, and find the
 * sampler stopped. A child that has not exited after 10 s is reported as hung and killed, so a
 * regression fails the run instead of hanging it. The number of forks is the first argument
 * (default 60). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"


static const struct metricore_registry *registry;
static const struct metricore_counter_family *requests;
static atomic_int stopping;

static void sleep_us(long us) {
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

static void *render_loop(void *arg) {
    (void)arg;
    static char buf[1 << 20];
    while (!atomic_load(&stopping)) {
        size_t n = 0;
        metricore_registry_render(registry, METRICORE_FORMAT_OPEN_METRICS, (uint8_t *)buf,
                                  sizeof buf, &n);
    }
    return NULL;
}

static void *record_loop(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    char label[32];
    while (!atomic_load(&stopping)) {
        /* Mostly existing series, now and then a new one. */
        snprintf(label, sizeof label, "u%u", rand_r(&seed) % 4000);
        struct metricore_str v[] = {ms(label)};
        const struct metricore_counter *c = NULL;
        if (metricore_counter_family_with_labels(requests, v, 1, &c) == METRICORE_STATUS_OK) {
            metricore_counter_inc(c);
            metricore_counter_free(c);
        }
    }
    return NULL;
}

static void *churn_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&stopping)) {
        struct metricore_family_builder *b = NULL;
        metricore_family_builder_new("churn", 5, NULL, 0, &b);
        const struct metricore_counter_family *f = NULL;
        if (metricore_family_builder_build_counter(b, registry, &f) == METRICORE_STATUS_OK) {
            metricore_counter_family_free(f);
        }
        bool removed = false;
        metricore_registry_unregister(registry, "churn", 5, &removed);
    }
    return NULL;
}

static void *window_and_exemplar_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&stopping)) {
        metricore_test_window_and_exemplar_work(registry, 100);
    }
    return NULL;
}

static const struct metricore_sampler *sampler;

/* What a child does; its exit code says what failed. */
static int child_work(void) {
    static char buf[1 << 20];
    size_t n = 0;
    if (metricore_registry_render(registry, METRICORE_FORMAT_OPEN_METRICS, (uint8_t *)buf,
                                  sizeof buf, &n) != METRICORE_STATUS_OK) {
        return 2;
    }
    if (metricore_test_window_and_exemplar_work(registry, 3) != METRICORE_STATUS_OK) {
        return 7;
    }
    /* The parent's sampler thread does not exist here: the child sees it stopped. */
    if (metricore_sampler_is_running(sampler)) {
        return 8;
    }
    struct metricore_str v[] = {ms("child")};
    const struct metricore_counter *c = NULL;
    if (metricore_counter_family_with_labels(requests, v, 1, &c) != METRICORE_STATUS_OK) {
        return 3;
    }
    metricore_counter_inc(c);
    metricore_counter_free(c);
    struct metricore_family_builder *b = NULL;
    metricore_family_builder_new("child_only", 10, NULL, 0, &b);
    const struct metricore_counter_family *f = NULL;
    if (metricore_family_builder_build_counter(b, registry, &f) != METRICORE_STATUS_OK) {
        return 4;
    }
    metricore_counter_family_free(f);
    if (metricore_registry_render(registry, METRICORE_FORMAT_TEXT, (uint8_t *)buf,
                                  sizeof buf - 1, &n) != METRICORE_STATUS_OK) {
        return 5;
    }
    buf[n] = '\0';
    if (strstr(buf, "requests_total{user=\"child\"} 1\n") == NULL) {
        return 6;
    }
    return 0;
}

int main(int argc, char **argv) {
    int forks = argc > 1 ? atoi(argv[1]) : 60;
    registry = metricore_registry_new();
    struct metricore_family_builder *b = NULL;
    metricore_family_builder_new("requests", 8, "Requests.", 9, &b);
    struct metricore_str user[] = {ms("user")};
    metricore_family_builder_set_labels(b, user, 1);
    CHECK_STATUS(metricore_family_builder_build_counter(b, registry, &requests), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_registry_sampler(registry, &sampler), METRICORE_STATUS_OK);
    CHECK_STATUS(metricore_sampler_start(sampler, 0.1), METRICORE_STATUS_OK);

    CHECK_STATUS(metricore_test_window_and_exemplar_work(registry, 1), METRICORE_STATUS_OK);
    pthread_t threads[6];
    pthread_create(&threads[0], NULL, render_loop, NULL);
    pthread_create(&threads[1], NULL, render_loop, NULL);
    pthread_create(&threads[2], NULL, record_loop, (void *)(uintptr_t)1);
    pthread_create(&threads[3], NULL, record_loop, (void *)(uintptr_t)2);
    pthread_create(&threads[4], NULL, churn_loop, NULL);
    pthread_create(&threads[5], NULL, window_and_exemplar_loop, NULL);

    unsigned seed = 42;
    int hung = 0, failed = 0;
    for (int i = 0; i < forks; i++) {
        sleep_us(rand_r(&seed) % 3000);
        pid_t pid = fork();
        if (pid == 0) {
            _exit(child_work());
        }
        CHECK(pid > 0);
        int status = 0;
        pid_t done = 0;
        for (int waited = 0; waited < 10000 && done == 0; waited++) {
            done = waitpid(pid, &status, WNOHANG);
            if (done == 0) {
                sleep_us(1000);
            }
        }
        if (done == 0) {
            hung++;
            fprintf(stderr, "fork %d: the child hung; killing it\n", i);
            /* METRICORE_HANG_GDB=1: print where the hung child waits, before killing it. */
            if (getenv("METRICORE_HANG_GDB") != NULL) {
                char cmd[128];
                snprintf(cmd, sizeof cmd, "gdb -q -batch -p %d -ex 'thread apply all bt' 1>&2",
                         (int)pid);
                if (system(cmd) != 0) {
                    fprintf(stderr, "fork %d: gdb could not attach\n", i);
                }
            }
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            fprintf(stderr, "fork %d: the child failed (status %d)\n", i, status);
        }
    }
    CHECK(hung == 0);
    CHECK(failed == 0);
    printf("%d forks: %d hung, %d failed\n", forks, hung, failed);

    atomic_store(&stopping, 1);
    for (int i = 0; i < 6; i++) {
        pthread_join(threads[i], NULL);
    }
    metricore_sampler_stop(sampler);
    metricore_sampler_free(sampler);
    metricore_counter_family_free(requests);
    metricore_registry_free(registry);
    return report("test_fork");
}
