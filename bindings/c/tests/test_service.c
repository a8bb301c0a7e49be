/*
 * C tests of libycm inside the services it lives in, against a running ycm-mock
 * (YCM_MOCK_URL): fork() with a pooled connection (each process must get its own
 * answers), ycm_client_free while calls are still running (no use after free: run under
 * ASan and valgrind), cancellation from another thread (ycm_cancel_*), and the log
 * callback (ycm_set_log_callback).
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm.h"
#include "ycm_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "ycm-mock-token"

static ycm_client *new_client(void) {
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new(th_mock_url(), TOKEN, &client);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  return client;
}

static void set_faults(const char *json) {
  char reply[256];
  int status = th_http("POST", "/__mock/faults", json, reply, sizeof reply);
  CHECK_MSG(status == 200, "POST /__mock/faults %s -> %d %s", json, status, reply);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Reads user `id` `rounds` times; returns how many answers were not about `id` or failed. */
static int read_own_user(ycm_client *client, long long id, int rounds) {
  char expected[48];
  snprintf(expected, sizeof expected, "\"userId\":%lld", id);
  int wrong = 0;
  for (int i = 0; i < rounds; i++) {
    char *json = NULL;
    ycm_status st = ycm_get_user(client, id, &json);
    if (st.code != YCM_OK || strstr(json, expected) == NULL) {
      wrong++;
    }
    ycm_string_free(json);
  }
  return wrong;
}

/* Parent and child keep reading different users on the client the parent used before
 * fork(): with a shared pooled socket their answers cross. */
static void test_fork_child_never_shares_the_parents_connection(void) {
  ycm_client *client = new_client();
  CHECK_EQ_LL(read_own_user(client, 13329, 3), 0); /* a pooled connection exists */
  fflush(NULL);
  pid_t child = fork();
  if (child == 0) {
    int wrong = read_own_user(client, 13330, 300);
    _exit(wrong > 100 ? 100 : wrong);
  }
  CHECK(child > 0);
  int wrong_parent = read_own_user(client, 13329, 300);
  int status = 0;
  CHECK_EQ_LL(waitpid(child, &status, 0), child);
  CHECK_MSG(WIFEXITED(status), "child status %d", status);
  CHECK_MSG(WEXITSTATUS(status) == 0, "child got %d wrong answers", WEXITSTATUS(status));
  CHECK_MSG(wrong_parent == 0, "parent got %d wrong answers", wrong_parent);
  ycm_client_free(client);
}

struct busy_call {
  ycm_client *client;
  ycm_code code;
};

static void *slow_update(void *arg) {
  struct busy_call *call = arg;
  ycm_status st = ycm_update_user(call->client, 13329, "{\"remark\":\"freed under me\"}");
  call->code = st.code;
  return NULL;
}

/* A contract violation that interpreters commit at exit: the handle is freed while calls
 * on it run. The calls must finish without touching freed memory (ASan, valgrind). */
static void test_free_while_calls_run_touches_no_freed_memory(void) {
  /* Each call is still running when the handle is freed, then retries a 503 (using the
   client again). */
  set_faults("{\"latency_ms\":300,\"fail_next\":4,\"fail_status\":503}");
  ycm_client *client = new_client();
  enum { THREADS = 4 };
  pthread_t threads[THREADS];
  struct busy_call calls[THREADS];
  for (int i = 0; i < THREADS; i++) {
    calls[i].client = client;
    calls[i].code = YCM_ERR_INTERNAL;
    CHECK_EQ_LL(pthread_create(&threads[i], NULL, slow_update, &calls[i]), 0);
  }
  sleep_ms(100);
  ycm_client_free(client);
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    CHECK_MSG(calls[i].code == YCM_OK, "call %d: %s", i, ycm_code_name(calls[i].code));
  }
  set_faults("{}");
}

struct trigger {
  ycm_cancel *cancel;
  long delay_ms;
  double at_ms;
};

static void *trigger_later(void *arg) {
  struct trigger *t = arg;
  sleep_ms(t->delay_ms);
  t->at_ms = th_now_ms();
  ycm_cancel_trigger(t->cancel);
  return NULL;
}

static void test_cancel_from_another_thread(void) {
  ycm_client *client = new_client();
  char *json = NULL;
  CHECK_STATUS(ycm_get_user(client, 13329, &json), YCM_OK, 200, 1, NULL);
  ycm_string_free(json);
  json = NULL;

  set_faults("{\"latency_ms\":20000}");
  ycm_cancel *cancel = NULL;
  CHECK_STATUS(ycm_cancel_new(&cancel), YCM_OK, 0, 0, NULL);
  CHECK(!ycm_cancel_is_triggered(cancel));
  struct trigger t = {cancel, 200, 0};
  pthread_t thread;
  CHECK_EQ_LL(pthread_create(&thread, NULL, trigger_later, &t), 0);
  ycm_status st = ycm_get_user_with_cancel(client, 13329, cancel, &json);
  double returned = th_now_ms();
  pthread_join(thread, NULL);
  CHECK_STATUS(st, YCM_ERR_CANCELLED, 0, 1, "cancelled");
  CHECK(json == NULL);
  CHECK(ycm_cancel_is_triggered(cancel));
  printf("  cancelled call returned %.1f ms after the trigger\n", returned - t.at_ms);
  CHECK_MSG(returned - t.at_ms < 1000, "%.1f ms", returned - t.at_ms);
  CHECK_STREQ(ycm_code_name(YCM_ERR_CANCELLED), "YCM_ERR_CANCELLED");

  /* A triggered flag stops the next call before anything is sent. */
  long long requests = th_stat("requests");
  st = ycm_update_user_with_cancel(client, 13329, "{\"remark\":\"never\"}", cancel);
  CHECK_STATUS(st, YCM_ERR_CANCELLED, 0, 0, NULL);
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_cancel_free(cancel);
  ycm_cancel_free(NULL);
  ycm_cancel_trigger(NULL);

  /* The client is still usable, on a new connection; NULL means not cancellable. */
  set_faults("{}");
  st = ycm_update_user_with_cancel(client, 13329, "{\"remark\":\"after cancel\"}", NULL);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_STATUS(ycm_cancel_new(NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "out_cancel");
  ycm_client_free(client);
}

struct log_capture {
  int records;
  int debug_put;
  int warnings;
  char request_id[65];
};

static void on_log(const ycm_log_record *record, void *user_data) {
  struct log_capture *capture = user_data;
  capture->records++;
  if (record->size < sizeof(ycm_log_record)) {
    return;
  }
  if (record->level == YCM_LOG_DEBUG && strcmp(record->method, "PUT") == 0 &&
      strcmp(record->path, "/dm/open_api/v1/users/13329") == 0 && record->http_status == 200 &&
      record->attempt == 1 && strcmp(record->target, "ycm::http") == 0) {
    capture->debug_put++;
    snprintf(capture->request_id, sizeof capture->request_id, "%s", record->request_id);
  }
  if (record->level == YCM_LOG_WARN) {
    capture->warnings++;
  }
  if (strstr(record->message, TOKEN) != NULL) {
    capture->records = -1000; /* a secret in a record fails the test below */
  }
}

static void test_log_callback_receives_structured_records(void) {
  struct log_capture capture = {0, 0, 0, ""};
  CHECK_STATUS(ycm_set_log_callback(on_log, YCM_LOG_DEBUG, &capture), YCM_OK, 0, 0, NULL);
  ycm_client *client = new_client();
  ycm_status st = ycm_update_user(client, 13329, "{\"remark\":\"logged\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(capture.records, 1);
  CHECK_EQ_LL(capture.debug_put, 1);
  CHECK_STREQ(capture.request_id, st.request_id);

  set_faults("{\"fail_next\":1,\"fail_status\":503}");
  st = ycm_update_user(client, 13329, "{\"remark\":\"retried\"}");
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL);
  CHECK_EQ_LL(capture.warnings, 1);
  CHECK_EQ_LL(capture.records, 4);

  /* Removed: nothing more arrives. A level outside the enum is refused. */
  CHECK_STATUS(ycm_set_log_callback(NULL, YCM_LOG_DEBUG, NULL), YCM_OK, 0, 0, NULL);
  st = ycm_update_user(client, 13329, "{\"remark\":\"quiet\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(capture.records, 4);
  CHECK_STATUS(ycm_set_log_callback(on_log, (ycm_log_level)9, &capture),
               YCM_ERR_INVALID_ARGUMENT, 0, 0, "min_level");
  ycm_client_free(client);
}

int main(void) {
  th_run("fork: the child never shares the parent's connection",
         test_fork_child_never_shares_the_parents_connection);
  th_run("free while calls run touches no freed memory",
         test_free_while_calls_run_touches_no_freed_memory);
  th_run("cancel from another thread", test_cancel_from_another_thread);
  th_run("log callback receives structured records",
         test_log_callback_receives_structured_records);
  return th_finish();
}
