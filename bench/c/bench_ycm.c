/*
 * ycm side of the C benchmark: REQUESTS calls of ycm_update_user(13329, BENCH_BODY) over
 * one ycm_client shared by THREADS threads (keep-alive pool inside the client), each call
 * timed on its own. Prints one key=value line (see bench_common.h).
 *
 * Usage: bench_ycm BASE_URL REQUESTS THREADS [WARMUP]
 */
#include "bench_common.h"

#include "ycm.h"

struct worker {
    const ycm_client *client;
    const struct bench_args *args;
    struct bench_slice slice;
    uint64_t *latencies;
    pthread_barrier_t *warm;
    pthread_barrier_t *go;
    long errors;
};

static int update_once(const ycm_client *client, int report) {
    ycm_status st = ycm_update_user(client, BENCH_USER_ID, BENCH_BODY);
    if (st.code != YCM_OK) {
        if (report) {
            fprintf(stderr, "bench_ycm: %s (http %u): %s\n", ycm_code_name(st.code),
                    (unsigned)st.http_status, st.message);
        }
        return 0;
    }
    return 1;
}

static void *run_worker(void *arg) {
    struct worker *w = arg;
    for (long i = 0; i < w->args->warmup; i++) {
        if (!update_once(w->client, 1)) {
            exit(1); /* a failing warm-up makes the run meaningless */
        }
    }
    pthread_barrier_wait(w->warm);
    pthread_barrier_wait(w->go);
    for (long i = 0; i < w->slice.count; i++) {
        uint64_t t0 = bench_now_ns();
        int ok = update_once(w->client, w->errors == 0);
        w->latencies[w->slice.first + i] = bench_now_ns() - t0;
        if (!ok) {
            w->errors++;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    struct bench_args args = bench_parse_args(argc, argv);

    ycm_client *client = NULL;
    ycm_status st = ycm_client_new(args.base_url, BENCH_TOKEN, &client);
    if (st.code != YCM_OK) {
        fprintf(stderr, "bench_ycm: ycm_client_new: %s: %s\n", ycm_code_name(st.code), st.message);
        return 2;
    }
    long rss_setup_kb = bench_maxrss_kb();

    uint64_t *latencies = calloc((size_t)args.requests, sizeof *latencies);
    struct worker *workers = calloc((size_t)args.threads, sizeof *workers);
    pthread_t *tids = calloc((size_t)args.threads, sizeof *tids);
    if (latencies == NULL || workers == NULL || tids == NULL) {
        fprintf(stderr, "bench_ycm: out of memory\n");
        return 2;
    }
    pthread_barrier_t warm, go;
    pthread_barrier_init(&warm, NULL, (unsigned)args.threads + 1);
    pthread_barrier_init(&go, NULL, (unsigned)args.threads + 1);

    for (long i = 0; i < args.threads; i++) {
        workers[i].client = client;
        workers[i].args = &args;
        workers[i].slice = bench_slice_of(&args, i);
        workers[i].latencies = latencies;
        workers[i].warm = &warm;
        workers[i].go = &go;
        if (pthread_create(&tids[i], NULL, run_worker, &workers[i]) != 0) {
            fprintf(stderr, "bench_ycm: pthread_create failed\n");
            return 2;
        }
    }
    pthread_barrier_wait(&warm);
    double cpu0 = bench_cpu_seconds();
    uint64_t t0 = bench_now_ns();
    pthread_barrier_wait(&go);
    long errors = 0;
    for (long i = 0; i < args.threads; i++) {
        pthread_join(tids[i], NULL);
        errors += workers[i].errors;
    }
    uint64_t elapsed = bench_now_ns() - t0;
    double cpu_s = bench_cpu_seconds() - cpu0;

    int rc = bench_report("ycm", &args, latencies, errors, elapsed, rss_setup_kb, cpu_s);
    pthread_barrier_destroy(&warm);
    pthread_barrier_destroy(&go);
    free(tids);
    free(workers);
    free(latencies);
    ycm_client_free(client);
    return rc;
}
