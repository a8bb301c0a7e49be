/*
 * The fault matrix from C. The cases and their expected outcomes are not written here: they
 * are the one table of the mock crate (mock/src/fault_matrix.rs), which the Rust and Python
 * suites read too, printed by `ycm-fault-server --cases-tsv` (one row per line, tab-separated,
 * "-" for a value not checked). For every row, a ycm-fault-server serving the row's case is
 * started here (one process per row, stopped and reaped at the end of the row), and one
 * ycm_update_user with the row's client options must give exactly the row's code,
 * http_status and attempts, a message holding the row's fragment, the row's api_errcode and
 * envelope data, and take a time within the row's bounds, measured on CLOCK_MONOTONIC (an
 * upper bound that only guards against a hang includes a generous slack). Prints the
 * measured matrix. A closed port, which no peer can script, is a connect error. Each fault
 * server runs natively, never under valgrind (it is started with fork + execv, and c.mk does
 * not pass --trace-children).
 *
 * Environment: YCM_FAULT_SERVER_BIN (default target/release/ycm-fault-server).
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
#include <unistd.h>

#define TOKEN "ycm-mock-token"
#define MAX_ROWS 64
#define TSV_COLUMNS 12

/* Every pid this test started, to prove at the end that none is left. */
static pid_t started[MAX_ROWS];
static size_t started_count;

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

/* A client for `url` with the options of `client_json` (a JSON object) and the token. */
static ycm_client *client_for(const char *url, const char *client_json) {
  char config[1024];
  CHECK_MSG(client_json[0] == '{', "client options %s", client_json);
  snprintf(config, sizeof config, "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",%s", url,
           client_json + 1);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS_L(config, st, YCM_OK, 0, 0, NULL);
  return client;
}

static void print_row(const char *name, ycm_status st, double elapsed_ms) {
  printf("     %-30s %-24s %4u %8u %8.0f ms\n", name, ycm_code_name(st.code),
         (unsigned)st.http_status, (unsigned)st.attempts, elapsed_ms);
  fflush(stdout);
}

/* One update against `url`, timed. */
static ycm_status timed_update(const char *url, const char *client_json, double *elapsed_ms) {
  ycm_client *client = client_for(url, client_json);
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

/* ---------------------------------------------------------------- the table */

/* One row of `ycm-fault-server --cases-tsv`; the strings point into table_text. */
struct fault_row {
  const char *name, *case_name, *code_name, *request_id, *client, *message;
  ycm_code code;
  long http_status, attempts;
  int check_errcode, check_time;
  long long api_errcode, time;
  double min_ms, max_ms;
};

static char *table_text;
static struct fault_row rows[MAX_ROWS];
static size_t row_count;

/* Runs `ycm-fault-server --cases-tsv`; returns its whole stdout (malloc'd) or NULL. */
static char *read_table(void) {
  int out[2];
  if (pipe(out) != 0) {
    return NULL;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    const char *bin = fault_server_bin();
    char *const argv[] = {(char *)bin, (char *)"--cases-tsv", NULL};
    close(out[0]);
    if (dup2(out[1], STDOUT_FILENO) >= 0) {
      execv(bin, argv);
    }
    _exit(127);
  }
  close(out[1]);
  size_t len = 0, cap = 0;
  char *text = NULL;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = cap * 2 + 8192;
      char *bigger = realloc(text, cap);
      if (bigger == NULL) {
        break;
      }
      text = bigger;
    }
    ssize_t n = read(out[0], text + len, cap - len - 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
  }
  close(out[0]);
  int status = -1;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0 || text == NULL) {
    CHECK_MSG(0, "%s --cases-tsv failed (status %d)", fault_server_bin(), status);
    free(text);
    return NULL;
  }
  text[len] = '\0';
  return text;
}

/* The code whose ycm_code_name is `name` (the library's own names). */
static int code_named(const char *name, ycm_code *out) {
  for (int number = 0; number <= 255; number++) {
    if (strcmp(ycm_code_name((ycm_code)number), name) == 0) {
      *out = (ycm_code)number;
      return 1;
    }
  }
  return 0;
}

/* "-" is a value the row does not check. */
static int given(const char *field) { return strcmp(field, "-") != 0; }

/* Splits one line into exactly TSV_COLUMNS fields (in place) and fills *row. */
static int parse_row(char *line, struct fault_row *row) {
  char *field[TSV_COLUMNS];
  size_t count = 0;
  for (char *p = line; count < TSV_COLUMNS; count++) {
    field[count] = p;
    char *tab = strchr(p, '\t');
    if (tab == NULL) {
      count++;
      break;
    }
    *tab = '\0';
    p = tab + 1;
  }
  if (count != TSV_COLUMNS || strchr(field[TSV_COLUMNS - 1], '\t') != NULL) {
    return 0;
  }
  row->name = field[0];
  row->case_name = field[1];
  row->code_name = field[2];
  row->http_status = strtol(field[3], NULL, 10);
  row->attempts = strtol(field[4], NULL, 10);
  row->check_errcode = given(field[5]);
  row->api_errcode = row->check_errcode ? strtoll(field[5], NULL, 10) : 0;
  row->request_id = field[6];
  row->check_time = given(field[7]);
  row->time = row->check_time ? strtoll(field[7], NULL, 10) : 0;
  row->min_ms = strtod(field[8], NULL);
  row->max_ms = strtod(field[9], NULL);
  row->client = field[10];
  row->message = given(field[11]) ? field[11] : NULL;
  return code_named(row->code_name, &row->code);
}

static void test_read_the_table(void) {
  table_text = read_table();
  if (table_text == NULL) {
    return;
  }
  char *save = NULL;
  for (char *line = strtok_r(table_text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    if (line[0] == '#') {
      continue;
    }
    CHECK_MSG(row_count < MAX_ROWS, "more than %d rows", MAX_ROWS);
    if (row_count >= MAX_ROWS) {
      break;
    }
    int ok = parse_row(line, &rows[row_count]);
    CHECK_MSG(ok, "row %zu is not %d tab-separated fields with a known code", row_count + 1,
              TSV_COLUMNS);
    row_count += ok ? 1 : 0;
  }
  CHECK_MSG(row_count >= 19, "%zu rows", row_count); /* every case has a row */
}

/* ---------------------------------------------------------------- the matrix */

static void test_fault_matrix(void) {
  printf("     %-30s %-24s %4s %8s %11s\n", "case", "code", "http", "attempts", "elapsed");
  for (size_t i = 0; i < row_count; i++) {
    const struct fault_row *want = &rows[i];
    char url[256];
    pid_t pid = start_case(want->case_name, url, sizeof url);
    if (pid <= 0) {
      continue;
    }
    double elapsed_ms;
    ycm_status st = timed_update(url, want->client, &elapsed_ms);
    print_row(want->name, st, elapsed_ms);
    CHECK_STATUS_L(want->name, st, want->code, (int)want->http_status, want->attempts,
                   want->message);
    if (want->check_errcode) {
      CHECK_MSG(st.api_errcode == want->api_errcode, "%s: api_errcode %lld, expected %lld",
                want->name, (long long)st.api_errcode, want->api_errcode);
    }
    if (given(want->request_id)) {
      CHECK_MSG(strcmp(st.request_id, want->request_id) == 0, "%s: request_id \"%s\"",
                want->name, st.request_id);
    }
    if (want->check_time) {
      CHECK_MSG(st.time == want->time, "%s: time %lld", want->name, (long long)st.time);
    }
    CHECK_MSG(elapsed_ms >= want->min_ms && elapsed_ms < want->max_ms,
              "%s took %.0f ms, bounds %.0f..%.0f ms", want->name, elapsed_ms, want->min_ms,
              want->max_ms);
    stop_case(pid);
  }
}

/* ---------------------------------------------------------------- no peer */

static void test_closed_port(void) {
  int port = th_closed_port();
  CHECK(port > 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  /* The suites' options: those of the table's first row. */
  const char *client = row_count > 0 ? rows[0].client : "{}";
  double elapsed_ms;
  ycm_status st = timed_update(url, client, &elapsed_ms);
  print_row("closed-port", st, elapsed_ms);
  CHECK_STATUS(st, YCM_ERR_CONNECT, 0, 3, NULL);
}

/* ---------------------------------------------------------------- clean-up */

static void test_no_server_left_behind(void) {
  CHECK_EQ_LL(th_children_running(), 0);
  CHECK_EQ_LL(started_count, row_count);
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
  th_run("the table of ycm-fault-server --cases-tsv", test_read_the_table);
  th_run("fault matrix: code, http_status, attempts, message, envelope, elapsed",
         test_fault_matrix);
  th_run("closed port: connect error after 3 attempts", test_closed_port);
  th_run("every fault server stopped and reaped", test_no_server_left_behind);
  free(table_text);
  return th_finish();
}
