/*
 * The paired, in-process benchmark: ycm (one shared ycm_client), libcurl (one easy handle
 * per thread) and a raw-socket floor (one keep-alive socket per thread writing pre-built
 * request bytes and reading the response with recv) take turns in blocks of REQUESTS
 * requests, in the same process, against the same ycm-mock, alternating who goes first in
 * each round. Per block: requests per second, the client's CPU per request
 * (CLOCK_PROCESS_CPUTIME_ID over the block) and the mock's (the sum of
 * /proc/MOCK_PID/task/N/schedstat, nanoseconds). One key=value line per block.
 *
 * The floor is not a client (no validation, no envelope parsing, no status, the request
 * bytes made once): it shows how close the clients come to what the kernel and the mock
 * cost on their own.
 *
 * Usage: bench_paired BASE_URL REQUESTS THREADS ROUNDS MOCK_PID WARMUP [ONLY]
 *   WARMUP: untimed requests per thread and peer before the first block.
 *   ONLY (ycm, curl or raw): run that peer's blocks and nothing else (syscall counts).
 */
#include "bench_common.h"

#include "ycm.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PEERS = 3, MAX_THREADS = 64 };

/* ---- the mock's CPU ------------------------------------------------------------------ */

static long mock_pid;

/* Nanoseconds of CPU every thread of the mock has used so far. */
static uint64_t mock_cpu_ns(void) {
    char dir_path[64];
    snprintf(dir_path, sizeof dir_path, "/proc/%ld/task", mock_pid);
    DIR *dir = opendir(dir_path);
    if (dir == NULL) {
        return 0;
    }
    uint64_t total = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[384];
        snprintf(path, sizeof path, "%s/%s/schedstat", dir_path, e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f != NULL) {
            if (fscanf(f, "%llu", &ns) == 1) {
                total += ns;
            }
            fclose(f);
        }
    }
    closedir(dir);
    return total;
}

static uint64_t process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the peers ------------------------------------------------------------------------ */

struct peer {
    const char *name;
    /* One request on thread `t`; 1 on success. */
    int (*request)(int t);
};

static ycm_client *client;

static int ycm_request(int t) {
    (void)t;
    ycm_status st = ycm_update_user(client, BENCH_USER_ID, BENCH_BODY);
    return st.code == YCM_OK;
}

struct curl_thread {
    CURL *easy;
    struct curl_slist *headers;
    char body[4096];
    size_t len;
};
static struct curl_thread curls[MAX_THREADS];

static size_t curl_collect(char *data, size_t size, size_t n, void *user) {
    struct curl_thread *c = user;
    size_t bytes = size * n;
    size_t room = sizeof c->body - 1 - c->len;
    size_t take = bytes < room ? bytes : room;
    memcpy(c->body + c->len, data, take);
    c->len += take;
    c->body[c->len] = '\0';
    return bytes;
}

static void curl_setup(int t, const char *url) {
    struct curl_thread *c = &curls[t];
    c->easy = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Authorization: Bearer " BENCH_TOKEN);
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Accept: application/json");
    c->headers = curl_slist_append(c->headers, "Expect:");
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, BENCH_BODY);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_USERAGENT, BENCH_USER_AGENT);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, curl_collect);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 30000L);
}

static int curl_request(int t) {
    struct curl_thread *c = &curls[t];
    c->len = 0;
    if (curl_easy_perform(c->easy) != CURLE_OK) {
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    return status == 200 && strstr(c->body, "\"Success\"") != NULL;
}

static int raw_fds[MAX_THREADS];
static char raw_request[1024];
static size_t raw_request_len;

static void raw_setup(int t, const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &addr.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("bench_paired: raw connect");
        exit(2);
    }
    raw_fds[t] = fd;
}

/* Sends the pre-built request; reads the headers and Content-Length bytes of body. */
static int raw_request_once(int t) {
    int fd = raw_fds[t];
    if (send(fd, raw_request, raw_request_len, 0) != (ssize_t)raw_request_len) {
        return 0;
    }
    char buf[8192];
    size_t len = 0;
    long want = -1;
    size_t header_end = 0;
    while (want < 0 || len < header_end + (size_t)want) {
        ssize_t got = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (got <= 0) {
            return 0;
        }
        len += (size_t)got;
        buf[len] = '\0';
        if (want < 0) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end == NULL) {
                continue;
            }
            header_end = (size_t)(end - buf) + 4;
            for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2) {
                if (strncasecmp(line, "content-length:", 15) == 0) {
                    want = strtol(line + 15, NULL, 10);
                }
            }
            if (want < 0) {
                return 0;
            }
        }
    }
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf + header_end, "\"Success\"");
}

static const struct peer peers[PEERS] = {
    {"ycm", ycm_request},
    {"curl", curl_request},
    {"raw", raw_request_once},
};

/* ---- one block ------------------------------------------------------------------------ */

struct block_worker {
    const struct peer *peer;
    int thread;
    long count;
    long errors;
    pthread_barrier_t *go;
};

static void *block_worker_main(void *arg) {
    struct block_worker *w = arg;
    pthread_barrier_wait(w->go);
    for (long i = 0; i < w->count; i++) {
        if (!w->peer->request(w->thread)) {
            w->errors++;
        }
    }
    return NULL;
}

/* Runs one block on args->threads threads; prints its line unless it is a warm-up (round 0). */
static int run_block(const struct peer *peer, const struct bench_args *args, int round) {
    struct block_worker workers[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)args->threads + 1);
    for (long t = 0; t < args->threads; t++) {
        struct bench_slice slice = bench_slice_of(args, t);
        struct block_worker w = {peer, (int)t, slice.count, 0, &go};
        workers[t] = w;
        pthread_create(&tids[t], NULL, block_worker_main, &workers[t]);
    }
    uint64_t mock0 = mock_cpu_ns();
    uint64_t cpu0 = process_cpu_ns();
    uint64_t t0 = bench_now_ns();
    pthread_barrier_wait(&go);
    long errors = 0;
    for (long t = 0; t < args->threads; t++) {
        pthread_join(tids[t], NULL);
        errors += workers[t].errors;
    }
    uint64_t elapsed = bench_now_ns() - t0;
    uint64_t cpu = process_cpu_ns() - cpu0;
    uint64_t mock = mock_cpu_ns() - mock0;
    pthread_barrier_destroy(&go);
    if (round == 0) {
        return errors == 0;
    }
    double n = (double)args->requests;
    printf("bench=paired impl=%s round=%d threads=%ld requests=%ld errors=%ld seconds=%.4f rps=%.1f "
           "cpu_us_per_req=%.2f mock_cpu_us_per_req=%.2f\n",
           peer->name, round, args->threads, args->requests, errors, (double)elapsed / 1e9,
           (n - (double)errors) / ((double)elapsed / 1e9), (double)cpu / 1e3 / n,
           (double)mock / 1e3 / n);
    fflush(stdout);
    return errors == 0;
}

int main(int argc, char **argv) {
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: %s BASE_URL REQUESTS THREADS ROUNDS MOCK_PID WARMUP [ONLY]\n",
                argv[0]);
        return 2;
    }
    char *shifted[6] = {argv[0], argv[1], argv[2], argv[3], argv[6], NULL};
    struct bench_args args = bench_parse_args(5, shifted);
    long rounds = bench_parse_long(argv[4], "ROUNDS", 1);
    mock_pid = bench_parse_long(argv[5], "MOCK_PID", 1);
    const char *only = argc == 8 ? argv[7] : NULL;
    if (args.threads > MAX_THREADS) {
        fprintf(stderr, "THREADS must be at most %d\n", MAX_THREADS);
        return 2;
    }

    char host[64];
    int port = 0;
    if (sscanf(args.base_url, "http://%63[0-9.]:%d", host, &port) != 2) {
        fprintf(stderr, "BASE_URL must be http://IPV4:PORT, got %s\n", args.base_url);
        return 2;
    }
    char url[256];
    snprintf(url, sizeof url, "%s%s", args.base_url, BENCH_USER_PATH);
    raw_request_len = (size_t)snprintf(
        raw_request, sizeof raw_request,
        "PUT %s HTTP/1.1\r\nhost: %s:%d\r\nuser-agent: %s\r\naccept: application/json\r\n"
        "authorization: Bearer %s\r\ncontent-type: application/json\r\n"
        "content-length: %zu\r\n\r\n%s",
        BENCH_USER_PATH, host, port, BENCH_USER_AGENT, BENCH_TOKEN, strlen(BENCH_BODY),
        BENCH_BODY);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    ycm_status st = ycm_client_new(args.base_url, BENCH_TOKEN, &client);
    if (st.code != YCM_OK) {
        fprintf(stderr, "bench_paired: ycm_client_new: %s\n", st.message);
        return 2;
    }
    /* Set up and warm every peer on every thread (connections open, pools filled). */
    for (long t = 0; t < args.threads; t++) {
        curl_setup((int)t, url);
        raw_setup((int)t, host, port);
    }
    struct bench_args warm = args;
    warm.requests = args.warmup * args.threads;
    for (int p = 0; p < PEERS; p++) {
        if ((only == NULL || strcmp(only, peers[p].name) == 0) && warm.requests > 0 &&
            !run_block(&peers[p], &warm, 0)) {
            fprintf(stderr, "bench_paired: %s warm-up requests failed\n", peers[p].name);
            return 1;
        }
    }

    int ok = 1;
    for (long round = 1; round <= rounds; round++) {
        for (int i = 0; i < PEERS; i++) {
            /* Odd rounds ycm, curl, raw; even rounds the reverse. */
            const struct peer *peer = &peers[round % 2 ? i : PEERS - 1 - i];
            if (only == NULL || strcmp(only, peer->name) == 0) {
                ok &= run_block(peer, &args, (int)round);
            }
        }
    }

    for (long t = 0; t < args.threads; t++) {
        curl_slist_free_all(curls[t].headers);
        curl_easy_cleanup(curls[t].easy);
        close(raw_fds[t]);
    }
    ycm_client_free(client);
    curl_global_cleanup();
    return ok ? 0 : 1;
}
