/*
 * ycm side of the C benchmark: REQUESTS calls of ycm_update_user(13329, BENCH_BODY) over
 * one ycm_client shared by THREADS threads (keep-alive pool inside the client), each call
 * timed on its own. Prints one key=value line (see bench_common.h).
 *
 * Usage: bench_ycm BASE_URL REQUESTS THREADS [WARMUP]
 */
#include "bench_common.h"

#include "ycm.h"

/* Every thread uses the one shared client. */
static void *thread_setup(void *client) { return client; }

static void thread_teardown(void *client) { (void)client; }

static int update_once(void *client, int report) {
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

int main(int argc, char **argv) {
    struct bench_args args = bench_parse_args(argc, argv);

    ycm_client *client = NULL;
    ycm_status st = ycm_client_new(args.base_url, BENCH_TOKEN, &client);
    if (st.code != YCM_OK) {
        fprintf(stderr, "bench_ycm: ycm_client_new: %s: %s\n", ycm_code_name(st.code), st.message);
        return 2;
    }
    long rss_setup_kb = bench_maxrss_kb();
    const struct bench_peer peer = {"ycm", thread_setup, update_once, thread_teardown};
    int rc = bench_run(&peer, &args, client, rss_setup_kb);
    ycm_client_free(client);
    return rc;
}
