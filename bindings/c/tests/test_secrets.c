/*
 * Secrets never leak, from C: every error path reachable through the C API is swept with
 * distinctive tokens and secrets (a static token, an issued access token, a client secret,
 * a wrong secret, a bad token) against a ycm-mock that knows them, under injected faults
 * (503s, connections closed mid-body), expired and revoked tokens, and against scripted
 * fault servers; no status.message or request_id may hold any of them, and neither may
 * the mock's request log.
 *
 * A peer that echoes the credentials back in every encoding servers use (ycm-fault-server
 * --case echo-every-form: JSON-escaped with \/ and \uXXXX, percent, form, base64, HTML
 * entities) is swept with client secrets and tokens made of every awkward character class:
 * each message holds [REDACTED], and never the secret, raw or percent-encoded.
 *
 * The mock comes from run.sh with YCM_MOCK_ARGS (set by c.mk) holding
 * "--access-token T --client-secret S --token-ttl 1"; T and S are read back from there,
 * so the values live in one place.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm_checks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENT_ID "ycm-mock-client"
#define WRONG_SECRET "WrongSecretC-4f0b2d7e91"
#define BAD_TOKEN "BadTokenC-83c1aa5e06"

static char static_token[128];
static char client_secret[128];
static char issued_access[128];
static char issued_refresh[128];

static const char *secrets[8];
static size_t secret_count;

static int statuses_seen;
static int codes_seen[100];

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

/* The value after `option` in YCM_MOCK_ARGS. */
static int mock_option(const char *option, char *out, size_t out_len) {
  const char *args = getenv("YCM_MOCK_ARGS");
  const char *at = args != NULL ? strstr(args, option) : NULL;
  if (at == NULL) {
    return -1;
  }
  at += strlen(option);
  at += strspn(at, " ");
  size_t len = strcspn(at, " ");
  if (len == 0 || len >= out_len) {
    return -1;
  }
  memcpy(out, at, len);
  out[len] = '\0';
  return 0;
}

/* Records a status; fails when its message or request_id holds a secret. */
static void look_at(const char *label, ycm_status st) {
  statuses_seen++;
  if ((int)st.code >= 0 && (int)st.code < 100) {
    codes_seen[st.code]++;
  }
  for (size_t i = 0; i < secret_count; i++) {
    if (secrets[i][0] == '\0') {
      continue; /* not issued (yet) */
    }
    CHECK_MSG(strstr(st.message, secrets[i]) == NULL, "[%s] %s leaked in: %s", label,
              secrets[i], st.message);
    CHECK_MSG(strstr(st.request_id, secrets[i]) == NULL, "[%s] %s leaked in request_id",
              label, secrets[i]);
  }
}

static void admin_post(const char *path, const char *body) {
  char reply[256];
  int status = th_http("POST", path, body, reply, sizeof reply);
  CHECK_MSG(status == 200, "POST %s %s -> %d %s", path, body, status, reply);
}

static ycm_client *make_client(const char *base_url, const char *auth_json) {
  char config[1024];
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",%s,\"timeout_ms\":3000,\"connect_timeout_ms\":500,"
           "\"max_retries\":2,\"retry_base_ms\":10,\"retry_max_ms\":50}",
           base_url, auth_json);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  look_at("ycm_client_new_with_config", st);
  CHECK_MSG(st.code == YCM_OK, "%s: %s", ycm_code_name(st.code), st.message);
  return client;
}

static ycm_client *token_client(const char *base_url, const char *token) {
  char auth[256];
  snprintf(auth, sizeof auth, "\"access_token\":\"%s\"", token);
  return make_client(base_url, auth);
}

static ycm_client *credentials_client(const char *base_url, const char *secret) {
  char auth[256];
  snprintf(auth, sizeof auth, "\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"%s\"",
           secret);
  return make_client(base_url, auth);
}

/* Every call of the C API on `client`, successes and failures alike. */
static void attempt_everything(const char *label, const ycm_client *client, int full) {
  char *json = NULL;
  look_at(label, ycm_update_user(client, 13329, "{\"company\": \"Sweep Ltd\"}"));
  look_at(label, ycm_get_user(client, 13329, &json));
  ycm_string_free(json);
  if (!full) {
    return;
  }
  json = NULL;
  look_at(label, ycm_update_user(client, 99999999, "{\"company\": \"Nobody\"}")); /* 20001 */
  look_at(label, ycm_update_user(client, 13329, "{\"pbxCreationLimit\": 2}"));    /* 20002 */
  ycm_user_fields fields = {0};
  fields.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
  fields.pbx_limit = 5;
  look_at(label, ycm_update_user_fields(client, 13330, &fields)); /* 20003 */
  look_at(label, ycm_update_user(client, 13329, "{\"x\": 1}"));   /* refused body */
  look_at(label, ycm_update_user(client, 0, "{\"company\": \"x\"}"));
  look_at(label, ycm_get_user(client, 99999999, &json));
  ycm_string_free(json);
  json = NULL;
  look_at(label, ycm_list_users(client, 50, 1, "userId", &json));
  ycm_string_free(json);
  json = NULL;
  look_at(label, ycm_list_users(client, 51, 1, NULL, &json));
  ycm_string_free(json);
  /* A token that cannot go in a header (refused; the client keeps its own). */
  look_at(label, ycm_client_set_access_token((ycm_client *)client, "bad token\r\n"));
}

/* Takes a token pair from the mock's token endpoint ourselves, so that the sweep also
 * covers an issued access token and the log check covers a refresh token. */
static void issue_tokens(void) {
  char form[512], reply[2048];
  snprintf(form, sizeof form,
           "grant_type=client_credentials&client_id=" CLIENT_ID "&client_secret=%s",
           client_secret);
  int status = th_http_to(th_mock_url(), "POST", "/dm/open_api/oauth/token",
                          "application/x-www-form-urlencoded", form, reply, sizeof reply);
  CHECK_MSG(status == 200, "token request -> %d %s", status, reply);
  const char *access = strstr(reply, "\"access_token\":\"");
  const char *refresh = strstr(reply, "\"refresh_token\":\"");
  CHECK(access != NULL && refresh != NULL);
  if (access == NULL || refresh == NULL) {
    return;
  }
  access += strlen("\"access_token\":\"");
  refresh += strlen("\"refresh_token\":\"");
  snprintf(issued_access, sizeof issued_access, "%.*s", (int)strcspn(access, "\""), access);
  snprintf(issued_refresh, sizeof issued_refresh, "%.*s", (int)strcspn(refresh, "\""),
           refresh);
  CHECK_MSG(strlen(issued_access) >= 32 && strlen(issued_refresh) >= 32, "%s / %s",
            issued_access, issued_refresh);
  /* Use the refresh token once, so that it crosses the log too. */
  snprintf(form, sizeof form, "grant_type=refresh_token&refresh_token=%s", issued_refresh);
  status = th_http_to(th_mock_url(), "POST", "/dm/open_api/oauth/token",
                      "application/x-www-form-urlencoded", form, reply, sizeof reply);
  CHECK_MSG(status == 200, "refresh request -> %d %s", status, reply);
}

/* ---------------------------------------------------------------- the live mock */

static void test_live_mock_sweep(void) {
  const char *url = th_mock_url();
  issue_tokens();
  struct {
    const char *label;
    ycm_client *client;
  } clients[] = {
      {"static token", token_client(url, static_token)},
      {"bad token", token_client(url, BAD_TOKEN)},
      {"issued access token", token_client(url, issued_access)},
      {"client credentials", credentials_client(url, client_secret)},
      {"wrong secret", credentials_client(url, WRONG_SECRET)},
  };
  size_t n = sizeof clients / sizeof clients[0];
  for (size_t i = 0; i < n; i++) {
    const char *label = clients[i].label;
    const ycm_client *client = clients[i].client;
    attempt_everything(label, client, 1);
    admin_post("/__mock/faults", "{\"fail_next\":5,\"fail_status\":503}");
    attempt_everything(label, client, 1);
    admin_post("/__mock/faults", "{\"close_next\":3}");
    attempt_everything(label, client, 1);
    /* More 429s than the gate waits out for one call (5 pauses) and its 2 retries. */
    admin_post("/__mock/faults", "{\"fail_next\":12,\"fail_status\":429,\"retry_after\":\"0\"}");
    attempt_everything(label, client, 0);
    admin_post("/__mock/faults", "{}");
    admin_post("/__mock/expire", "");
    attempt_everything(label, client, 1);
    admin_post("/__mock/revoke", "");
    attempt_everything(label, client, 1);
  }
  /* Tokens live 1 s: one more round after they have run out on their own. */
  sleep_ms(1100);
  for (size_t i = 0; i < n; i++) {
    attempt_everything(clients[i].label, clients[i].client, 1);
    ycm_client_free(clients[i].client);
  }
  CHECK(th_stat("token_requests") >= 4);
}

/* ---------------------------------------------------------------- fault servers */

static void test_fault_server_sweep(void) {
  const char *bin = getenv("YCM_FAULT_SERVER_BIN");
  if (bin == NULL || bin[0] == '\0') {
    bin = "target/release/ycm-fault-server";
  }
  static const char *const cases[] = {"reset",          "close-mid-body", "html-502",
                                      "non-json-200",   "failed-errcode", "failed-message",
                                      "not-http",       "redirect-elsewhere"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *argv[] = {bin, "--case", cases[i], NULL};
    char url[256];
    pid_t pid = th_spawn_server(argv, NULL, url, sizeof url);
    CHECK_MSG(pid > 0, "%s --case %s did not start", bin, cases[i]);
    if (pid <= 0) {
      continue;
    }
    ycm_client *with_token = token_client(url, static_token);
    ycm_client *with_secret = credentials_client(url, client_secret);
    attempt_everything(cases[i], with_token, 0);
    attempt_everything(cases[i], with_secret, 0);
    ycm_client_free(with_token);
    ycm_client_free(with_secret);
    CHECK_MSG(th_stop_server(pid) != -1, "%s stopped", cases[i]);
  }
  /* Nothing listening at all. */
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", th_closed_port());
  ycm_client *with_token = token_client(url, static_token);
  ycm_client *with_secret = credentials_client(url, client_secret);
  attempt_everything("closed port", with_token, 0);
  attempt_everything("closed port", with_secret, 0);
  ycm_client_free(with_token);
  ycm_client_free(with_secret);
  CHECK_EQ_LL(th_children_running(), 0);
}

/* ---------------------------------------------------------------- echoed in every encoding */

/* Every awkward character class: quote, backslash, slash, non-ASCII, emoji, space, +, %, &,
 * <, >, ~, =, and text that looks like an escape. Bearer tokens allow only -._~+/ and =. */
static const char *const awkward_secrets[] = {
    "q\"uo\"te\\back\\slash",
    "s/la/sh//x",
    "n\xc3\xb6n-\xc3\x84SC\xc3\xaf\xc3\xaf \xe6\x97\xa5\xe6\x9c\xac",
    "emoji \xf0\x9f\x98\x80\xf0\x9f\x94\x91 key",
    "sp a+ce%25 &amp; <b>~=",
    "a\"b\\c/d \xc3\xa9\xf0\x9f\x98\x80 +%&<>~=",
    "%2F\\u0041&#39;+x",
};
static const char *const awkward_tokens[] = {"Tok/en+with~sl/ash.dot_dash-0==", "//++~~..__--=="};
#define ECHO_FORMS 12 /* the encodings echo-every-form cycles through */

/* `in` as the contents of a JSON string (UTF-8 passes through). */
static void json_quote(const char *in, char *out, size_t out_len) {
  size_t n = 0;
  for (; *in != '\0' && n + 3 < out_len; in++) {
    if (*in == '"' || *in == '\\') {
      out[n++] = '\\';
    }
    out[n++] = *in;
  }
  out[n] = '\0';
}

/* `in` with every byte but letters and digits as %XX. */
static void percent_upper(const char *in, char *out, size_t out_len) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && n + 4 < out_len; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
      out[n++] = (char)*p;
    } else {
      n += (size_t)snprintf(out + n, out_len - n, "%%%02X", *p);
    }
  }
  out[n] = '\0';
}

static int echoes_seen;

/* An echoed status: scrubbed of `secret` (raw and percent-encoded), and the echo got there. */
static void look_at_echo(const char *label, ycm_status st, const char *secret) {
  char percent[512];
  percent_upper(secret, percent, sizeof percent);
  echoes_seen++;
  CHECK_MSG(st.code != YCM_OK, "[%s] an echo is no success", label);
  CHECK_MSG(strstr(st.message, secret) == NULL, "[%s] an awkward secret leaked in: %s", label,
            st.message);
  CHECK_MSG(strstr(st.message, percent) == NULL, "[%s] it leaked percent-encoded in: %s", label,
            st.message);
  CHECK_MSG(strstr(st.message, "[REDACTED]") != NULL, "[%s] the echo did not reach: %s", label,
            st.message);
}

static void test_echo_every_form_sweep(void) {
  const char *bin = getenv("YCM_FAULT_SERVER_BIN");
  if (bin == NULL || bin[0] == '\0') {
    bin = "target/release/ycm-fault-server";
  }
  const char *argv[] = {bin, "--case", "echo-every-form", NULL};
  char url[256];
  pid_t pid = th_spawn_server(argv, NULL, url, sizeof url);
  CHECK_MSG(pid > 0, "%s --case echo-every-form did not start", bin);
  if (pid <= 0) {
    return;
  }
  char quoted[512], config[1024];
  for (size_t i = 0; i < sizeof awkward_secrets / sizeof awkward_secrets[0]; i++) {
    json_quote(awkward_secrets[i], quoted, sizeof quoted);
    snprintf(config, sizeof config,
             "{\"base_url\":\"%s\",\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"%s\","
             "\"max_retries\":0}",
             url, quoted);
    /* A refused secret is never sent twice by one client: one client per encoding. */
    for (int form = 0; form < ECHO_FORMS; form++) {
      ycm_client *client = NULL;
      ycm_status st = ycm_client_new_with_config(config, &client);
      CHECK_MSG(st.code == YCM_OK, "%s", st.message);
      if (client == NULL) {
        continue;
      }
      look_at_echo("client secret", ycm_update_user(client, 13329, "{\"company\":\"x\"}"),
                   awkward_secrets[i]);
      char *json = NULL;
      look_at_echo("cached refusal", ycm_get_user(client, 13329, &json), awkward_secrets[i]);
      ycm_string_free(json);
      ycm_client_free(client);
    }
  }
  for (size_t i = 0; i < sizeof awkward_tokens / sizeof awkward_tokens[0]; i++) {
    snprintf(config, sizeof config,
             "{\"base_url\":\"%s\",\"access_token\":\"%s\",\"max_retries\":0}", url,
             awkward_tokens[i]);
    ycm_client *client = NULL;
    ycm_status st = ycm_client_new_with_config(config, &client);
    CHECK_MSG(st.code == YCM_OK, "%s", st.message);
    for (int form = 0; client != NULL && form < ECHO_FORMS; form++) {
      look_at_echo("access token", ycm_update_user(client, 13329, "{\"company\":\"x\"}"),
                   awkward_tokens[i]);
    }
    ycm_client_free(client);
  }
  CHECK_EQ_LL(echoes_seen, (long long)(sizeof awkward_secrets / sizeof awkward_secrets[0]) *
                                   ECHO_FORMS * 2 +
                               (long long)(sizeof awkward_tokens / sizeof awkward_tokens[0]) *
                                   ECHO_FORMS);
  CHECK_MSG(th_stop_server(pid) != -1, "echo-every-form stopped");
}

/* ---------------------------------------------------------------- coverage of the sweep */

static void test_every_kind_of_failure_was_seen(void) {
  static const ycm_code expected[] = {
      YCM_OK,         YCM_ERR_INVALID_ARGUMENT, YCM_ERR_INVALID_BODY, YCM_ERR_CONNECT,
      YCM_ERR_IO,     YCM_ERR_HTTP,             YCM_ERR_UNAUTHORIZED, YCM_ERR_RATE_LIMITED,
      YCM_ERR_API,    YCM_ERR_BAD_RESPONSE,
  };
  printf("     %d statuses swept:", statuses_seen);
  for (int code = 0; code < 100; code++) {
    if (codes_seen[code] > 0) {
      printf(" %s=%d", ycm_code_name((ycm_code)code), codes_seen[code]);
    }
  }
  printf("\n");
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    CHECK_MSG(codes_seen[expected[i]] > 0, "the sweep never met %s",
              ycm_code_name(expected[i]));
  }
}

/* ---------------------------------------------------------------- the mock's log */

static void test_mock_log_is_clean(void) {
  int status;
  char *log = th_http_alloc("GET", "/__mock/log", NULL, &status);
  CHECK_EQ_LL(status, 200);
  CHECK(log != NULL);
  if (log == NULL) {
    return;
  }
  /* The log saw the token requests, both grants, with the secrets in them redacted. */
  CHECK_CONTAINS(log, "grant_type=client_credentials");
  CHECK_CONTAINS(log, "grant_type=refresh_token");
  CHECK_CONTAINS(log, "[REDACTED]");
  for (size_t i = 0; i < secret_count; i++) {
    CHECK_MSG(secrets[i][0] != '\0' && strstr(log, secrets[i]) == NULL,
              "\"%s\" is in /__mock/log", secrets[i]);
  }
  free(log);
}

int main(void) {
  printf("ycm C secret-sweep tests against %s (libycm %s)\n", th_mock_url(), ycm_version());
  fflush(stdout);
  if (mock_option("--access-token", static_token, sizeof static_token) != 0 ||
      mock_option("--client-secret", client_secret, sizeof client_secret) != 0) {
    fprintf(stderr, "test_secrets needs YCM_MOCK_ARGS with --access-token and "
                    "--client-secret (see c.mk)\n");
    return 2;
  }
  secrets[secret_count++] = static_token;
  secrets[secret_count++] = client_secret;
  secrets[secret_count++] = WRONG_SECRET;
  secrets[secret_count++] = BAD_TOKEN;
  secrets[secret_count++] = issued_access;  /* filled in by the first case */
  secrets[secret_count++] = issued_refresh; /* (the C clients never hold this one) */
  th_run("live mock: every call, faults, expiry, revocation", test_live_mock_sweep);
  th_run("fault servers and a closed port", test_fault_server_sweep);
  th_run("secrets echoed in every encoding", test_echo_every_form_sweep);
  th_run("the sweep met every kind of failure", test_every_kind_of_failure_was_seen);
  th_run("the mock's log holds no secret", test_mock_log_is_clean);
  return th_finish();
}
