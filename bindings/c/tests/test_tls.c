/*
 * Transport security from C. TLS: a private CA and a server certificate for localhost and
 * 127.0.0.1 are made here with the openssl command-line tool, and a second ycm-mock
 * (YCM_MOCK_BIN) serves HTTPS with them; without ca_file the update fails with
 * YCM_ERR_TLS after one attempt, with ca_file it lands, and a ca_file that does not exist
 * is refused when the client is built. The HTTPS mock logs each API request on stderr,
 * which tells what reached it. Header injection: CR/LF in the access token or the user
 * agent is refused before anything is sent (checked against the plain mock of run.sh).
 * The wrong-host and expired-certificate cases are covered by tests/tls.rs.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "ycm_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "ycm-mock-token"

static char dir[64];     /* the temporary directory of the certificates */
static char https_url[128]; /* https://localhost:PORT */
static pid_t https_pid = -1;

static void path_in_dir(char *out, size_t out_len, const char *name) {
  snprintf(out, out_len, "%s/%s", dir, name);
}

static const char *mock_bin(void) {
  const char *bin = getenv("YCM_MOCK_BIN");
  return bin != NULL && bin[0] != '\0' ? bin : "target/release/ycm-mock";
}

/* Runs one openssl command; its output goes to DIR/openssl.log. */
static int openssl(const char *const argv[]) {
  char log[128];
  path_in_dir(log, sizeof log, "openssl.log");
  int rc = th_run_command(argv, log);
  CHECK_MSG(rc == 0, "openssl %s exited with %d (see %s)", argv[1], rc, log);
  return rc;
}

/* The CA (ca.pem, ca.key) and the server's certificate (server.pem, server.key). */
static int make_certificates(void) {
  char ca_pem[128], ca_key[128], csr[128], ext[128], server_pem[128], server_key[128];
  path_in_dir(ca_pem, sizeof ca_pem, "ca.pem");
  path_in_dir(ca_key, sizeof ca_key, "ca.key");
  path_in_dir(csr, sizeof csr, "server.csr");
  path_in_dir(ext, sizeof ext, "server.ext");
  path_in_dir(server_pem, sizeof server_pem, "server.pem");
  path_in_dir(server_key, sizeof server_key, "server.key");

  const char *ca[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca_pem,
                      "-days", "2", "-subj", "/CN=ycm C test CA", "-config", "/dev/null",
                      "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                      "keyUsage=critical,keyCertSign,cRLSign", NULL};
  const char *request[] = {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:P-256", "-nodes", "-keyout", server_key, "-out",
                           csr, "-subj", "/CN=localhost", "-config", "/dev/null", NULL};
  const char *sign[] = {"openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
                        "-set_serial", "2", "-days", "2", "-extfile", ext, "-out", server_pem,
                        NULL};
  FILE *f = fopen(ext, "w");
  CHECK(f != NULL);
  if (f == NULL) {
    return -1;
  }
  fputs("basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        f);
  fclose(f);
  if (openssl(ca) != 0 || openssl(request) != 0 || openssl(sign) != 0) {
    return -1;
  }
  return 0;
}

/* Starts the HTTPS mock (not --quiet: its request log goes to DIR/mock.log). */
static int start_https_mock(void) {
  char cert[128], key[128], log[128], url[128];
  path_in_dir(cert, sizeof cert, "server.pem");
  path_in_dir(key, sizeof key, "server.key");
  path_in_dir(log, sizeof log, "mock.log");
  const char *argv[] = {mock_bin(), "--addr", "127.0.0.1:0", "--tls-cert", cert,
                        "--tls-key", key, NULL};
  https_pid = th_spawn_server(argv, log, url, sizeof url);
  CHECK_MSG(https_pid > 0, "%s --tls-cert did not start (see %s)", mock_bin(), log);
  if (https_pid <= 0) {
    return -1;
  }
  CHECK_MSG(strncmp(url, "https://127.0.0.1:", 18) == 0, "HTTPS mock at %s", url);
  const char *port = strrchr(url, ':');
  snprintf(https_url, sizeof https_url, "https://localhost%s", port != NULL ? port : ":0");
  return 0;
}

/* API requests in the HTTPS mock's log whose line starts with `request` ("PUT /dm/..."). */
static int logged_requests(const char *request) {
  char log[128];
  path_in_dir(log, sizeof log, "mock.log");
  FILE *f = fopen(log, "r");
  if (f == NULL) {
    return -1;
  }
  int n = 0;
  char line[1024];
  while (fgets(line, sizeof line, f) != NULL) {
    n += strncmp(line, request, strlen(request)) == 0;
  }
  fclose(f);
  return n;
}

static ycm_client *https_client(const char *ca_file) {
  char config[1024];
  if (ca_file != NULL) {
    snprintf(config, sizeof config,
             "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"max_retries\":2,"
             "\"retry_base_ms\":10,\"retry_max_ms\":50,\"timeout_ms\":10000,"
             "\"ca_file\":\"%s\"}",
             https_url, ca_file);
  } else {
    snprintf(config, sizeof config,
             "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"max_retries\":2,"
             "\"retry_base_ms\":10,\"retry_max_ms\":50,\"timeout_ms\":10000}",
             https_url);
  }
  ycm_client *client = NULL;
  CHECK_STATUS_L(config, ycm_client_new_with_config(config, &client), YCM_OK, 0, 0, NULL);
  return client;
}

/* ---------------------------------------------------------------- TLS */

static void test_tls(void) {
  char *made = mkdtemp(strcpy(dir, "/tmp/ycm-c-tls-XXXXXX"));
  CHECK(made != NULL);
  if (made == NULL || make_certificates() != 0 || start_https_mock() != 0) {
    return;
  }
  char ca_pem[128];
  path_in_dir(ca_pem, sizeof ca_pem, "ca.pem");

  /* The private CA is unknown to the built-in roots; a TLS failure is not retried. */
  ycm_client *untrusting = https_client(NULL);
  ycm_status st = ycm_update_user(untrusting, 13329, "{\"company\": \"Untrusted Ltd\"}");
  printf("     no ca_file: %s: %s\n", ycm_code_name(st.code), st.message);
  CHECK_STATUS(st, YCM_ERR_TLS, 0, 1, "TLS");
  CHECK_CONTAINS(st.message, "UnknownIssuer");
  CHECK_CONTAINS(st.message, https_url);
  ycm_client_free(untrusting);

  /* With the CA in ca_file the update lands, and a read comes back over the same client. */
  ycm_client *trusting = https_client(ca_pem);
  st = ycm_update_user(trusting, 13329, "{\"company\": \"Over TLS from C\"}");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(strlen(st.request_id), 32);
  char *json = NULL;
  st = ycm_get_user(trusting, 13329, &json);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_CONTAINS(json, "\"company\":\"Over TLS from C\"");
  ycm_string_free(json);
  ycm_client_free(trusting);

  /* A ca_file that does not exist: refused at construction, nothing sent. */
  char missing[128], config[1024];
  path_in_dir(missing, sizeof missing, "no-such-ca.pem");
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"ca_file\":\"%s\"}", https_url,
           missing);
  ycm_client *refused = SENTINEL;
  st = ycm_client_new_with_config(config, &refused);
  CHECK_STATUS(st, YCM_ERR_INVALID_ARGUMENT, 0, 0, "ca_file");
  CHECK_CONTAINS(st.message, missing);
  CHECK_CONTAINS(st.message, "cannot be read");
  CHECK(refused == SENTINEL);

  /* Stopped gracefully, the mock has written its whole log: exactly the PUT and the GET
   * of the trusting client reached it, nothing from the failed handshake. */
  int stopped = th_stop_server(https_pid);
  CHECK_MSG(stopped == 0, "the HTTPS mock exited with wait status %d", stopped);
  https_pid = -1;
  CHECK_EQ_LL(logged_requests("PUT /dm/open_api/v1/users/13329 200"), 1);
  CHECK_EQ_LL(logged_requests("GET /dm/open_api/v1/users/13329 200"), 1);
  CHECK_EQ_LL(logged_requests("PUT "), 1);
}

static void remove_tls_files(void) {
  if (https_pid > 0) {
    th_stop_server(https_pid);
  }
  if (dir[0] == '\0') {
    return;
  }
  static const char *const names[] = {"ca.pem", "ca.key", "server.csr", "server.ext",
                                      "server.pem", "server.key", "openssl.log", "mock.log"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[128];
    path_in_dir(path, sizeof path, names[i]);
    unlink(path);
  }
  CHECK_MSG(rmdir(dir) == 0, "%s removed", dir);
}

/* ---------------------------------------------------------------- header injection */

static void check_refused_config(const char *config, const char *needle) {
  ycm_client *client = SENTINEL;
  ycm_status st = ycm_client_new_with_config(config, &client);
  CHECK_STATUS_L(config, st, YCM_ERR_INVALID_ARGUMENT, 0, 0, needle);
  CHECK_MSG(strstr(st.message, "X-Evil") == NULL, "[%s] the message repeats the value: %s",
            config, st.message);
  CHECK(client == SENTINEL);
}

static void test_header_injection(void) {
  const char *url = th_mock_url();
  long long requests = th_stat("requests");
  CHECK(requests >= 0);

  /* In the access token (a secret: the message must not repeat it). */
  ycm_client *client = SENTINEL;
  ycm_status st = ycm_client_new(url, "abc\r\nX-Evil: 1", &client);
  CHECK_STATUS(st, YCM_ERR_INVALID_ARGUMENT, 0, 0, "access_token");
  CHECK(strstr(st.message, "X-Evil") == NULL);
  CHECK(client == SENTINEL);
  st = ycm_client_new(url, "abc\nX-Evil: 1", &client);
  CHECK_STATUS(st, YCM_ERR_INVALID_ARGUMENT, 0, 0, "access_token");
  CHECK(client == SENTINEL);

  char config[1024];
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"abc\\r\\nX-Evil: 1\"}", url);
  check_refused_config(config, "access_token");

  /* In the user agent. */
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\","
           "\"user_agent\":\"billing/1\\r\\nX-Evil: 1\"}",
           url);
  check_refused_config(config, "user_agent");
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"user_agent\":\"a\\nX-Evil\"}",
           url);
  check_refused_config(config, "user_agent");
  snprintf(config, sizeof config,
           "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"user_agent\":\"a\\rX-Evil\"}",
           url);
  check_refused_config(config, "user_agent");

  /* Swapping in such a token is refused too, and the client keeps its good one. */
  client = NULL;
  CHECK_STATUS(ycm_client_new(url, TOKEN, &client), YCM_OK, 0, 0, NULL);
  st = ycm_client_set_access_token(client, "abc\r\nX-Evil: 1");
  CHECK_STATUS(st, YCM_ERR_INVALID_ARGUMENT, 0, 0, "access_token");
  CHECK(strstr(st.message, "X-Evil") == NULL);
  CHECK_EQ_LL(th_stat("requests"), requests); /* nothing was sent */
  CHECK_STATUS(ycm_update_user(client, 13329, "{\"remark\": \"after injection\"}"), YCM_OK, 200,
               1, NULL);
  CHECK_EQ_LL(th_stat("requests"), requests + 1);
  ycm_client_free(client);
}

int main(void) {
  printf("ycm C transport-security tests (libycm %s, mock %s)\n", ycm_version(), th_mock_url());
  th_run("TLS with a private CA: without ca_file, with it, a missing one", test_tls);
  th_run("TLS: certificates and the HTTPS mock cleaned up", remove_tls_files);
  th_run("header injection: CR/LF in token or user agent refused", test_header_injection);
  return th_finish();
}
