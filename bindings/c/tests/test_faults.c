/*
 * The fault matrix from C: for every scripted case of ycm-fault-server (a raw-TCP peer
 * started here, one process per case, stopped and reaped at the end of the case), one
 * ycm_update_user with a 1.5 s budget and 2 fast retries must give exactly the code,
 * http_status and attempts of tests/fault_matrix.rs, a message that says why, and return
 * within the budget plus 700 ms, measured on CLOCK_MONOTONIC. Prints the measured matrix.
 * Each fault server runs natively, never under valgrind (it is started with fork + execv,
 * and c.mk does not pass --trace-children).
 *
 * Environment: YCM_FAULT_SERVER_BIN (default target/release/ycm-fault-server);
 * YCM_FAULT_SLACK_MS (default 3000) is added to the elapsed bounds: they catch hangs, not slowness.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm_checks.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define TOKEN "ycm-mock-token"
#define BUDGET_MS 1500
#define MATRIX_CONFIG                                                                    \
  "\"access_token\":\"" TOKEN "\",\"timeout_ms\":1500,\"connect_timeout_ms\":500,"      \
  "\"max_retries\":2,\"retry_base_ms\":10,\"retry_max_ms\":50"
#define FAULT_REQUEST_ID "0123456789abcdef0123456789abcdef"
#define FAULT_TIME 1664437503LL

/* Every pid this test started, to prove at the end that none is left. */
static pid_t started[64];
static size_t started_count;

static long slack_ms(void) {
  const char *slack = getenv("YCM_FAULT_SLACK_MS");
  return slack != NULL ? strtol(slack, NULL, 10) : 3000; /* catches hangs, not slowness */
}

static const char *fault_server_bin(void) {
  const char *bin = getenv("YCM_FAULT_SERVER_BIN");
  return bin != NULL && bin[0] != '\0' ? bin : "target/release/ycm-fault-server";
}

/* Starts `ycm-fault-server --case NAME`; its URL goes to url. */
static pid_t start_case(const char *name, char *url, size_t url_len) {
  const char *argv[] = {fault_server_bin(), "--case", name, NULL};
  pid_t pid = th_spawn_server(argv, NULL, url, url_len);
  CHECK_MSG(pid > 0, "ycm-fault-server --case %s did not start (%s)", name, fault_server_bin());
  if (pid > 0 && started_count < sizeof started / sizeof started[0]) {
    started[started_count++] = pid;
  }
  return pid;
}

static void stop_case(pid_t pid) {
  if (pid > 0) {
    int status = th_stop_server(pid);
    CHECK_MSG(status != -1, "pid %ld was reaped", (long)pid);
  }
}

static ycm_client *client_for(const char *url, const char *options) {
  char config[1024];
  snprintf(config, sizeof config, "{\"base_url\":\"%s\",%s}", url, options);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS_L(config, st, YCM_OK, 0, 0, NULL);
  return client;
}

static void print_row(const char *name, ycm_status st, double elapsed_ms) {
  printf("     %-22s %-24s %4u %8u %8.0f ms\n", name, ycm_code_name(st.code),
         (unsigned)st.http_status, (unsigned)st.attempts, elapsed_ms);
  fflush(stdout);
}

/* One update against `url`, timed. */
static ycm_status timed_update(const char *url, const char *options, double *elapsed_ms) {
  ycm_client *client = client_for(url, options);
  ycm_status st;
  memset(&st, 0, sizeof st);
  st.code = YCM_ERR_INTERNAL;
  *elapsed_ms = 0;
  if (client != NULL) {
    double t0 = th_now_ms();
    st = ycm_update_user(client, 13329, "{\"company\": \"x\"}");
    *elapsed_ms = th_now_ms() - t0;
  }
  ycm_client_free(client);
  return st;
}

static void check_within_budget(const char *name, double elapsed_ms) {
  double bound = BUDGET_MS + 700 + (double)slack_ms();
  CHECK_MSG(elapsed_ms < bound, "%s took %.0f ms, bound %.0f ms", name, elapsed_ms, bound);
}

/* ---------------------------------------------------------------- the matrix */

struct fault_case {
  const char *name;
  ycm_code code;
  int http_status;
  int attempts;
  const char *message;
  long long api_errcode; /* -1: not checked */
};

static const struct fault_case matrix[] = {
    {"silent", YCM_ERR_TIMEOUT, 0, 1, "did not complete within timeout_ms", -1},
    {"stall-after-headers", YCM_ERR_TIMEOUT, 200, 1, "did not complete within timeout_ms", -1},
    {"drip", YCM_ERR_TIMEOUT, 0, 1, "did not complete within timeout_ms", -1},
    {"close-mid-body", YCM_ERR_IO, 200, 3, "connection failed", -1},
    {"reset", YCM_ERR_IO, 0, 3, "connection failed", -1},
    {"non-json-200", YCM_ERR_BAD_RESPONSE, 200, 1, "not JSON", -1},
    {"missing-request-id", YCM_ERR_BAD_RESPONSE, 200, 1, "\"requestId\" is missing", -1},
    {"missing-status", YCM_ERR_BAD_RESPONSE, 200, 1, "\"status\" is missing", -1},
    {"missing-time", YCM_ERR_BAD_RESPONSE, 200, 1, "\"time\" is missing", -1},
    {"huge", YCM_ERR_BAD_RESPONSE, 200, 1, "larger than max_response_bytes", -1},
    {"html-502", YCM_ERR_HTTP, 502, 3, "HTTP 502: <html><head><title>502 Bad Gateway", -1},
    {"failed-errcode", YCM_ERR_API, 200, 1, "user not found (errcode 20001)", 20001},
    {"failed-errno", YCM_ERR_API, 200, 1, "user not found (errcode 20001)", 20001},
    {"failed-detail-message", YCM_ERR_API, 200, 1, "user not found (errcode 20001)", 20001},
    {"failed-message", YCM_ERR_API, 200, 1, "user not found", -1},
    {"not-http", YCM_ERR_BAD_RESPONSE, 0, 1, "not valid HTTP", -1},
    {"redirect-elsewhere", YCM_ERR_HTTP, 307, 1, "HTTP 307", -1},
};

static void test_fault_matrix(void) {
  printf("     %-22s %-24s %4s %8s %11s\n", "case", "code", "http", "attempts", "elapsed");
  for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
    const struct fault_case *want = &matrix[i];
    char url[256];
    pid_t pid = start_case(want->name, url, sizeof url);
    if (pid <= 0) {
      continue;
    }
    double elapsed_ms;
    ycm_status st = timed_update(url, MATRIX_CONFIG, &elapsed_ms);
    print_row(want->name, st, elapsed_ms);
    CHECK_STATUS_L(want->name, st, want->code, want->http_status, want->attempts, want->message);
    if (want->api_errcode >= 0) {
      CHECK_MSG(st.api_errcode == want->api_errcode, "%s: api_errcode %lld", want->name,
                (long long)st.api_errcode);
    }
    if (want->code == YCM_ERR_API) {
      /* A Failed envelope is a complete answer: its requestId and time are reported. */
      CHECK_STREQ(st.request_id, FAULT_REQUEST_ID);
      CHECK_EQ_LL(st.time, FAULT_TIME);
    }
    check_within_budget(want->name, elapsed_ms);
    stop_case(pid);
  }
}

/* ---------------------------------------------------------------- transient faults */

static void test_503_then_200(void) {
  char url[256];
  pid_t pid = start_case("503-then-200", url, sizeof url);
  if (pid <= 0) {
    return;
  }
  double elapsed_ms;
  ycm_status st = timed_update(url, MATRIX_CONFIG, &elapsed_ms);
  print_row("503-then-200", st, elapsed_ms);
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL);
  CHECK_STREQ(st.request_id, FAULT_REQUEST_ID);
  CHECK_EQ_LL(st.time, FAULT_TIME);
  check_within_budget("503-then-200", elapsed_ms);
  stop_case(pid);
}

/* Retry-After: 1 is honoured (the wait is not cut to retry_max_ms). The budget is 5 s here,
 * as in tests/fault_matrix.rs: the 1 s wait must fit in what is left after the first
 * attempt, and under valgrind that attempt alone can take a good part of 1.5 s. */
static void test_429_then_200(void) {
  char url[256];
  pid_t pid = start_case("429-then-200", url, sizeof url);
  if (pid <= 0) {
    return;
  }
  double elapsed_ms;
  ycm_status st = timed_update(
      url,
      "\"access_token\":\"" TOKEN "\",\"timeout_ms\":5000,\"connect_timeout_ms\":500,"
      "\"max_retries\":2,\"retry_base_ms\":10,\"retry_max_ms\":50",
      &elapsed_ms);
  print_row("429-then-200", st, elapsed_ms);
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL);
  CHECK_MSG(elapsed_ms >= 950, "Retry-After: 1 honoured: %.0f ms", elapsed_ms);
  CHECK_MSG(elapsed_ms < 5000 + (double)slack_ms(), "429-then-200 took %.0f ms", elapsed_ms);
  stop_case(pid);
}

static void test_closed_port(void) {
  int port = th_closed_port();
  CHECK(port > 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  double elapsed_ms;
  ycm_status st = timed_update(url, MATRIX_CONFIG, &elapsed_ms);
  print_row("closed-port", st, elapsed_ms);
  CHECK_STATUS(st, YCM_ERR_CONNECT, 0, 3, NULL);
  check_within_budget("closed-port", elapsed_ms);
}

/* ---------------------------------------------------------------- clean-up */

static void test_no_server_left_behind(void) {
  CHECK_EQ_LL(th_children_running(), 0);
  CHECK_EQ_LL(started_count, sizeof matrix / sizeof matrix[0] + 2);
  /* Every child was reaped (no zombie) ... */
  errno = 0;
  pid_t left = waitpid(-1, NULL, WNOHANG);
  CHECK_MSG(left == -1 && errno == ECHILD, "waitpid(-1) -> %ld (%s)", (long)left,
            strerror(errno));
  /* ... and none is still running somewhere (no orphan). */
  for (size_t i = 0; i < started_count; i++) {
    errno = 0;
    CHECK_MSG(kill(started[i], 0) == -1 && errno == ESRCH, "pid %ld still exists",
              (long)started[i]);
  }
}

int main(void) {
  printf("ycm C fault tests with %s (libycm %s)\n", fault_server_bin(), ycm_version());
  th_run("fault matrix: code, http_status, attempts, message, budget", test_fault_matrix);
  th_run("503 then 200: retried to success", test_503_then_200);
  th_run("429 with Retry-After: 1, then 200", test_429_then_200);
  th_run("closed port: connect error after 3 attempts", test_closed_port);
  th_run("every fault server stopped and reaped", test_no_server_left_behind);
  return th_finish();
}
