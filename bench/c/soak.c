/*
 * The memory guard of issue 8 (`make soak`): CALLS sequential updates on ONE
 * ycm_client against a ycm-mock, reading this process's resident set size (VmRSS in
 * /proc/self/status) after FIRST calls and after all of them. Prints both figures and their
 * difference; exits 1 if it is 1 MiB or more (memory must stay flat: DESIGN.md, "Running
 * inside real services"), 2 on a failed call or bad usage. Every call must succeed.
 *
 * Usage: soak BASE_URL CALLS [FIRST]   (FIRST defaults to 10000 and must be below CALLS)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ycm.h"

#define SOAK_TOKEN "ycm-mock-token"
#define SOAK_USER_ID 13329
#define SOAK_LIMIT_KB 1024L

/* VmRSS of this process in kB, or -1. */
static long rss_kb(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (status == NULL) {
    return -1;
  }
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, status) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(status);
  return kb;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Log records seen (the soak runs with a DEBUG log callback installed). */
static unsigned long long records;

static void count_record(const ycm_log_record *record, void *user_data) {
  (void)record;
  (void)user_data;
  records++;
}

/* One call, with everything a service has in place: a fresh ycm_cancel per call (freed
 * after it), the log callback at DEBUG, and the fork check the library makes on every
 * pooled connection it reuses. */
static int one_call(const ycm_client *client, long n) {
  /* Two bodies in turn, so the mock really changes the user on every call. */
  const char *body = n % 2 == 0 ? "{\"company\":\"Soak Co\",\"remark\":\"even\"}"
                                : "{\"company\":\"Soak Co\",\"remark\":\"odd\"}";
  ycm_cancel *cancel = NULL;
  ycm_status st = ycm_cancel_new(&cancel);
  if (st.code == YCM_OK) {
    st = ycm_update_user_with_cancel(client, SOAK_USER_ID, body, cancel);
  }
  ycm_cancel_free(cancel);
  if (st.code != YCM_OK) {
    fprintf(stderr, "soak: call %ld: %s (http %u, attempts %u): %s\n", n + 1,
            ycm_code_name(st.code), (unsigned)st.http_status, (unsigned)st.attempts,
            st.message);
    return 0;
  }
  return 1;
}

static long parse_count(const char *text) {
  char *end = NULL;
  long value = strtol(text, &end, 10);
  return end != text && *end == '\0' && value > 0 ? value : -1;
}

int main(int argc, char **argv) {
  long calls = argc >= 3 ? parse_count(argv[2]) : -1;
  long first = argc >= 4 ? parse_count(argv[3]) : 10000;
  if (argc < 3 || argc > 4 || calls < 0 || first < 0 || first >= calls) {
    fprintf(stderr, "usage: soak BASE_URL CALLS [FIRST]  (0 < FIRST < CALLS; FIRST 10000)\n");
    return 2;
  }
  ycm_status st = ycm_set_log_callback(count_record, YCM_LOG_DEBUG, NULL);
  if (st.code != YCM_OK) {
    fprintf(stderr, "soak: ycm_set_log_callback: %s\n", st.message);
    return 2;
  }
  ycm_client *client = NULL;
  st = ycm_client_new(argv[1], SOAK_TOKEN, &client);
  if (st.code != YCM_OK) {
    fprintf(stderr, "soak: ycm_client_new: %s: %s\n", ycm_code_name(st.code), st.message);
    return 2;
  }
  printf("soak: libycm %s, %ld calls of ycm_update_user_with_cancel (a ycm_cancel each, "
         "DEBUG log callback) on one client at %s\n", ycm_version(),
         calls, argv[1]);
  fflush(stdout);
  double started = now_s();
  long rss_first = -1;
  int ok = 1;
  for (long n = 0; n < calls && ok; n++) {
    ok = one_call(client, n);
    if (n + 1 == first) {
      rss_first = rss_kb();
      printf("soak: VmRSS after %ld calls: %ld kB (%.1f s)\n", first, rss_first,
             now_s() - started);
      fflush(stdout);
    }
  }
  long rss_last = rss_kb();
  double elapsed = now_s() - started;
  ycm_client_free(client);
  if (!ok) {
    return 2;
  }
  if (rss_first < 0 || rss_last < 0) {
    fprintf(stderr, "soak: cannot read VmRSS from /proc/self/status\n");
    return 2;
  }
  long diff = rss_last - rss_first;
  printf("soak: VmRSS after %ld calls: %ld kB (%.1f s, %.0f calls/s)\n", calls, rss_last,
         elapsed, (double)calls / elapsed);
  printf("soak: %llu log records received\n", records);
  printf("soak: difference %+ld kB (limit: under %ld kB): %s\n", diff, SOAK_LIMIT_KB,
         diff < SOAK_LIMIT_KB ? "flat" : "GROWING");
  return diff < SOAK_LIMIT_KB ? 0 : 1;
}
