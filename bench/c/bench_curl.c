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

/* One thread's handle, headers and response buffer. */
struct curl_thread {
    CURL *curl;
    struct curl_slist *headers;
    struct body body;
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

static int update_once(void *state, int report) {
    struct curl_thread *t = state;
    CURL *curl = t->curl;
    struct body *b = &t->body;
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

/* A reused easy handle per thread, so that each thread keeps its connection alive. */
static void *thread_setup(void *url) {
    struct curl_thread *t = calloc(1, sizeof *t);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Authorization: Bearer " BENCH_TOKEN);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (t == NULL || curl == NULL || headers == NULL) {
        fprintf(stderr, "bench_curl: curl_easy_init failed\n");
        exit(2);
    }
    t->curl = curl;
    t->headers = headers;
    curl_easy_setopt(curl, CURLOPT_URL, (const char *)url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, BENCH_BODY);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(BENCH_BODY));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, BENCH_USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t->body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    return t;
}

static void thread_teardown(void *state) {
    struct curl_thread *t = state;
    curl_slist_free_all(t->headers);
    curl_easy_cleanup(t->curl);
    free(t);
}

int main(int argc, char **argv) {
    struct bench_args args = bench_parse_args(argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_curl: curl_global_init failed\n");
        return 2;
    }
    long rss_setup_kb = bench_maxrss_kb();
    char url[1024];
    int n = snprintf(url, sizeof url, "%s%s", args.base_url, BENCH_USER_PATH);
    if (n < 0 || (size_t)n >= sizeof url) {
        fprintf(stderr, "bench_curl: base URL too long\n");
        return 2;
    }
    const struct bench_peer peer = {"curl", thread_setup, update_once, thread_teardown};
    int rc = bench_run(&peer, &args, url, rss_setup_kb);
    curl_global_cleanup();
    return rc;
}
