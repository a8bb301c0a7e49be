/*
 * C tests of libycm against a running ycm-mock (YCM_MOCK_URL, set by tests/run.sh).
 * Every refusal is checked for its code, http_status, attempts and a message naming the
 * argument or field, and for "nothing sent" through the mock's own request counter.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm.h"
#include "ycm_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "ycm-mock-token"
#define CLIENT_ID "ycm-mock-client"
#define CLIENT_SECRET "ycm-mock-secret"

/* Checks the envelope data of a success. */
#define CHECK_ENVELOPE(st)                                                                   \
  do {                                                                                       \
    CHECK_EQ_LL(strlen((st).request_id), 32);                                                \
    CHECK_MSG((st).time > 1600000000LL, "time %lld", (long long)(st).time);                 \
  } while (0)

static ycm_client *new_client(void) {
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new(th_mock_url(), TOKEN, &client);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  CHECK(client != NULL);
  return client;
}

static ycm_client *client_from_config(const char *extra_json) {
  char config[1024];
  snprintf(config, sizeof config, "{\"base_url\":\"%s\",%s}", th_mock_url(), extra_json);
  ycm_client *client = NULL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS_L(config, st, YCM_OK, 0, 0, NULL);
  return client;
}

static void mock_user(long long id, char *out, size_t out_len) {
  char path[64];
  snprintf(path, sizeof path, "/__mock/users/%lld", id);
  int status = th_http("GET", path, NULL, out, out_len);
  CHECK_EQ_LL(status, 200);
}

static void set_faults(const char *json) {
  char reply[256];
  int status = th_http("POST", "/__mock/faults", json, reply, sizeof reply);
  CHECK_MSG(status == 200, "POST /__mock/faults %s -> %d %s", json, status, reply);
}

static size_t count_substrings(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle)) {
    n++;
  }
  return n;
}

/* ---------------------------------------------------------------- static information */

static void test_version(void) {
  CHECK_STREQ(ycm_version(), YCM_VERSION_STRING);
  char from_macros[64];
  snprintf(from_macros, sizeof from_macros, "%d.%d.%d", YCM_VERSION_MAJOR, YCM_VERSION_MINOR,
           YCM_VERSION_PATCH);
  CHECK_STREQ(ycm_version(), from_macros);
}

static void test_code_names_and_descriptions(void) {
  static const struct {
    ycm_code code;
    int number;
    const char *name;
  } codes[] = {
      {YCM_OK, 0, "YCM_OK"},
      {YCM_ERR_NULL_ARGUMENT, 1, "YCM_ERR_NULL_ARGUMENT"},
      {YCM_ERR_INVALID_ARGUMENT, 2, "YCM_ERR_INVALID_ARGUMENT"},
      {YCM_ERR_INVALID_UTF8, 3, "YCM_ERR_INVALID_UTF8"},
      {YCM_ERR_INVALID_BODY, 4, "YCM_ERR_INVALID_BODY"},
      {YCM_ERR_CONNECT, 10, "YCM_ERR_CONNECT"},
      {YCM_ERR_TIMEOUT, 11, "YCM_ERR_TIMEOUT"},
      {YCM_ERR_TLS, 12, "YCM_ERR_TLS"},
      {YCM_ERR_IO, 13, "YCM_ERR_IO"},
      {YCM_ERR_HTTP, 20, "YCM_ERR_HTTP"},
      {YCM_ERR_UNAUTHORIZED, 21, "YCM_ERR_UNAUTHORIZED"},
      {YCM_ERR_RATE_LIMITED, 22, "YCM_ERR_RATE_LIMITED"},
      {YCM_ERR_API, 23, "YCM_ERR_API"},
      {YCM_ERR_BAD_RESPONSE, 24, "YCM_ERR_BAD_RESPONSE"},
      {YCM_ERR_INTERNAL, 90, "YCM_ERR_INTERNAL"},
  };
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ_LL(codes[i].code, codes[i].number);
    CHECK_STREQ(ycm_code_name(codes[i].code), codes[i].name);
    const char *description = ycm_code_description(codes[i].code);
    CHECK_MSG(description != NULL && strlen(description) > 10, "%s", codes[i].name);
    /* The strings are static: the same pointer every time. */
    CHECK(ycm_code_name(codes[i].code) == ycm_code_name(codes[i].code));
    for (size_t j = 0; j < i; j++) {
      CHECK_MSG(strcmp(description, ycm_code_description(codes[j].code)) != 0,
                "%s and %s share a description", codes[i].name, codes[j].name);
    }
  }
}

/* ---------------------------------------------------------------- the seed's example */

static void test_update_seed_example(void) {
  ycm_client *client = new_client();
  long long updates = th_stat("update_user");
  ycm_status st = ycm_update_user(client, 13329, "{\"company\": \"New Company Name\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_ENVELOPE(st);
  CHECK_EQ_LL(st.api_errcode, 0);
  CHECK_EQ_LL(th_stat("update_user"), updates + 1);

  char stored[4096];
  mock_user(13329, stored, sizeof stored);
  CHECK_CONTAINS(stored, "\"company\":\"New Company Name\"");

  char *json = NULL;
  st = ycm_get_user(client, 13329, &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_ENVELOPE(st);
  CHECK_CONTAINS(json, "\"company\":\"New Company Name\"");
  CHECK_CONTAINS(json, "\"userId\":13329");
  ycm_string_free(json);
  ycm_client_free(client);
}

static void test_update_with_fields_struct(void) {
  ycm_client *client = new_client();
  ycm_user_fields fields = {0};
  fields.company = "Fields \"Quoted\" Co \xc3\xa9";
  fields.first_name = "Ada";
  fields.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
  fields.pbx_limit = 7;
  ycm_status st = ycm_update_user_fields(client, 13331, &fields);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_ENVELOPE(st);

  char stored[4096];
  mock_user(13331, stored, sizeof stored);
  CHECK_CONTAINS(stored, "\"company\":\"Fields \\\"Quoted\\\" Co \xc3\xa9\"");
  CHECK_CONTAINS(stored, "\"firstName\":\"Ada\"");
  CHECK_CONTAINS(stored, "\"pbxCreationLimit\":7");

  /* The JSON the struct makes, with every field and "no limit". */
  ycm_user_fields all = {0};
  all.company = "c";
  all.first_name = "f";
  all.last_name = "l";
  all.email = "e";
  all.phone = "p";
  all.mobile = "m";
  all.address = "a";
  all.remark = "r";
  all.disable_two_factor_authentication = 1;
  all.pbx_limit_mode = YCM_PBX_LIMIT_NONE;
  char *json = NULL;
  st = ycm_user_fields_to_json(&all, &json);
  CHECK_STATUS(st, YCM_OK, 0, 0, NULL);
  CHECK_STREQ(json,
              "{\"company\":\"c\",\"firstName\":\"f\",\"lastName\":\"l\",\"email\":\"e\","
              "\"phone\":\"p\",\"mobile\":\"m\",\"address\":\"a\",\"remark\":\"r\","
              "\"twoFactorAuthenticationEnable\":\"disable\",\"pbxCreationLimit\":\"\"}");
  /* What the struct makes passes the JSON validation too. */
  CHECK_STATUS(ycm_validate_user_update(json), YCM_OK, 0, 0, NULL);
  ycm_string_free(json);

  st = ycm_update_user_fields(client, 13331, &all);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  mock_user(13331, stored, sizeof stored);
  CHECK_CONTAINS(stored, "\"pbxCreationLimit\":\"\"");
  CHECK_CONTAINS(stored, "\"twoFactorAuthenticationEnable\":\"disable\"");
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- validation */

static void test_json_validation_rules(void) {
  static const struct {
    const char *body;
    const char *needle;
  } cases[] = {
      {"{}", "empty"},
      {"", "not valid JSON"},
      {"not json", "not valid JSON"},
      {"{\"company\": \"x\"", "not valid JSON"},
      {"[{\"company\": \"x\"}]", "JSON object"},
      {"\"company\"", "JSON object"},
      {"42", "JSON object"},
      {"{\"compnay\": \"x\"}", "\"compnay\""},
      {"{\"company\": 1}", "\"company\" must be a string"},
      {"{\"remark\": [\"x\"]}", "\"remark\" must be a string"},
      {"{\"email\": null}", "\"email\" must be a string, got null"},
      {"{\"twoFactorAuthenticationEnable\": \"enable\"}", "\"twoFactorAuthenticationEnable\""},
      {"{\"twoFactorAuthenticationEnable\": true}", "\"twoFactorAuthenticationEnable\""},
      {"{\"pbxCreationLimit\": 0}", "\"pbxCreationLimit\""},
      {"{\"pbxCreationLimit\": -1}", "\"pbxCreationLimit\""},
      {"{\"pbxCreationLimit\": 1.5}", "\"pbxCreationLimit\""},
      {"{\"pbxCreationLimit\": \"5\"}", "\"pbxCreationLimit\""},
      {"{\"pbxCreationLimit\": 2147483648}", "\"pbxCreationLimit\""},
      {"{\"pbxCreationLimit\": null}", "\"pbxCreationLimit\""},
      {"{\"company\": \"ok\", \"pbxCreationLimit\": 0}", "\"pbxCreationLimit\""},
  };
  ycm_client *client = new_client();
  long long requests = th_stat("requests");
  CHECK(requests >= 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ycm_status sent = ycm_update_user(client, 13329, cases[i].body);
    CHECK_STATUS_L(cases[i].body, sent, YCM_ERR_INVALID_BODY, 0, 0, cases[i].needle);
    ycm_status offline = ycm_validate_user_update(cases[i].body);
    CHECK_STATUS_L(cases[i].body, offline, YCM_ERR_INVALID_BODY, 0, 0, cases[i].needle);
    CHECK_STREQ(sent.message, offline.message);
    CHECK_MSG(th_stat("requests") == requests, "[%s] a refused body was sent", cases[i].body);
  }

  /* A body over 64 KiB. */
  size_t big_len = 64 * 1024 + 64;
  char *big = malloc(big_len + 1);
  CHECK(big != NULL);
  if (big != NULL) {
    int head = snprintf(big, big_len + 1, "{\"remark\":\"");
    memset(big + head, 'x', big_len - (size_t)head - 2);
    memcpy(big + big_len - 2, "\"}", 3);
    CHECK_EQ_LL(strlen(big), big_len);
    ycm_status sent = ycm_update_user(client, 13329, big);
    CHECK_STATUS(sent, YCM_ERR_INVALID_BODY, 0, 0, "65536");
    CHECK_CONTAINS(sent.message, "update body");
    ycm_status offline = ycm_validate_user_update(big);
    CHECK_STATUS(offline, YCM_ERR_INVALID_BODY, 0, 0, "65536");
    free(big);
  }
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

static void test_validation_accepts_edges(void) {
  static const char *accepted[] = {
      "{\"pbxCreationLimit\": \"\"}",
      "{\"pbxCreationLimit\": 1}",
      "{\"pbxCreationLimit\": 2147483647}",
      "{\"twoFactorAuthenticationEnable\": \"disable\"}",
      "{\"company\": \"\"}",
      "{\"company\":\"c\",\"firstName\":\"f\",\"lastName\":\"l\",\"email\":\"e\",\"phone\":\"p\","
      "\"mobile\":\"m\",\"address\":\"a\",\"remark\":\"r\"}",
  };
  long long requests = th_stat("requests");
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    CHECK_STATUS_L(accepted[i], ycm_validate_user_update(accepted[i]), YCM_OK, 0, 0, NULL);
  }
  CHECK_EQ_LL(th_stat("requests"), requests);
}

static void test_user_id_refused(void) {
  ycm_client *client = new_client();
  ycm_user_fields fields = {0};
  fields.company = "x";
  long long requests = th_stat("requests");
  const long long ids[] = {0, -1, INT64_MIN};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    CHECK_STATUS(ycm_update_user(client, ids[i], "{\"company\":\"x\"}"),
                 YCM_ERR_INVALID_ARGUMENT, 0, 0, "user_id");
    CHECK_STATUS(ycm_update_user_fields(client, ids[i], &fields), YCM_ERR_INVALID_ARGUMENT, 0,
                 0, "user_id");
    char *json = SENTINEL;
    CHECK_STATUS(ycm_get_user(client, ids[i], &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
                 "user_id");
    CHECK(json == SENTINEL);
  }
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

static void test_fields_struct_refused(void) {
  ycm_client *client = new_client();
  long long requests = th_stat("requests");
  char *json = SENTINEL;

  ycm_user_fields empty = {0};
  CHECK_STATUS(ycm_update_user_fields(client, 13329, &empty), YCM_ERR_INVALID_BODY, 0, 0,
               "empty");
  CHECK_STATUS(ycm_user_fields_to_json(&empty, &json), YCM_ERR_INVALID_BODY, 0, 0, "empty");
  CHECK(json == SENTINEL);

  const long long bad_limits[] = {0, -1, 2147483648LL, INT64_MAX};
  for (size_t i = 0; i < sizeof bad_limits / sizeof bad_limits[0]; i++) {
    ycm_user_fields fields = {0};
    fields.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
    fields.pbx_limit = bad_limits[i];
    CHECK_STATUS(ycm_update_user_fields(client, 13329, &fields), YCM_ERR_INVALID_BODY, 0, 0,
                 "pbx_limit");
    CHECK_STATUS(ycm_user_fields_to_json(&fields, &json), YCM_ERR_INVALID_BODY, 0, 0,
                 "pbx_limit");
    CHECK(json == SENTINEL);
  }

  ycm_user_fields bad_mode = {0};
  bad_mode.company = "x";
  bad_mode.pbx_limit_mode = 7;
  CHECK_STATUS(ycm_update_user_fields(client, 13329, &bad_mode), YCM_ERR_INVALID_ARGUMENT, 0,
               0, "pbx_limit_mode");
  CHECK_STATUS(ycm_user_fields_to_json(&bad_mode, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "pbx_limit_mode");
  CHECK(json == SENTINEL);

  /* A limit of 1 and "no limit" are accepted offline. */
  ycm_user_fields one = {0};
  one.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
  one.pbx_limit = 1;
  CHECK_STATUS(ycm_user_fields_to_json(&one, &json), YCM_OK, 0, 0, NULL);
  CHECK_STREQ(json, "{\"pbxCreationLimit\":1}");
  ycm_string_free(json);
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

/* The JSON rules cap a body at 64 KiB; the struct makes a JSON body too, so it must obey
 * the same cap ("checked exactly as ycm_update_user checks a JSON body"). */
static void test_fields_struct_body_too_large(void) {
  ycm_client *client = new_client();
  long long requests = th_stat("requests");
  size_t len = 64 * 1024 + 1;
  char *remark = malloc(len + 1);
  CHECK(remark != NULL);
  if (remark != NULL) {
    memset(remark, 'x', len);
    remark[len] = '\0';
    ycm_user_fields fields = {0};
    fields.remark = remark;
    char *json = SENTINEL;
    CHECK_STATUS(ycm_user_fields_to_json(&fields, &json), YCM_ERR_INVALID_BODY, 0, 0, "65536");
    CHECK(json == SENTINEL);
    if (json != SENTINEL) {
      ycm_string_free(json);
    }
    CHECK_STATUS(ycm_update_user_fields(client, 20117, &fields), YCM_ERR_INVALID_BODY, 0, 0,
                 "65536");
    free(remark);
  }
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- API failures */

static void test_api_failures(void) {
  ycm_client *client = new_client();
  ycm_status st = ycm_update_user(client, 99999999, "{\"company\": \"Nobody\"}");
  CHECK_STATUS(st, YCM_ERR_API, 200, 1, NULL);
  CHECK_EQ_LL(st.api_errcode, 20001);
  CHECK_ENVELOPE(st);
  CHECK(st.message[0] != '\0');

  st = ycm_update_user(client, 13329, "{\"pbxCreationLimit\": 2}");
  CHECK_STATUS(st, YCM_ERR_API, 200, 1, NULL);
  CHECK_EQ_LL(st.api_errcode, 20002);
  CHECK_ENVELOPE(st);

  ycm_user_fields fields = {0};
  fields.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
  fields.pbx_limit = 5;
  st = ycm_update_user_fields(client, 13330, &fields);
  CHECK_STATUS(st, YCM_ERR_API, 200, 1, NULL);
  CHECK_EQ_LL(st.api_errcode, 20003);

  char *json = SENTINEL;
  st = ycm_get_user(client, 99999999, &json);
  CHECK_STATUS(st, YCM_ERR_API, 200, 1, NULL);
  CHECK_EQ_LL(st.api_errcode, 20001);
  CHECK(json == SENTINEL);

  /* Nothing changed on the server. */
  char stored[4096];
  mock_user(13329, stored, sizeof stored);
  CHECK(strstr(stored, "\"pbxCreationLimit\":2,") == NULL);
  ycm_client_free(client);
}

static void test_bad_token_then_set_access_token(void) {
  ycm_client *client = NULL;
  CHECK_STATUS(ycm_client_new(th_mock_url(), "not-the-token", &client), YCM_OK, 0, 0, NULL);
  long long unauthorized = th_stat("unauthorized");
  ycm_status st = ycm_update_user(client, 13329, "{\"remark\": \"bad token\"}");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 401, 1, NULL);
  CHECK(strstr(st.message, "not-the-token") == NULL);
  CHECK_EQ_LL(th_stat("unauthorized"), unauthorized + 1);

  CHECK_STATUS(ycm_client_set_access_token(client, TOKEN), YCM_OK, 0, 0, NULL);
  st = ycm_update_user(client, 13329, "{\"remark\": \"good token\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);

  /* A token with a character that cannot go in a header is refused, and kept out. */
  CHECK_STATUS(ycm_client_set_access_token(client, "bad\r\ntoken"), YCM_ERR_INVALID_ARGUMENT,
               0, 0, "access_token");
  CHECK_STATUS(ycm_update_user(client, 13329, "{\"remark\": \"still good\"}"), YCM_OK, 200, 1,
               NULL);
  ycm_client_free(client);

  ycm_client *untouched = SENTINEL;
  CHECK_STATUS(ycm_client_new(th_mock_url(), "bad token", &untouched),
               YCM_ERR_INVALID_ARGUMENT, 0, 0, "access_token");
  CHECK(untouched == SENTINEL);
}

static void test_client_credentials(void) {
  long long token_requests = th_stat("token_requests");
  ycm_client *client = client_from_config(
      "\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"" CLIENT_SECRET "\"");
  CHECK_EQ_LL(th_stat("token_requests"), token_requests); /* nothing sent yet */
  ycm_status st = ycm_update_user(client, 13329, "{\"remark\": \"via client credentials\"}");
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL); /* the token request, then the PUT */
  CHECK_ENVELOPE(st);
  CHECK_EQ_LL(th_stat("token_requests"), token_requests + 1);
  st = ycm_update_user(client, 13329, "{\"remark\": \"token reused\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(th_stat("token_requests"), token_requests + 1);

  /* Such a client manages its own tokens. */
  CHECK_STATUS(ycm_client_set_access_token(client, "abc"), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "client_id");
  ycm_client_free(client);

  ycm_client *wrong = client_from_config(
      "\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"wrong-secret-4711\"");
  st = ycm_update_user(wrong, 13329, "{\"remark\": \"never\"}");
  CHECK_STATUS(st, YCM_ERR_UNAUTHORIZED, 401, 1, NULL);
  CHECK_MSG(strstr(st.message, "wrong-secret-4711") == NULL, "secret leaked: %s", st.message);
  ycm_client_free(wrong);
}

static void test_connect_refused(void) {
  int port = th_closed_port();
  CHECK(port > 0);
  char config[512];
  snprintf(config, sizeof config,
           "{\"base_url\":\"http://127.0.0.1:%d\",\"access_token\":\"t\",\"max_retries\":0,"
           "\"timeout_ms\":3000,\"connect_timeout_ms\":1000}",
           port);
  ycm_client *client = NULL;
  CHECK_STATUS(ycm_client_new_with_config(config, &client), YCM_OK, 0, 0, NULL);
  ycm_status st = ycm_update_user(client, 13329, "{\"company\": \"x\"}");
  CHECK_STATUS(st, YCM_ERR_CONNECT, 0, -1, NULL);
  CHECK_MSG(st.attempts >= 1, "attempts %u", (unsigned)st.attempts);
  CHECK(st.message[0] != '\0');
  char *json = SENTINEL;
  st = ycm_get_user(client, 13329, &json);
  CHECK_STATUS(st, YCM_ERR_CONNECT, 0, 1, NULL);
  CHECK(json == SENTINEL);
  ycm_client_free(client);
}

static void test_bad_configs(void) {
  char buf[1024];
  const char *url = th_mock_url();
  struct {
    char config[512];
    const char *needle;
  } cases[9];
  size_t n = 0;
  snprintf(cases[n].config, sizeof cases[n].config,
           "{\"base_url\":\"%s\",\"access_token\":\"t\",\"timeout_msec\":5}", url);
  cases[n++].needle = "\"timeout_msec\"";
  snprintf(cases[n].config, sizeof cases[n].config,
           "{\"base_url\":\"http://ycm.example.com\",\"access_token\":\"t\"}");
  cases[n++].needle = "plain http";
  snprintf(cases[n].config, sizeof cases[n].config, "{\"access_token\":\"t\"}");
  cases[n++].needle = "base_url";
  snprintf(cases[n].config, sizeof cases[n].config, "{\"base_url\":\"%s\"}", url);
  cases[n++].needle = "access_token";
  snprintf(cases[n].config, sizeof cases[n].config,
           "{\"base_url\":\"%s\",\"client_id\":\"only-the-id\"}", url);
  cases[n++].needle = "client_secret";
  snprintf(cases[n].config, sizeof cases[n].config,
           "{\"base_url\":\"%s\",\"access_token\":\"t\",\"max_retries\":\"2\"}", url);
  cases[n++].needle = "max_retries";
  snprintf(cases[n].config, sizeof cases[n].config, "not json");
  cases[n++].needle = "JSON";
  snprintf(cases[n].config, sizeof cases[n].config, "[1]");
  cases[n++].needle = "object";
  snprintf(cases[n].config, sizeof cases[n].config,
           "{\"base_url\":\"ftp://127.0.0.1\",\"access_token\":\"t\"}");
  cases[n++].needle = "base_url";
  for (size_t i = 0; i < n; i++) {
    ycm_client *client = SENTINEL;
    ycm_status st = ycm_client_new_with_config(cases[i].config, &client);
    CHECK_STATUS_L(cases[i].config, st, YCM_ERR_INVALID_ARGUMENT, 0, 0, cases[i].needle);
    CHECK(client == SENTINEL);
  }

  /* ycm_client_new applies the same base URL rules; allow_insecure_http overrides. */
  ycm_client *client = SENTINEL;
  CHECK_STATUS(ycm_client_new("http://ycm.example.com", "t", &client), YCM_ERR_INVALID_ARGUMENT,
               0, 0, "base_url");
  CHECK_STATUS(ycm_client_new("not a url", "t", &client), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "base_url");
  CHECK(client == SENTINEL);
  snprintf(buf, sizeof buf,
           "{\"base_url\":\"http://ycm.example.com\",\"access_token\":\"t\","
           "\"allow_insecure_http\":true}");
  client = NULL;
  CHECK_STATUS(ycm_client_new_with_config(buf, &client), YCM_OK, 0, 0, NULL);
  CHECK(client != NULL);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- C-boundary checks */

static void test_null_arguments(void) {
  ycm_client *client = new_client();
  const char *url = th_mock_url();
  ycm_user_fields fields = {0};
  fields.company = "x";
  long long requests = th_stat("requests");
  char config[512];
  snprintf(config, sizeof config, "{\"base_url\":\"%s\",\"access_token\":\"t\"}", url);

  ycm_client *out_client = SENTINEL;
  CHECK_STATUS(ycm_client_new(NULL, TOKEN, &out_client), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "base_url");
  CHECK_STATUS(ycm_client_new(url, NULL, &out_client), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "access_token");
  CHECK_STATUS(ycm_client_new(url, TOKEN, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "out_client");
  CHECK_STATUS(ycm_client_new_with_config(NULL, &out_client), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "config_json");
  CHECK_STATUS(ycm_client_new_with_config(config, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "out_client");
  CHECK(out_client == SENTINEL);

  CHECK_STATUS(ycm_client_set_access_token(NULL, TOKEN), YCM_ERR_NULL_ARGUMENT, 0, 0, "client");
  CHECK_STATUS(ycm_client_set_access_token(client, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "access_token");

  CHECK_STATUS(ycm_update_user(NULL, 13329, "{\"company\":\"x\"}"), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "client");
  CHECK_STATUS(ycm_update_user(client, 13329, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "body_json");
  CHECK_STATUS(ycm_validate_user_update(NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "body_json");

  CHECK_STATUS(ycm_update_user_fields(NULL, 13329, &fields), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "client");
  CHECK_STATUS(ycm_update_user_fields(client, 13329, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "fields");

  char *json = SENTINEL;
  CHECK_STATUS(ycm_user_fields_to_json(NULL, &json), YCM_ERR_NULL_ARGUMENT, 0, 0, "fields");
  CHECK_STATUS(ycm_user_fields_to_json(&fields, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "out_json");
  CHECK_STATUS(ycm_get_user(NULL, 13329, &json), YCM_ERR_NULL_ARGUMENT, 0, 0, "client");
  CHECK_STATUS(ycm_get_user(client, 13329, NULL), YCM_ERR_NULL_ARGUMENT, 0, 0, "out_json");
  CHECK_STATUS(ycm_list_users(NULL, 10, 1, NULL, &json), YCM_ERR_NULL_ARGUMENT, 0, 0, "client");
  CHECK_STATUS(ycm_list_users(client, 10, 1, "userId", NULL), YCM_ERR_NULL_ARGUMENT, 0, 0,
               "out_json");
  CHECK(json == SENTINEL);

  ycm_client_free(NULL);
  ycm_string_free(NULL);
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

static void test_invalid_utf8(void) {
  ycm_client *client = new_client();
  const char *url = th_mock_url();
  long long requests = th_stat("requests");
  char bad_url[256];
  snprintf(bad_url, sizeof bad_url, "%s/\xff", url);

  ycm_client *out_client = SENTINEL;
  CHECK_STATUS(ycm_client_new(bad_url, TOKEN, &out_client), YCM_ERR_INVALID_UTF8, 0, 0,
               "base_url");
  CHECK_STATUS(ycm_client_new(url, "tok\xff", &out_client), YCM_ERR_INVALID_UTF8, 0, 0,
               "access_token");
  CHECK_STATUS(ycm_client_new_with_config("{\"base_url\":\"\xff\"}", &out_client),
               YCM_ERR_INVALID_UTF8, 0, 0, "config_json");
  CHECK(out_client == SENTINEL);
  CHECK_STATUS(ycm_client_set_access_token(client, "\xff"), YCM_ERR_INVALID_UTF8, 0, 0,
               "access_token");

  const char *body = "{\"company\": \"\xff\"}";
  CHECK_STATUS(ycm_update_user(client, 13329, body), YCM_ERR_INVALID_UTF8, 0, 0, "body_json");
  CHECK_STATUS(ycm_validate_user_update(body), YCM_ERR_INVALID_UTF8, 0, 0, "body_json");
  /* A truncated multi-byte sequence, too. */
  CHECK_STATUS(ycm_validate_user_update("{\"company\": \"\xc3\"}"), YCM_ERR_INVALID_UTF8, 0, 0,
               "body_json");

  ycm_user_fields fields = {0};
  fields.company = "ok";
  fields.remark = "\xff";
  CHECK_STATUS(ycm_update_user_fields(client, 13329, &fields), YCM_ERR_INVALID_UTF8, 0, 0,
               "fields->remark");
  char *json = SENTINEL;
  CHECK_STATUS(ycm_user_fields_to_json(&fields, &json), YCM_ERR_INVALID_UTF8, 0, 0,
               "fields->remark");
  CHECK_STATUS(ycm_list_users(client, 10, 1, "\xff", &json), YCM_ERR_INVALID_UTF8, 0, 0, "sort");
  CHECK(json == SENTINEL);
  CHECK_EQ_LL(th_stat("requests"), requests);

  /* The client still works after every refusal. */
  CHECK_STATUS(ycm_update_user(client, 13329, "{\"remark\": \"after utf8\"}"), YCM_OK, 200, 1,
               NULL);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- reads */

static void test_reads(void) {
  ycm_client *client = new_client();
  char *json = NULL;
  ycm_status st = ycm_get_user(client, 13330, &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_CONTAINS(json, "\"userId\":13330");
  CHECK_CONTAINS(json, "\"userType\":\"My Colleague\"");
  ycm_string_free(json);

  json = NULL;
  st = ycm_list_users(client, 50, 1, NULL, &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_ENVELOPE(st);
  CHECK_EQ_LL(count_substrings(json, "\"userId\":"), 50);
  CHECK_CONTAINS(json, "\"pageSize\":50");
  CHECK_CONTAINS(json, "\"pageNumber\":1");
  CHECK_CONTAINS(json, "\"total\":120");
  ycm_string_free(json);

  json = NULL;
  st = ycm_list_users(client, 50, 3, NULL, &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(count_substrings(json, "\"userId\":"), 20);
  ycm_string_free(json);

  json = NULL;
  st = ycm_list_users(client, 1, 1, "-userId", &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_CONTAINS(json, "\"userId\":20117");
  ycm_string_free(json);

  long long requests = th_stat("requests");
  json = SENTINEL;
  CHECK_STATUS(ycm_list_users(client, 0, 1, NULL, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "page_size");
  CHECK_STATUS(ycm_list_users(client, 51, 1, NULL, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "page_size");
  CHECK_STATUS(ycm_list_users(client, -1, 1, NULL, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "page_size");
  CHECK_STATUS(ycm_list_users(client, 10, 0, NULL, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "page_number");
  CHECK_STATUS(ycm_list_users(client, 10, -5, NULL, &json), YCM_ERR_INVALID_ARGUMENT, 0, 0,
               "page_number");
  CHECK(json == SENTINEL);
  CHECK_EQ_LL(th_stat("requests"), requests);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- faults and retries */

static void test_retry_after_503(void) {
  ycm_client *client = new_client();
  long long updates = th_stat("update_user");
  set_faults("{\"fail_next\":1,\"fail_status\":503}");
  ycm_status st = ycm_update_user(client, 13329, "{\"remark\": \"after a 503\"}");
  CHECK_STATUS(st, YCM_OK, 200, 2, NULL);
  CHECK_ENVELOPE(st);
  CHECK_EQ_LL(th_stat("update_user"), updates + 2);
  ycm_client_free(client);
}

static void test_no_retry_on_500_and_rate_limit_budget(void) {
  ycm_client *client = client_from_config(
      "\"access_token\":\"" TOKEN "\",\"max_retries\":1,\"retry_base_ms\":10,"
      "\"retry_max_ms\":50,\"timeout_ms\":2500");
  /* 500 is not a retryable status: one attempt, and the HTTP status is reported. */
  set_faults("{\"fail_next\":1,\"fail_status\":500}");
  ycm_status st = ycm_update_user(client, 13329, "{\"remark\": \"500\"}");
  CHECK_STATUS(st, YCM_ERR_HTTP, 500, 1, "500");
  /* A 429 pauses the client's gate, which lowers its rate: the call waits throttling out
     within its 2.5 s budget (more than its max_retries of 1), and gives up before the
     gate's next opening would outlast it. */
  set_faults("{\"fail_next\":10,\"fail_status\":429,\"retry_after\":\"0\"}");
  st = ycm_update_user(client, 13329, "{\"remark\": \"429\"}");
  CHECK_STATUS(st, YCM_ERR_RATE_LIMITED, 429, -1, "429");
  CHECK(st.attempts >= 2);
  set_faults("{}");
  CHECK_STATUS(ycm_update_user(client, 13329, "{\"remark\": \"ok again\"}"), YCM_OK, 200, 1,
               NULL);
  ycm_client_free(client);
}

/* ---------------------------------------------------------------- concurrency */

#define THREADS 8
#define UPDATES_PER_THREAD 50

struct worker {
  const ycm_client *client;
  int index;
  int ok;
  ycm_status first_failure;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < UPDATES_PER_THREAD; i++) {
    char remark[64];
    snprintf(remark, sizeof remark, "thread %d update %d", w->index, i);
    ycm_user_fields fields = {0};
    fields.remark = remark;
    ycm_status st = ycm_update_user_fields(w->client, 20001 + w->index, &fields);
    if (st.code == YCM_OK && st.attempts == 1) {
      w->ok++;
    } else if (w->ok == i) {
      w->first_failure = st;
    }
  }
  return NULL;
}

static void test_concurrent_updates_share_one_client(void) {
  ycm_client *client = new_client();
  long long updates = th_stat("update_user");
  struct worker workers[THREADS];
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++) {
    memset(&workers[t], 0, sizeof workers[t]);
    workers[t].client = client;
    workers[t].index = t;
    CHECK_EQ_LL(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
  }
  int ok = 0;
  for (int t = 0; t < THREADS; t++) {
    CHECK_EQ_LL(pthread_join(threads[t], NULL), 0);
    ok += workers[t].ok;
    CHECK_MSG(workers[t].ok == UPDATES_PER_THREAD, "thread %d: %d ok; first failure %s: %s", t,
              workers[t].ok, ycm_code_name(workers[t].first_failure.code),
              workers[t].first_failure.message);
  }
  CHECK_EQ_LL(ok, THREADS * UPDATES_PER_THREAD);
  CHECK_EQ_LL(th_stat("update_user"), updates + THREADS * UPDATES_PER_THREAD);
  for (int t = 0; t < THREADS; t++) {
    char stored[4096], expected[128];
    mock_user(20001 + t, stored, sizeof stored);
    snprintf(expected, sizeof expected, "\"remark\":\"thread %d update %d\"", t,
             UPDATES_PER_THREAD - 1);
    CHECK_CONTAINS(stored, expected);
  }
  ycm_client_free(client);
}

int main(void) {
  printf("ycm C tests against %s (libycm %s)\n", th_mock_url(), ycm_version());
  th_run("version", test_version);
  th_run("code names and descriptions", test_code_names_and_descriptions);
  th_run("update: the seed's example", test_update_seed_example);
  th_run("update: the fields struct", test_update_with_fields_struct);
  th_run("validation: every JSON rule, nothing sent", test_json_validation_rules);
  th_run("validation: accepted edges", test_validation_accepts_edges);
  th_run("validation: user_id", test_user_id_refused);
  th_run("validation: the fields struct", test_fields_struct_refused);
  th_run("validation: the fields struct over 64 KiB", test_fields_struct_body_too_large);
  th_run("API failures 20001/20002/20003", test_api_failures);
  th_run("bad token, then set_access_token", test_bad_token_then_set_access_token);
  th_run("client credentials", test_client_credentials);
  th_run("connection refused", test_connect_refused);
  th_run("bad configs", test_bad_configs);
  th_run("NULL arguments", test_null_arguments);
  th_run("invalid UTF-8", test_invalid_utf8);
  th_run("reads: get_user and list_users", test_reads);
  th_run("retry after a 503", test_retry_after_503);
  th_run("no retry on 500; 429 budget", test_no_retry_on_500_and_rate_limit_budget);
  th_run("8 threads x 50 updates on one client", test_concurrent_updates_share_one_client);
  return th_finish();
}
