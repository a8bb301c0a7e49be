/*
 * update_user BASE_URL ACCESS_TOKEN USER_ID COMPANY
 *
 * Sets the company of a YCM user with ycm_update_user_fields (no JSON is built in C), then
 * reads the user back with ycm_get_user and prints it. Exits 1 on any failure, printing the
 * code name, the message and what is known about the exchange.
 */
#include "ycm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *call, const ycm_status *st) {
  fprintf(stderr, "%s failed: %s: %s\n", call, ycm_code_name(st->code), st->message);
  fprintf(stderr, "  http_status=%u attempts=%u api_errcode=%" PRId64 "%s%s\n",
          (unsigned)st->http_status, (unsigned)st->attempts, st->api_errcode,
          st->request_id[0] != '\0' ? " requestId=" : "", st->request_id);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s BASE_URL ACCESS_TOKEN USER_ID COMPANY\n", argv[0]);
    return 2;
  }
  char *end = NULL;
  errno = 0;
  long long user_id = strtoll(argv[3], &end, 10);
  if (errno != 0 || end == argv[3] || *end != '\0') {
    fprintf(stderr, "USER_ID must be an integer, got \"%s\"\n", argv[3]);
    return 2;
  }

  // ANCHOR: update
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new(argv[1], argv[2], &client);
  if (st.code != YCM_OK) {
    return fail("ycm_client_new", &st);
  }

  ycm_user_fields fields = {0};
  fields.company = argv[4];
  st = ycm_update_user_fields(client, user_id, &fields);
  if (st.code != YCM_OK) {
    ycm_client_free(client);
    return fail("ycm_update_user_fields", &st);
  }
  printf("updated user %lld: requestId=%s time=%" PRId64 " (http %u, %u attempt%s)\n", user_id,
         st.request_id, st.time, (unsigned)st.http_status, (unsigned)st.attempts,
         st.attempts == 1 ? "" : "s");

  char *json = NULL;
  st = ycm_get_user(client, user_id, &json);
  if (st.code != YCM_OK) {
    ycm_client_free(client);
    return fail("ycm_get_user", &st);
  }
  printf("user %lld now: %s\n", user_id, json);
  ycm_string_free(json);
  ycm_client_free(client);
  return 0;
  // ANCHOR_END: update
}
