/*
 * Shared helpers of the C benchmarks: command line, clock, latency percentiles, peak RSS,
 * the one-line result every bench prints, and bench_run, the driver that times a peer's
 * requests over THREADS threads. Header-only so that each bench is one translation unit;
 * both benches use exactly the same measurement code and differ only in their bench_peer.
 *
 * Usage of every bench: PROG BASE_URL REQUESTS THREADS [WARMUP]
 * Output: one line of key=value pairs on stdout (parsed by bench/summarize.py).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The work every peer does: the same PUT, the same headers, the same body. */
#define BENCH_USER_ID 13329
#define BENCH_USER_PATH "/dm/open_api/v1/users/13329"
#define BENCH_TOKEN "ycm-mock-token"
#define BENCH_USER_AGENT "ycm/0.1.0"
#define BENCH_BODY "{\"company\":\"Bench Co\",\"remark\":\"benchmark run\"}"

struct bench_args {
    const char *base_url;
    long requests; /* timed requests, all threads together */
    long threads;
    long warmup;   /* untimed requests per thread before the clock starts */
};

static long bench_parse_long(const char *text, const char *what, long min) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min) {
        fprintf(stderr, "bad %s: \"%s\" (an integer >= %ld)\n", what, text, min);
        exit(2);
    }
    return value;
}

static struct bench_args bench_parse_args(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s BASE_URL REQUESTS THREADS [WARMUP]\n", argv[0]);
        exit(2);
    }
    struct bench_args args;
    args.base_url = argv[1];
    args.requests = bench_parse_long(argv[2], "REQUESTS", 1);
    args.threads = bench_parse_long(argv[3], "THREADS", 1);
    args.warmup = argc == 5 ? bench_parse_long(argv[4], "WARMUP", 0) : 20;
    if (args.threads > args.requests) {
        fprintf(stderr, "THREADS must not exceed REQUESTS\n");
        exit(2);
    }
    return args;
}

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Peak resident set size of this process so far, in KiB (Linux reports ru_maxrss in KiB). */
static long bench_maxrss_kb(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return -1;
    }
    return usage.ru_maxrss;
}

/* CPU time (user + system) of the whole process so far, in seconds. */
static double bench_cpu_seconds(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return -1.0;
    }
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static int bench_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted[0..n), in microseconds. */
static double bench_percentile_us(const uint64_t *sorted, long n, double p) {
    long rank = (long)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > n) {
        rank = n;
    }
    return (double)sorted[rank - 1] / 1000.0;
}

/*
 * Work split: thread i of T does requests/T timed requests (the first requests%T threads
 * one more) and writes its latencies at latencies[first..first+count).
 */
struct bench_slice {
    long first;
    long count;
};

static struct bench_slice bench_slice_of(const struct bench_args *args, long thread) {
    long base = args->requests / args->threads;
    long extra = args->requests % args->threads;
    struct bench_slice slice;
    slice.first = thread * base + (thread < extra ? thread : extra);
    slice.count = base + (thread < extra ? 1 : 0);
    return slice;
}

/* Prints the result line; sorts latencies in place. Returns the process exit status. */
static inline int bench_report(const char *impl, const struct bench_args *args, uint64_t *latencies,
                        long errors, uint64_t elapsed_ns, long rss_setup_kb, double cpu_s) {
    long ok = args->requests - errors;
    double seconds = (double)elapsed_ns / 1e9;
    qsort(latencies, (size_t)args->requests, sizeof latencies[0], bench_cmp_u64);
    printf("impl=%s threads=%ld requests=%ld errors=%ld seconds=%.4f rps=%.1f p50_us=%.1f "
           "p99_us=%.1f cpu_s=%.3f cpu_us_per_req=%.1f rss_setup_kb=%ld maxrss_kb=%ld\n",
           impl, args->threads, args->requests, errors, seconds,
           (double)ok / seconds, bench_percentile_us(latencies, args->requests, 50.0),
           bench_percentile_us(latencies, args->requests, 99.0), cpu_s,
           cpu_s * 1e6 / (double)args->requests, rss_setup_kb, bench_maxrss_kb());
    fflush(stdout);
    return errors == 0 ? 0 : 1;
}

/*
 * A peer under test: per-thread state made from what main prepared (`shared`), one request
 * (1 on success; `report` asks it to explain a failure on stderr), and the state's cleanup.
 */
struct bench_peer {
    const char *name;
    void *(*thread_setup)(void *shared);
    int (*request)(void *state, int report);
    void (*thread_teardown)(void *state);
};

struct bench_worker {
    const struct bench_peer *peer;
    void *shared;
    const struct bench_args *args;
    struct bench_slice slice;
    uint64_t *latencies;
    pthread_barrier_t *warm;
    pthread_barrier_t *go;
    long errors;
};

static void *bench_worker_main(void *arg) {
    struct bench_worker *w = arg;
    void *state = w->peer->thread_setup(w->shared);
    for (long i = 0; i < w->args->warmup; i++) {
        if (!w->peer->request(state, 1)) {
            exit(1); /* a failing warm-up makes the run meaningless */
        }
    }
    pthread_barrier_wait(w->warm);
    pthread_barrier_wait(w->go);
    for (long i = 0; i < w->slice.count; i++) {
        uint64_t t0 = bench_now_ns();
        int ok = w->peer->request(state, w->errors == 0);
        w->latencies[w->slice.first + i] = bench_now_ns() - t0;
        if (!ok) {
            w->errors++;
        }
    }
    w->peer->thread_teardown(state);
    return NULL;
}

/*
 * Warms every thread up, then times args->requests requests split over args->threads
 * threads (the clock and the CPU counter start when all are ready), and prints the result
 * line. Returns the process exit status.
 */
static inline int bench_run(const struct bench_peer *peer, const struct bench_args *args, void *shared,
                     long rss_setup_kb) {
    uint64_t *latencies = calloc((size_t)args->requests, sizeof *latencies);
    struct bench_worker *workers = calloc((size_t)args->threads, sizeof *workers);
    pthread_t *tids = calloc((size_t)args->threads, sizeof *tids);
    if (latencies == NULL || workers == NULL || tids == NULL) {
        fprintf(stderr, "bench_%s: out of memory\n", peer->name);
        return 2;
    }
    pthread_barrier_t warm, go;
    pthread_barrier_init(&warm, NULL, (unsigned)args->threads + 1);
    pthread_barrier_init(&go, NULL, (unsigned)args->threads + 1);
    for (long i = 0; i < args->threads; i++) {
        struct bench_worker w = {peer, shared, args, bench_slice_of(args, i), latencies,
                                 &warm, &go, 0};
        workers[i] = w;
        if (pthread_create(&tids[i], NULL, bench_worker_main, &workers[i]) != 0) {
            fprintf(stderr, "bench_%s: pthread_create failed\n", peer->name);
            return 2;
        }
    }
    pthread_barrier_wait(&warm);
    double cpu0 = bench_cpu_seconds();
    uint64_t t0 = bench_now_ns();
    pthread_barrier_wait(&go);
    long errors = 0;
    for (long i = 0; i < args->threads; i++) {
        pthread_join(tids[i], NULL);
        errors += workers[i].errors;
    }
    uint64_t elapsed = bench_now_ns() - t0;
    double cpu_s = bench_cpu_seconds() - cpu0;

    int rc = bench_report(peer->name, args, latencies, errors, elapsed, rss_setup_kb, cpu_s);
    pthread_barrier_destroy(&warm);
    pthread_barrier_destroy(&go);
    free(tids);
    free(workers);
    free(latencies);
    return rc;
}

#endif /* BENCH_COMMON_H */
