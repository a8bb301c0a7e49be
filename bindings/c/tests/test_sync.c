/*
 * C tests of bulk sync (ycm_records_parse, ycm_sync_plan, ycm_plan_*, ycm_sync_apply)
 * against a running ycm-mock (YCM_MOCK_URL), checking the server's side through its admin
 * interface (/__mock/users/{id}, /__mock/log, /__mock/stats, /__mock/faults, /__mock/reset):
 * plan and apply from CSV and JSONL (the state equals the records, unchanged records get no
 * PUT, invalid and unknown ones are reported and untouched); events on the calling thread,
 * one at a time, and an abort or a cancel from the callback; a run killed with SIGKILL
 * mid-way and rerun with its journal (no user gets a second PUT); a 429 storm; refused
 * credentials; the run's summary in the report.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm.h"
#include "ycm_checks.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "ycm-mock-token"

static ycm_client *new_client(const char *token) {
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new(th_mock_url(), token, &client);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  return client;
}

static void admin_post(const char *path, const char *json) {
  char reply[256];
  int status = th_http("POST", path, json, reply, sizeof reply);
  CHECK_MSG(status == 200, "POST %s %s -> %d %s", path, json, status, reply);
}

/* A fresh server state for each case: seeded users, no counters, no log, no faults. */
static void reset_mock(void) { admin_post("/__mock/reset", "{}"); }

/* The string field `field` of user `id` as the mock holds it, into out ("" if absent). */
static void mock_user_string(long long id, const char *field, char *out, size_t len) {
  char path[64], body[4096], needle[64];
  snprintf(path, sizeof path, "/__mock/users/%lld", id);
  out[0] = '\0';
  int status = th_http("GET", path, NULL, body, sizeof body);
  CHECK_MSG(status == 200, "GET %s -> %d", path, status);
  snprintf(needle, sizeof needle, "\"%s\":\"", field);
  const char *start = strstr(body, needle);
  if (start == NULL) {
    return;
  }
  start += strlen(needle);
  const char *end = strchr(start, '"');
  size_t n = end == NULL ? 0 : (size_t)(end - start);
  if (n >= len) {
    n = len - 1;
  }
  memcpy(out, start, n);
  out[n] = '\0';
}

/* The PUTs the mock answered for user `id`, counted in /__mock/log. */
static int puts_of(const char *log, long long id) {
  char needle[96];
  snprintf(needle, sizeof needle, "\"method\":\"PUT\",\"path\":\"/dm/open_api/v1/users/%lld\"",
           id);
  int count = 0;
  for (const char *at = strstr(log, needle); at != NULL; at = strstr(at + 1, needle)) {
    count++;
  }
  return count;
}

static char *mock_log(void) {
  int status = 0;
  char *log = th_http_alloc("GET", "/__mock/log", NULL, &status);
  CHECK_MSG(log != NULL && status == 200, "GET /__mock/log -> %d", status);
  return log;
}

/* A number of the report's "counts" object (0 when the outcome is absent). */
static long long report_count(const char *report, const char *outcome) {
  const char *counts = report == NULL ? NULL : strstr(report, "\"counts\":{");
  if (counts == NULL) {
    return -1;
  }
  const char *end = strchr(counts, '}');
  char needle[48];
  snprintf(needle, sizeof needle, "\"%s\":", outcome);
  const char *at = strstr(counts, needle);
  if (at == NULL || (end != NULL && at > end)) {
    return 0;
  }
  return strtoll(at + strlen(needle), NULL, 10);
}

static long long report_number(const char *report, const char *key) {
  char needle[48];
  snprintf(needle, sizeof needle, "\"%s\":", key);
  const char *at = report == NULL ? NULL : strstr(report, needle);
  return at == NULL ? -1 : strtoll(at + strlen(needle), NULL, 10);
}

static ycm_plan *plan_of(ycm_client *client, const char *records, const char *format) {
  ycm_plan *plan = NULL;
  ycm_status st = ycm_sync_plan(client, records, format, NULL, &plan);
  CHECK_STATUS(st, YCM_OK, -1, -1, NULL);
  return plan;
}

/* Applies and returns the report (to ycm_string_free), NULL on failure. */
static char *apply_plan(ycm_client *client, const ycm_plan *plan, const char *options,
                        const ycm_sync_callbacks *callbacks) {
  char *report = NULL;
  ycm_status st = ycm_sync_apply(client, plan, options, callbacks, &report);
  CHECK_STATUS(st, YCM_OK, -1, -1, NULL);
  return report;
}

static void append(char *buf, size_t len, const char *text) {
  size_t used = strlen(buf);
  snprintf(buf + used, len - used, "%s", text);
}

/* (a) CSV: 20001..20012, every third changed, the rest as they are; an unknown user and
 * an invalid limit. The mock ends as the records say; only the changed users got a PUT. */
static void test_csv_plan_and_apply_send_only_the_changes(void) {
  reset_mock();
  ycm_client *client = new_client(TOKEN);
  static char csv[4096];
  csv[0] = '\0';
  append(csv, sizeof csv, "userId,company,pbxCreationLimit\n");
  char line[160], company[128];
  for (long long id = 20001; id <= 20012; id++) {
    if (id % 3 == 0) {
      snprintf(line, sizeof line, "%lld,Synced C %lld,\n", id, id);
    } else {
      mock_user_string(id, "company", company, sizeof company);
      snprintf(line, sizeof line, "%lld,%s,\n", id, company);
    }
    append(csv, sizeof csv, line);
  }
  append(csv, sizeof csv, "99999,Nobody,\n13330,,0\n");

  char *records = NULL;
  ycm_status st = ycm_records_parse(csv, "csv", &records);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  CHECK_CONTAINS(records, "\"format\":\"csv\"");
  CHECK_CONTAINS(records, "\"row\":2,\"userId\":20001,\"fields\":{\"company\":");
  CHECK_CONTAINS(records, "\"userId\":13330,\"fields\":{\"pbxCreationLimit\":0},"
                          "\"error\":{\"column\":\"pbxCreationLimit\"");
  ycm_string_free(records);

  ycm_plan *plan = plan_of(client, csv, "csv");
  char *plan_json = NULL;
  CHECK_STATUS(ycm_plan_to_json(plan, &plan_json), YCM_OK, 0, 0, NULL);
  CHECK_CONTAINS(plan_json, "\"action\": \"unknown_user\"");
  ycm_string_free(plan_json);

  char *report = apply_plan(client, plan, NULL, NULL);
  CHECK_EQ_LL(report_count(report, "updated"), 4);
  CHECK_EQ_LL(report_count(report, "unchanged"), 8);
  CHECK_EQ_LL(report_count(report, "unknown_user"), 1);
  CHECK_EQ_LL(report_count(report, "invalid"), 1);
  CHECK_CONTAINS(report, "\"stopped\":null");
  CHECK_CONTAINS(report, "column pbxCreationLimit");
  CHECK_CONTAINS(report, "user 99999 does not exist");

  char *log = mock_log();
  for (long long id = 20001; id <= 20012; id++) {
    int expected = id % 3 == 0 ? 1 : 0;
    CHECK_MSG(puts_of(log, id) == expected, "user %lld got %d PUTs, expected %d", id,
              puts_of(log, id), expected);
    if (id % 3 == 0) {
      char want[64];
      snprintf(want, sizeof want, "Synced C %lld", id);
      mock_user_string(id, "company", company, sizeof company);
      CHECK_STREQ(company, want);
    }
  }
  CHECK_EQ_LL(puts_of(log, 99999), 0);
  CHECK_EQ_LL(puts_of(log, 13330), 0);
  CHECK_EQ_LL(th_stat("update_user"), 4);
  free(log);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

/* (a) JSONL: "" clears a field; an unknown field and a bad limit are invalid; an unknown
 * user; unchanged lines get no PUT. */
static void test_jsonl_plan_and_apply_send_only_the_changes(void) {
  reset_mock();
  ycm_client *client = new_client(TOKEN);
  static char jsonl[4096];
  jsonl[0] = '\0';
  char line[256], remark[128];
  for (long long id = 20013; id <= 20020; id++) {
    if (id % 2 == 0) {
      snprintf(line, sizeof line, "{\"userId\":%lld,\"remark\":\"jsonl %lld\"}\n", id, id);
    } else {
      mock_user_string(id, "remark", remark, sizeof remark);
      snprintf(line, sizeof line, "{\"userId\":%lld,\"remark\":\"%s\"}\n", id, remark);
    }
    append(jsonl, sizeof jsonl, line);
  }
  append(jsonl, sizeof jsonl,
         "{\"userId\":13329,\"remark\":\"\"}\n"       /* clears a non-empty remark */
         "{\"userId\":20021,\"compny\":\"x\"}\n"      /* invalid: unknown field */
         "{\"userId\":20022,\"pbxCreationLimit\":0}\n" /* invalid: limit >= 1 */
         "{\"userId\":99998,\"remark\":\"x\"}\n");    /* unknown user */
  ycm_plan *plan = plan_of(client, jsonl, "jsonl");
  char *report = apply_plan(client, plan, "{\"concurrency\":3}", NULL);
  CHECK_EQ_LL(report_count(report, "updated"), 5);
  CHECK_EQ_LL(report_count(report, "unchanged"), 4);
  CHECK_EQ_LL(report_count(report, "invalid"), 2);
  CHECK_EQ_LL(report_count(report, "unknown_user"), 1);
  CHECK_CONTAINS(report, "unknown field \\\"compny\\\"");

  char *log = mock_log();
  for (long long id = 20013; id <= 20020; id++) {
    CHECK_MSG(puts_of(log, id) == (id % 2 == 0), "user %lld got %d PUTs", id,
              puts_of(log, id));
    if (id % 2 == 0) {
      char want[64];
      snprintf(want, sizeof want, "jsonl %lld", id);
      mock_user_string(id, "remark", remark, sizeof remark);
      CHECK_STREQ(remark, want);
    }
  }
  CHECK_EQ_LL(puts_of(log, 13329), 1);
  mock_user_string(13329, "remark", remark, sizeof remark);
  CHECK_STREQ(remark, "");
  CHECK_EQ_LL(puts_of(log, 20021), 0);
  CHECK_EQ_LL(puts_of(log, 20022), 0);
  CHECK_EQ_LL(puts_of(log, 99998), 0);
  free(log);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

/* A plan of `count` remark updates from user 20001 on; the records into buf. */
static ycm_plan *remark_plan(ycm_client *client, const char *remark, int count, char *buf,
                             size_t len) {
  buf[0] = '\0';
  append(buf, len, "userId,remark\n");
  char line[96];
  for (long long id = 20001; id < 20001 + count; id++) {
    snprintf(line, sizeof line, "%lld,%s %lld\n", id, remark, id);
    append(buf, len, line);
  }
  return plan_of(client, buf, "csv");
}

/* What the event callback saw. */
struct seen {
  pthread_t caller;
  int wrong_thread;
  int overlapping;
  int inside;
  int started;
  int done;
  int stopping;
  int out_of_order; /* an event before STARTED, or DONE numbers not counting up */
  int bad_event;    /* size, strings or numbers not as documented */
  unsigned long long total;
  char stop_reason[32];
  int act_at;      /* act on this DONE (1-based); 0: never */
  int answer;      /* what to return then */
  ycm_cancel *cancel_at; /* trigger this then instead, when not NULL */
};

static int on_event(const ycm_sync_event *event, void *user_data) {
  struct seen *seen = user_data;
  if (!pthread_equal(pthread_self(), seen->caller)) {
    seen->wrong_thread++;
  }
  if (seen->inside++ != 0) {
    seen->overlapping++;
  }
  if (event->size < sizeof(ycm_sync_event) || event->outcome == NULL ||
      event->row_json == NULL) {
    seen->bad_event++;
    seen->inside--;
    return YCM_ABORT;
  }
  int answer = YCM_CONTINUE;
  switch (event->kind) {
  case YCM_SYNC_STARTED:
    seen->started++;
    seen->total = event->total;
    if (event->done != 0 || event->row_json[0] != '\0' || event->records < event->total) {
      seen->bad_event++;
    }
    break;
  case YCM_SYNC_DONE:
    seen->done++;
    if (seen->started != 1 || event->done != (unsigned long long)seen->done) {
      seen->out_of_order++;
    }
    char id[32];
    snprintf(id, sizeof id, "\"userId\":%lld", (long long)event->user_id);
    if (strstr(event->row_json, id) == NULL || event->user_id <= 0 ||
        strstr(event->row_json, event->outcome) == NULL) {
      seen->bad_event++;
    }
    if (seen->done == seen->act_at) {
      if (seen->cancel_at != NULL) {
        ycm_cancel_trigger(seen->cancel_at);
      } else {
        answer = seen->answer;
      }
    }
    break;
  case YCM_SYNC_STOPPING:
    seen->stopping++;
    snprintf(seen->stop_reason, sizeof seen->stop_reason, "%s", event->outcome);
    break;
  default:
    seen->bad_event++;
  }
  /* Widen the window in which a second, concurrent delivery would be caught. */
  struct timespec ts = {0, 2 * 1000000L};
  nanosleep(&ts, NULL);
  seen->inside--;
  return answer;
}

struct apply_job {
  ycm_client *client;
  const ycm_plan *plan;
  const char *options;
  struct seen *seen;
  char *report;
};

/* Runs the apply on a thread of its own, so "the calling thread" is not main. */
static void *apply_thread(void *arg) {
  struct apply_job *job = arg;
  job->seen->caller = pthread_self();
  ycm_sync_callbacks callbacks = {sizeof(ycm_sync_callbacks), on_event, job->seen,
                                  job->seen->cancel_at};
  job->report = apply_plan(job->client, job->plan, job->options, &callbacks);
  return NULL;
}

static char *apply_on_thread(ycm_client *client, const ycm_plan *plan, const char *options,
                             struct seen *seen) {
  struct apply_job job = {client, plan, options, seen, NULL};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, apply_thread, &job) == 0);
  pthread_join(thread, NULL);
  return job.report;
}

/* (b) Events arrive on the calling thread, one at a time: STARTED, then one DONE per
 * update, counted up. */
static void test_events_arrive_on_the_calling_thread_one_at_a_time(void) {
  reset_mock();
  ycm_client *client = new_client(TOKEN);
  static char csv[4096];
  ycm_plan *plan = remark_plan(client, "events", 20, csv, sizeof csv);
  struct seen seen;
  memset(&seen, 0, sizeof seen);
  char *report = apply_on_thread(client, plan, "{\"concurrency\":4}", &seen);
  CHECK_EQ_LL(seen.wrong_thread, 0);
  CHECK_EQ_LL(seen.overlapping, 0);
  CHECK_EQ_LL(seen.out_of_order, 0);
  CHECK_EQ_LL(seen.bad_event, 0);
  CHECK_EQ_LL(seen.started, 1);
  CHECK_EQ_LL(seen.total, 20);
  CHECK_EQ_LL(seen.done, 20);
  CHECK_EQ_LL(seen.stopping, 0);
  CHECK_EQ_LL(report_count(report, "updated"), 20);
  CHECK_EQ_LL(th_stat("update_user"), 20);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

/* (b) YCM_ABORT, or any value but YCM_CONTINUE, from the callback stops scheduling: the
 * calls in flight end and are reported, the rest is not attempted. Workers do not wait for
 * the callback, so by the time the abort takes effect each of the 2 workers may have
 * started up to two more calls (one when it reported, one if it ended during the
 * callback): at most 5 + 2 * 2 PUTs of 30. */
static void test_an_abort_from_the_callback_stops_scheduling(void) {
  const int answers[] = {YCM_ABORT, 42};
  for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
    reset_mock();
    admin_post("/__mock/faults", "{\"latency_ms\":50}");
    ycm_client *client = new_client(TOKEN);
    static char csv[4096];
    ycm_plan *plan = remark_plan(client, "abort", 30, csv, sizeof csv);
    struct seen seen;
    memset(&seen, 0, sizeof seen);
    seen.act_at = 5;
    seen.answer = answers[i];
    char *report = apply_on_thread(client, plan, "{\"concurrency\":2}", &seen);
    CHECK_CONTAINS(report, "\"stopped\":\"aborted\"");
    CHECK_EQ_LL(seen.stopping, 1);
    CHECK_STREQ(seen.stop_reason, "aborted");
    CHECK_EQ_LL(seen.wrong_thread + seen.overlapping + seen.bad_event, 0);
    long long sent = th_stat("update_user");
    CHECK_MSG(sent >= 5 && sent <= 9, "answer %d: %lld PUTs after an abort at the 5th of 30",
              answers[i], sent);
    CHECK_EQ_LL(seen.done, sent);
    CHECK_EQ_LL(report_count(report, "not_attempted"), 30 - sent);
    CHECK_EQ_LL(report_count(report, "updated"), sent);
    ycm_string_free(report);
    ycm_plan_free(plan);
    ycm_client_free(client);
  }
}

/* (b) The callbacks' cancel flag, triggered (here from the callback itself), stops the run
 * as "cancelled". The flag is looked at between events, so it takes effect with the next
 * one: at most 3 + 3 * 2 PUTs of 30. */
static void test_the_callbacks_cancel_flag_stops_the_run(void) {
  reset_mock();
  admin_post("/__mock/faults", "{\"latency_ms\":50}");
  ycm_client *client = new_client(TOKEN);
  static char csv[4096];
  ycm_plan *plan = remark_plan(client, "cancel", 30, csv, sizeof csv);
  struct seen seen;
  memset(&seen, 0, sizeof seen);
  CHECK_STATUS(ycm_cancel_new(&seen.cancel_at), YCM_OK, 0, 0, NULL);
  seen.act_at = 3;
  char *report = apply_on_thread(client, plan, "{\"concurrency\":2}", &seen);
  CHECK_CONTAINS(report, "\"stopped\":\"cancelled\"");
  CHECK_STREQ(seen.stop_reason, "cancelled");
  long long sent = th_stat("update_user");
  CHECK_MSG(sent >= 3 && sent <= 9, "%lld PUTs after a cancel at the 3rd of 30", sent);
  CHECK_EQ_LL(seen.done, sent);
  CHECK_EQ_LL(report_count(report, "not_attempted"), 30 - sent);
  ycm_string_free(report);
  ycm_cancel_free(seen.cancel_at);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

/* Occurrences of `needle` in the file at `path` (-1 when it cannot be read). */
static int count_in_file(const char *path, const char *needle) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    return -1;
  }
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[n] = '\0';
  int count = 0;
  for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle)) {
    count++;
  }
  return count;
}

/* The child of the SIGKILL test: one byte on the pipe per DONE event. */
static int report_progress(const ycm_sync_event *event, void *user_data) {
  int fd = *(int *)user_data;
  if (event->kind == YCM_SYNC_DONE) {
    ssize_t n;
    do {
      n = write(fd, "d", 1);
    } while (n < 0 && errno == EINTR);
  }
  return YCM_CONTINUE;
}

static void kill_run(const char *records, const char *options, int fd) {
  ycm_client *client = NULL;
  if (ycm_client_new(th_mock_url(), TOKEN, &client).code != YCM_OK) {
    _exit(3);
  }
  ycm_plan *plan = NULL;
  if (ycm_sync_plan(client, records, "csv", NULL, &plan).code != YCM_OK) {
    _exit(4);
  }
  ycm_sync_callbacks callbacks = {sizeof(ycm_sync_callbacks), report_progress, &fd, NULL};
  char *report = NULL;
  ycm_status st = ycm_sync_apply(client, plan, options, &callbacks, &report);
  _exit(st.code == YCM_OK ? 5 : 6); /* should have been killed before the end */
}

/* (c) A run killed with SIGKILL after some DONE events, rerun with the same journal and a
 * fresh plan of the same records: every user got exactly one PUT overall, and the state is
 * the desired one. */
static void test_a_run_killed_mid_way_resumes_without_sending_twice(void) {
  reset_mock();
  enum { USERS = 40, FIRST = 20041 };
  static char csv[4096];
  csv[0] = '\0';
  append(csv, sizeof csv, "userId,company\n");
  char line[96];
  for (long long id = FIRST; id < FIRST + USERS; id++) {
    snprintf(line, sizeof line, "%lld,Killed %lld\n", id, id);
    append(csv, sizeof csv, line);
  }
  char journal[128], options[256];
  snprintf(journal, sizeof journal, "/tmp/ycm-test-sync-%ld.journal", (long)getpid());
  unlink(journal);
  snprintf(options, sizeof options, "{\"concurrency\":2,\"journal\":\"%s\"}", journal);
  admin_post("/__mock/faults", "{\"latency_ms\":50}");

  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    kill_run(csv, options, fds[1]);
  }
  CHECK(child > 0);
  close(fds[1]);
  int seen_done = 0;
  while (seen_done < 8) {
    struct pollfd pfd = {fds[0], POLLIN, 0};
    if (poll(&pfd, 1, 60000) <= 0) {
      break;
    }
    char buf[16];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    seen_done += (int)n;
  }
  CHECK_MSG(seen_done >= 8, "the child reported %d DONE events", seen_done);
  CHECK(kill(child, SIGKILL) == 0);
  int status = 0;
  CHECK_EQ_LL(waitpid(child, &status, 0), child);
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
            "the child was killed mid-way (status %d)", status);
  close(fds[0]);

  char *log = mock_log();
  int before = 0;
  for (long long id = FIRST; id < FIRST + USERS; id++) {
    before += puts_of(log, id);
  }
  free(log);
  CHECK_MSG(before >= 8 && before < USERS, "%d of %d users updated before the kill", before,
            USERS);
  /* The killed run journalled each update before its DONE event reached the callback. */
  int done_lines = count_in_file(journal, "\"event\":\"done\"");
  CHECK_MSG(done_lines >= seen_done && done_lines <= before,
            "%d done lines in the journal, %d DONE events, %d PUTs", done_lines, seen_done,
            before);
  CHECK(count_in_file(journal, "\"event\":\"sent\"") >= done_lines);

  /* The killed process's last requests may still be in the mock's latency: let them end
   * on the server before the rerun reads the state. */
  struct timespec settle = {0, 300 * 1000000L};
  nanosleep(&settle, NULL);
  admin_post("/__mock/faults", "{}");
  ycm_client *client = new_client(TOKEN);
  ycm_plan *plan = plan_of(client, csv, "csv");
  char *report = apply_plan(client, plan, options, NULL);
  CHECK_CONTAINS(report, "\"stopped\":null");
  CHECK_EQ_LL(report_count(report, "failed"), 0);
  CHECK_EQ_LL(report_count(report, "conflict"), 0);
  CHECK_EQ_LL(report_count(report, "updated") + report_count(report, "unchanged"), USERS);

  log = mock_log();
  char company[128], want[64];
  for (long long id = FIRST; id < FIRST + USERS; id++) {
    CHECK_MSG(puts_of(log, id) == 1, "user %lld got %d PUTs overall", id, puts_of(log, id));
    snprintf(want, sizeof want, "Killed %lld", id);
    mock_user_string(id, "company", company, sizeof company);
    CHECK_STREQ(company, want);
  }
  free(log);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
  CHECK(unlink(journal) == 0);
}

/* (d) A 429 storm (Retry-After: 1) pauses the run; it still completes, and "throttled"
 * counts every 429. The storm is shorter than one call's retry budget (max_retries 4: 5
 * attempts), so no call can run out of attempts whichever worker meets the 429s. */
static void test_a_429_storm_completes_throttled(void) {
  reset_mock();
  char config[256];
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"max_retries\":4}",
           th_mock_url());
  ycm_client *client = NULL;
  CHECK_STATUS(ycm_client_new_with_config(config, &client), YCM_OK, 0, 0, NULL);
  static char csv[4096];
  ycm_plan *plan = remark_plan(client, "storm", 12, csv, sizeof csv);
  admin_post("/__mock/faults", "{\"fail_next\":4,\"fail_status\":429,\"retry_after\":\"1\"}");
  double started = th_now_ms();
  char *report = apply_plan(client, plan, NULL, NULL);
  CHECK_CONTAINS(report, "\"stopped\":null");
  CHECK_EQ_LL(report_count(report, "updated"), 12);
  CHECK_EQ_LL(report_number(report, "throttled"), 4);
  CHECK_MSG(th_now_ms() - started >= 900, "paused for Retry-After (%.0f ms)",
            th_now_ms() - started);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

/* (e) Refused credentials stop the whole run: "credentials_refused", at most `concurrency`
 * 401s, the rest not attempted. */
static void test_refused_credentials_stop_the_run(void) {
  reset_mock();
  ycm_client *good = new_client(TOKEN);
  static char csv[4096];
  ycm_plan *plan = remark_plan(good, "refused", 30, csv, sizeof csv);
  ycm_client *revoked = new_client("revoked-token");
  struct seen seen;
  memset(&seen, 0, sizeof seen);
  char *report = apply_on_thread(revoked, plan, "{\"concurrency\":2}", &seen);
  CHECK_CONTAINS(report, "\"stopped\":\"credentials_refused\"");
  CHECK_STREQ(seen.stop_reason, "credentials_refused");
  CHECK_CONTAINS(report, "YCM_ERR_UNAUTHORIZED");
  long long refused = th_stat("unauthorized");
  CHECK_MSG(refused >= 1 && refused <= 2, "%lld 401s at concurrency 2", refused);
  CHECK(report_count(report, "failed") <= 2);
  CHECK(report_count(report, "not_attempted") >= 28);
  char remark[128];
  mock_user_string(20001, "remark", remark, sizeof remark);
  CHECK(strcmp(remark, "refused 20001") != 0);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(revoked);
  ycm_client_free(good);
}

/* Argument errors reach C as documented (the Rust tests cover every case). */
static void test_bad_arguments_are_refused(void) {
  ycm_client *client = new_client(TOKEN);
  char *out = SENTINEL;
  CHECK_STATUS(ycm_records_parse("userId,company\n1,x\n", "xml", &out),
               YCM_ERR_INVALID_ARGUMENT, 0, 0, "format must be \"csv\" or \"jsonl\"");
  CHECK_STATUS(ycm_records_parse("company\nx\n", "csv", &out), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "no \"userId\" column");
  CHECK_STATUS(ycm_records_parse("userId,company\n1,\xff\n", "csv", &out),
               YCM_ERR_INVALID_UTF8, 0, 0, "line 2");
  CHECK(out == SENTINEL);
  ycm_plan *plan = plan_of(client, "userId,remark\n20001,args\n", "csv");
  CHECK_STATUS(ycm_sync_apply(client, plan, "{\"concurency\":2}", NULL, &out),
               YCM_ERR_INVALID_ARGUMENT, 0, 0, "unknown option \"concurency\"");
  ycm_sync_callbacks small = {0, on_event, NULL, NULL};
  CHECK_STATUS(ycm_sync_apply(client, plan, NULL, &small, &out), YCM_ERR_INVALID_ARGUMENT, 0,
               0, "callbacks->size");
  CHECK(out == SENTINEL);
  ycm_plan *loaded = SENTINEL;
  CHECK_STATUS(ycm_plan_from_json("{\"items\":[]}", &loaded), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "format_version");
  CHECK(loaded == SENTINEL);
  ycm_plan_free(plan);
  ycm_plan_free(NULL);
  ycm_client_free(client);
}

/* The report carries the run's summary (the object `ycm sync apply --summary` writes): its
 * "requests" count the plan's reads as well as the updates, as the server counted them. */
static void test_the_report_carries_the_runs_summary(void) {
  reset_mock();
  ycm_client *client = new_client(TOKEN);
  long long before = th_stat("requests");
  ycm_plan *plan = plan_of(client,
                           "userId,remark\n20001,summary 1\n20002,summary 2\n20003,summary 3\n",
                           "csv");
  char *report = apply_plan(client, plan, NULL, NULL);
  const char *summary = report == NULL ? NULL : strstr(report, "\"summary\":{");
  CHECK_MSG(summary != NULL, "no summary in %s", report == NULL ? "(null)" : report);
  CHECK_EQ_LL(report_count(summary, "updated"), 3);
  CHECK_EQ_LL(report_number(summary, "records"), 3);
  CHECK_EQ_LL(report_number(summary, "requests"), th_stat("requests") - before);
  CHECK_EQ_LL(report_number(summary, "requests"), 6); /* 3 reads, 3 updates */
  CHECK_EQ_LL(report_number(summary, "token_grants"), 0);
  CHECK_CONTAINS(summary, "\"exit_code\":null");
  CHECK(report_number(summary, "finished_at") > 1700000000LL);
  ycm_string_free(report);
  ycm_plan_free(plan);
  ycm_client_free(client);
}

int main(void) {
  th_run("bad_arguments_are_refused", test_bad_arguments_are_refused);
  th_run("csv_plan_and_apply_send_only_the_changes",
         test_csv_plan_and_apply_send_only_the_changes);
  th_run("jsonl_plan_and_apply_send_only_the_changes",
         test_jsonl_plan_and_apply_send_only_the_changes);
  th_run("events_arrive_on_the_calling_thread_one_at_a_time",
         test_events_arrive_on_the_calling_thread_one_at_a_time);
  th_run("an_abort_from_the_callback_stops_scheduling",
         test_an_abort_from_the_callback_stops_scheduling);
  th_run("the_callbacks_cancel_flag_stops_the_run", test_the_callbacks_cancel_flag_stops_the_run);
  th_run("a_run_killed_mid_way_resumes_without_sending_twice",
         test_a_run_killed_mid_way_resumes_without_sending_twice);
  th_run("a_429_storm_completes_throttled", test_a_429_storm_completes_throttled);
  th_run("refused_credentials_stop_the_run", test_refused_credentials_stop_the_run);
  th_run("the_report_carries_the_runs_summary", test_the_report_carries_the_runs_summary);
  return th_finish();
}
