/*
 * Token management from C, against a ycm-mock that accepts only the tokens it issues and
 * lets them live 2 seconds (run.sh with YCM_MOCK_ARGS="--no-static-token --token-ttl 2",
 * set by c.mk): a long run across expiries, 401 -> renew -> replay, a revoked refresh
 * token, a refused secret, the thundering herd, and paging through every seeded user.
 * Each case starts from POST /__mock/reset (stats and log cleared), so counts are exact.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm_checks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENT_ID "ycm-mock-client"
#define CLIENT_SECRET "ycm-mock-secret"
#define WRONG_SECRET "wrong-secret-C-7d41f9"
#define TOKEN_TTL_MS 2000

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

static void admin_post(const char *path) {
  char reply[256];
  int status = th_http("POST", path, "", reply, sizeof reply);
  CHECK_MSG(status == 200, "POST %s -> %d %s", path, status, reply);
}

static ycm_client *credentials_client(const char *secret) {
  char config[1024];
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"%s\","
           "\"max_retries\":2,\"retry_base_ms\":10,\"retry_max_ms\":50}",
           th_mock_url(), secret);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  return client;
}

static ycm_status update_company(const ycm_client *client, long long user_id,
                                 const char *company) {
  char body[256];
  snprintf(body, sizeof body, "{\"company\": \"%s\"}", company);
  return ycm_update_user(client, user_id, body);
}

static void check_stored_company(long long user_id, const char *company) {
  char path[64], stored[4096], expected[256];
  snprintf(path, sizeof path, "/__mock/users/%lld", user_id);
  CHECK_EQ_LL(th_http("GET", path, NULL, stored, sizeof stored), 200);
  snprintf(expected, sizeof expected, "\"company\":\"%s\"", company);
  CHECK_CONTAINS(stored, expected);
}

/* The grant types of the token requests in /__mock/log, oldest first, joined by ",". */
static void logged_grants(char *out, size_t out_len) {
  out[0] = '\0';
  int status;
  char *log = th_http_alloc("GET", "/__mock/log", NULL, &status);
  CHECK_EQ_LL(status, 200);
  if (log == NULL) {
    return;
  }
  size_t used = 0;
  for (const char *at = strstr(log, "grant_type="); at != NULL;
       at = strstr(at + 1, "grant_type=")) {
    const char *value = at + strlen("grant_type=");
    size_t len = strcspn(value, "&\"");
    int n = snprintf(out + used, out_len - used, "%s%.*s", used > 0 ? "," : "", (int)len,
                     value);
    if (n < 0 || (size_t)n >= out_len - used) {
      break;
    }
    used += (size_t)n;
  }
  free(log);
}

/* ---------------------------------------------------------------- long run */

static void test_long_run_across_expiries(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(CLIENT_SECRET);
  int calls = 0, failures = 0;
  ycm_status first_failure;
  memset(&first_failure, 0, sizeof first_failure);
  double t0 = th_now_ms();
  /* 5 s with tokens living 2 s: at least two expiries are crossed. */
  while (th_now_ms() - t0 < 2.5 * TOKEN_TTL_MS) {
    char company[64];
    snprintf(company, sizeof company, "run %d", calls);
    ycm_status st = update_company(client, 13329, company);
    if (st.code != YCM_OK && failures++ == 0) {
      first_failure = st;
    }
    calls++;
    sleep_ms(20);
  }
  CHECK_MSG(failures == 0, "%d of %d calls failed; first: %s: %s", failures, calls,
            ycm_code_name(first_failure.code), first_failure.message);
  long long token_requests = th_stat("token_requests");
  printf("     %d updates in %.1f s, %lld token requests, %lld 401s\n", calls,
         (th_now_ms() - t0) / 1000.0, token_requests, th_stat("unauthorized"));
  CHECK_EQ_LL(th_stat("update_user"), calls);
  /* One token per TTL or so, never one per call: the first, then renewals. */
  CHECK_MSG(token_requests >= 3 && token_requests <= 5, "%lld token requests for %d calls",
            token_requests, calls);
  /* Renewed before expiry: no call ever met a 401. */
  CHECK_EQ_LL(th_stat("unauthorized"), 0);
  char grants[1024];
  logged_grants(grants, sizeof grants);
  CHECK_MSG(strncmp(grants, "client_credentials,refresh_token", 32) == 0,
            "first a client-credentials grant, then refresh grants: %s", grants);
  CHECK_MSG(strlen(grants) > 19 && strstr(grants + 19, "client_credentials") == NULL,
            "renewals use the refresh token: %s", grants);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- 401 -> renew -> replay */

static void test_expired_token_is_renewed_and_replayed(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(CLIENT_SECRET);
  ycm_status st = update_company(client, 13329, "before expiry");
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL); /* token request, PUT */
  admin_post("/__mock/expire");
  st = update_company(client, 13329, "after expiry");
  CHECK_STATUS(st, YCM_OK, 200, 3, NULL); /* 401, token request, replay */
  CHECK_EQ_LL(strlen(st.request_id), 32);
  check_stored_company(13329, "after expiry");
  CHECK_EQ_LL(th_stat("unauthorized"), 1);
  CHECK_EQ_LL(th_stat("token_requests"), 2);
  CHECK_EQ_LL(th_stat("update_user"), 3);
  char grants[256];
  logged_grants(grants, sizeof grants);
  CHECK_STREQ(grants, "client_credentials,refresh_token");
  ycm_client_free(client);
}

static void test_revoked_refresh_token_falls_back(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(CLIENT_SECRET);
  CHECK_STATUS(update_company(client, 13329, "before revoke"), YCM_OK, 200, 2, NULL);
  admin_post("/__mock/revoke");
  ycm_status st = update_company(client, 13329, "after revoke");
  /* 401, refresh grant (refused), client-credentials grant, replay. */
  CHECK_STATUS(st, YCM_OK, 200, 4, NULL);
  check_stored_company(13329, "after revoke");
  char grants[256];
  logged_grants(grants, sizeof grants);
  CHECK_STREQ(grants, "client_credentials,refresh_token,client_credentials");
  CHECK_EQ_LL(th_stat("token_requests"), 3);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- refused secret */

static void test_wrong_secret(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(WRONG_SECRET);
  ycm_status st = update_company(client, 13329, "never");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 401, 1, "refused the client credentials");
  CHECK_MSG(strstr(st.message, WRONG_SECRET) == NULL, "secret leaked: %s", st.message);
  CHECK_EQ_LL(th_stat("token_requests"), 1); /* asked once, never retried */
  CHECK_EQ_LL(th_stat("update_user"), 0);
  check_stored_company(13329, "Yeastar Demo Ltd");
  ycm_client_free(client);
}

/* A client with client credentials and `scope_keys` (more JSON members) in its config. */
static ycm_client *scoped_client(const char *secret, const char *scope_keys) {
  char config[1024];
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"%s\",%s}",
           th_mock_url(), secret, scope_keys);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  return client;
}

/* A client in the host scope of `state_dir` (one state file per client ID). */
static ycm_client *host_client(const char *secret, const char *state_dir) {
  char keys[512];
  snprintf(keys, sizeof keys, "\"shared_state\":\"host\",\"state_dir\":\"%s\"", state_dir);
  return scoped_client(secret, keys);
}

/* The host scope through the C ABI: clients (as separate programs would) share one grant,
   and a refused secret is latched: the next client with it fails at once, sending
   nothing, naming when and where it was refused. */
static void test_host_scope_shares_the_grant_and_latches_a_refusal(void) {
  admin_post("/__mock/reset");
  char state_dir[] = "/tmp/ycm-c-state-XXXXXX";
  CHECK(mkdtemp(state_dir) != NULL);
  for (int i = 0; i < 3; i++) {
    ycm_client *client = host_client(CLIENT_SECRET, state_dir);
    CHECK_STATUS(update_company(client, 13329, "host scope"), YCM_OK, 200, -1, NULL);
    ycm_client_free(client);
  }
  CHECK_EQ_LL(th_stat("token_grants"), 1);
  ycm_client *first = host_client(WRONG_SECRET, state_dir);
  ycm_status st = update_company(first, 13329, "never");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 401, 1, "refused the client credentials");
  CHECK_EQ_LL(st.api_errcode, 1000002);
  ycm_client_free(first);
  ycm_client *second = host_client(WRONG_SECRET, state_dir);
  st = update_company(second, 13329, "never");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 0, 0, "were refused at");
  CHECK_CONTAINS(st.message, "ycm auth reset");
  CHECK_MSG(strstr(st.message, WRONG_SECRET) == NULL, "secret leaked: %s", st.message);
  ycm_client_free(second);
  CHECK_EQ_LL(th_stat("refused_grants"), 1);
  char command[128];
  snprintf(command, sizeof command, "rm -rf %s", state_dir);
  CHECK_EQ_LL(system(command), 0);
}

/* A client in the Redis scope of `redis_url`. */
static ycm_client *redis_client(const char *secret, const char *redis_url) {
  char keys[512];
  snprintf(keys, sizeof keys, "\"shared_state\":\"%s\"", redis_url);
  return scoped_client(secret, keys);
}

/* The Redis scope through the C ABI (run.sh starts a redis-server): clients share one grant
   and latch a refusal as the host scope does; with Redis stopped a client goes on in
   process scope, and one made after it is back shares the server's token again. */
static void test_redis_scope_shares_the_grant_and_outlives_redis(void) {
  const char *url = getenv("YCM_REDIS_URL");
  const char *port = getenv("YCM_REDIS_PORT");
  if (url == NULL || port == NULL) {
    fprintf(stderr, "SKIPPED: no redis-server (YCM_REDIS_URL unset)\n");
    return;
  }
  admin_post("/__mock/reset");
  for (int i = 0; i < 3; i++) {
    ycm_client *client = redis_client(CLIENT_SECRET, url);
    CHECK_STATUS(update_company(client, 13329, "redis scope"), YCM_OK, 200, -1, NULL);
    ycm_client_free(client);
  }
  CHECK_EQ_LL(th_stat("token_grants"), 1);
  ycm_client *first = redis_client(WRONG_SECRET, url);
  ycm_status st = update_company(first, 13329, "never");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 401, 1, "refused the client credentials");
  ycm_client_free(first);
  ycm_client *second = redis_client(WRONG_SECRET, url);
  st = update_company(second, 13329, "never");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 0, 0, "were refused at");
  CHECK_CONTAINS(st.message, "redis (redis://127.0.0.1:");
  ycm_client_free(second);
  CHECK_EQ_LL(th_stat("refused_grants"), 1);

  /* Redis stopped: the call works in process scope (its own grant). */
  char command[256];
  snprintf(command, sizeof command,
           "redis-cli -p %s shutdown nosave >/dev/null 2>&1; ! redis-cli -p %s ping >/dev/null 2>&1",
           port, port);
  CHECK_EQ_LL(system(command), 0);
  ycm_client *alone = redis_client(CLIENT_SECRET, url);
  CHECK_STATUS(update_company(alone, 13329, "no redis"), YCM_OK, 200, -1, NULL);
  CHECK_EQ_LL(th_stat("token_grants"), 2);
  /* Back, empty: the first client grants into it, the next one reads it. */
  snprintf(command, sizeof command,
           "redis-server --bind 127.0.0.1 --port %s --save '' --appendonly no --daemonize yes "
           "--dir /tmp --logfile '' >/dev/null && sleep 0.3",
           port);
  CHECK_EQ_LL(system(command), 0);
  for (int i = 0; i < 2; i++) {
    ycm_client *client = redis_client(CLIENT_SECRET, url);
    CHECK_STATUS(update_company(client, 13329, "rejoined"), YCM_OK, 200, -1, NULL);
    ycm_client_free(client);
  }
  CHECK_EQ_LL(th_stat("token_grants"), 3);
  ycm_client_free(alone);
}

/* ---------------------------------------------------------------- the herd */

#define HERD 16

struct herd {
  const ycm_client *client;
  pthread_barrier_t *barrier;
  int index;
  const char *round;
  ycm_status status;
};

static void *herd_main(void *arg) {
  struct herd *h = arg;
  char company[64];
  snprintf(company, sizeof company, "%s %d", h->round, h->index);
  pthread_barrier_wait(h->barrier);
  h->status = update_company(h->client, 20001 + h->index, company);
  return NULL;
}

/* Runs HERD threads, released together, each updating its own user once. */
static void run_herd(const ycm_client *client, const char *round) {
  pthread_barrier_t barrier;
  CHECK_EQ_LL(pthread_barrier_init(&barrier, NULL, HERD), 0);
  struct herd herd[HERD];
  pthread_t threads[HERD];
  int created = 0;
  for (int i = 0; i < HERD; i++) {
    herd[i].client = client;
    herd[i].barrier = &barrier;
    herd[i].index = i;
    herd[i].round = round;
    memset(&herd[i].status, 0, sizeof herd[i].status);
    int rc = pthread_create(&threads[i], NULL, herd_main, &herd[i]);
    CHECK_EQ_LL(rc, 0);
    created += rc == 0;
  }
  if (created != HERD) {
    /* The barrier would never open; nothing sensible is left to test. */
    fprintf(stderr, "pthread_create failed; aborting\n");
    exit(1);
  }
  for (int i = 0; i < HERD; i++) {
    CHECK_EQ_LL(pthread_join(threads[i], NULL), 0);
    CHECK_STATUS_L(round, herd[i].status, YCM_OK, 200, -1, NULL);
    char company[64];
    snprintf(company, sizeof company, "%s %d", round, i);
    check_stored_company(20001 + i, company);
  }
  pthread_barrier_destroy(&barrier);
}

static void test_herd_shares_one_token_request(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(CLIENT_SECRET);
  run_herd(client, "fresh");
  CHECK_EQ_LL(th_stat("token_requests"), 1);
  CHECK_EQ_LL(th_stat("update_user"), HERD);

  /* The same herd on a token the server has expired: each thread meets a 401, and the
   * renewal is still shared. */
  admin_post("/__mock/expire");
  run_herd(client, "expired");
  CHECK_EQ_LL(th_stat("token_requests"), 2);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- paging */

static void test_paging_every_user_once(void) {
  admin_post("/__mock/reset");
  ycm_client *client = credentials_client(CLIENT_SECRET);
  /* Seeded ids: 13329..13331 and 20001..20117. */
  int seen_13k[3] = {0}, seen_20k[117] = {0};
  int total = 0, strange = 0;
  const long long expected_sizes[] = {50, 50, 20, 0};
  for (int page = 1; page <= 4; page++) {
    char *json = NULL;
    ycm_status st = ycm_list_users(client, 50, page, "userId", &json);
    CHECK_STATUS(st, YCM_OK, 200, page == 1 ? 2 : 1, NULL);
    if (json == NULL) {
      continue;
    }
    CHECK_CONTAINS(json, "\"total\":120");
    long long on_page = 0;
    for (const char *at = strstr(json, "\"userId\":"); at != NULL;
         at = strstr(at + 1, "\"userId\":")) {
      long long id = strtoll(at + strlen("\"userId\":"), NULL, 10);
      if (id >= 13329 && id <= 13331) {
        seen_13k[id - 13329]++;
      } else if (id >= 20001 && id <= 20117) {
        seen_20k[id - 20001]++;
      } else {
        strange++;
      }
      on_page++;
      total++;
    }
    CHECK_MSG(on_page == expected_sizes[page - 1], "page %d has %lld users", page, on_page);
    ycm_string_free(json);
  }
  CHECK_EQ_LL(total, 120);
  CHECK_EQ_LL(strange, 0);
  for (int i = 0; i < 3; i++) {
    CHECK_MSG(seen_13k[i] == 1, "user %d seen %d times", 13329 + i, seen_13k[i]);
  }
  for (int i = 0; i < 117; i++) {
    CHECK_MSG(seen_20k[i] == 1, "user %d seen %d times", 20001 + i, seen_20k[i]);
  }
  CHECK_EQ_LL(th_stat("list_users"), 4);
  CHECK_EQ_LL(th_stat("token_requests"), 1);
  ycm_client_free(client);
}

int main(void) {
  printf("ycm C auth tests against %s (libycm %s)\n", th_mock_url(), ycm_version());
  fflush(stdout);
  /* The mock must accept issued tokens only: the static token is refused. */
  ycm_client *probe = NULL;
  CHECK_STATUS(ycm_client_new(th_mock_url(), "ycm-mock-token", &probe), YCM_OK, 0, 0, NULL);
  ycm_status st = update_company(probe, 13329, "static");
  ycm_client_free(probe);
  if (st.code != YCM_ERR_UNAUTHORIZED) {
    fprintf(stderr, "test_auth needs ycm-mock --no-static-token --token-ttl 2 "
                    "(YCM_MOCK_ARGS); the static token got %s\n",
            ycm_code_name(st.code));
    return 2;
  }
  th_run("a 5 s run across 2 token expiries, no failure", test_long_run_across_expiries);
  th_run("expired token: 401, renewal, replay", test_expired_token_is_renewed_and_replayed);
  th_run("revoked refresh token: new client-credentials grant",
         test_revoked_refresh_token_falls_back);
  th_run("wrong secret: one token request, UNAUTHORIZED", test_wrong_secret);
  th_run("16 threads share one token request", test_herd_shares_one_token_request);
  th_run("host scope: one grant for three clients, a refusal latched",
         test_host_scope_shares_the_grant_and_latches_a_refusal);
  th_run("redis scope: one grant, a refusal latched, Redis stopped and back",
         test_redis_scope_shares_the_grant_and_outlives_redis);
  th_run("paging: 120 users in pages of 50, each once", test_paging_every_user_once);
  return th_finish();
}
