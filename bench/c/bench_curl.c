/*
 * libcurl peer of bench_ycm: the same PUT /dm/open_api/v1/users/13329 with the same headers
 * (Authorization: Bearer, User-Agent, Content-Type and Accept: application/json) and body,
 * one easy handle per thread reused for every request (so its connection is kept alive),
 * the response body collected and checked minimally (HTTP 200 and "Success" in it).
 *
 * Usage: bench_curl BASE_URL REQUESTS THREADS [WARMUP]
 */
#include "bench_common.h"

#include <curl/curl.h>

struct body {
    char data[4096];
    size_t len;
};

struct worker {
    const struct bench_args *args;
    struct bench_slice slice;
    uint64_t *latencies;
    pthread_barrier_t *warm;
    pthread_barrier_t *go;
    char url[1024];
    long errors;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct body *b = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof b->data - 1 - b->len;
    size_t take = n < room ? n : room;
    memcpy(b->data + b->len, ptr, take);
    b->len += take;
    b->data[b->len] = '\0';
    return n;
}

static int update_once(CURL *curl, struct body *b, int report) {
    b->len = 0;
    b->data[0] = '\0';
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    if (rc != CURLE_OK || status != 200 || strstr(b->data, "\"Success\"") == NULL) {
        if (report) {
            fprintf(stderr, "bench_curl: %s, HTTP %ld, body: %.200s\n", curl_easy_strerror(rc),
                    status, b->data);
        }
        return 0;
    }
    return 1;
}

static void *run_worker(void *arg) {
    struct worker *w = arg;
    struct body b;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Authorization: Bearer " BENCH_TOKEN);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (curl == NULL || headers == NULL) {
        fprintf(stderr, "bench_curl: curl_easy_init failed\n");
        exit(2);
    }
    curl_easy_setopt(curl, CURLOPT_URL, w->url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, BENCH_BODY);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(BENCH_BODY));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, BENCH_USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);

    for (long i = 0; i < w->args->warmup; i++) {
        if (!update_once(curl, &b, 1)) {
            exit(1); /* a failing warm-up makes the run meaningless */
        }
    }
    pthread_barrier_wait(w->warm);
    pthread_barrier_wait(w->go);
    for (long i = 0; i < w->slice.count; i++) {
        uint64_t t0 = bench_now_ns();
        int ok = update_once(curl, &b, w->errors == 0);
        w->latencies[w->slice.first + i] = bench_now_ns() - t0;
        if (!ok) {
            w->errors++;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

int main(int argc, char **argv) {
    struct bench_args args = bench_parse_args(argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_curl: curl_global_init failed\n");
        return 2;
    }
    long rss_setup_kb = bench_maxrss_kb();

    uint64_t *latencies = calloc((size_t)args.requests, sizeof *latencies);
    struct worker *workers = calloc((size_t)args.threads, sizeof *workers);
    pthread_t *tids = calloc((size_t)args.threads, sizeof *tids);
    if (latencies == NULL || workers == NULL || tids == NULL) {
        fprintf(stderr, "bench_curl: out of memory\n");
        return 2;
    }
    pthread_barrier_t warm, go;
    pthread_barrier_init(&warm, NULL, (unsigned)args.threads + 1);
    pthread_barrier_init(&go, NULL, (unsigned)args.threads + 1);

    for (long i = 0; i < args.threads; i++) {
        workers[i].args = &args;
        workers[i].slice = bench_slice_of(&args, i);
        workers[i].latencies = latencies;
        workers[i].warm = &warm;
        workers[i].go = &go;
        int n = snprintf(workers[i].url, sizeof workers[i].url, "%s%s", args.base_url,
                         BENCH_USER_PATH);
        if (n < 0 || (size_t)n >= sizeof workers[i].url) {
            fprintf(stderr, "bench_curl: base URL too long\n");
            return 2;
        }
        if (pthread_create(&tids[i], NULL, run_worker, &workers[i]) != 0) {
            fprintf(stderr, "bench_curl: pthread_create failed\n");
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

    int rc = bench_report("curl", &args, latencies, errors, elapsed, rss_setup_kb, cpu_s);
    pthread_barrier_destroy(&warm);
    pthread_barrier_destroy(&go);
    free(tids);
    free(workers);
    free(latencies);
    curl_global_cleanup();
    return rc;
}
