/*
 * Proxies from C: the "proxy" key of config_json and the errors it maps to, through
 * Debian's tinyproxy, started here on a free loopback port with a generated configuration
 * (in the foreground, Basic credentials, files in a temporary directory) in front of the
 * plain ycm-mock of run.sh. With the credentials (percent-encoded in the URL) the update
 * lands through the proxy; without them it is YCM_ERR_HTTP with http_status 407 after one
 * attempt; a proxy port that refuses is YCM_ERR_CONNECT; a socks URL is refused when the
 * client is built, naming the key; "" goes direct. No message holds the password. When
 * tinyproxy is not installed the test says so loudly and passes, unless CI is set. The
 * CONNECT tunnel, NO_PROXY and the environment are covered by tests/proxy*.rs.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "harness.h"
#include "ycm_checks.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN "ycm-mock-token"
#define PASSWORD "pass-word_9"
#define PASSWORD_ENCODED "pass%2Dword_9"

static char dir[64];
static int proxy_port;
static pid_t proxy_pid = -1;

static int can_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return 0;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
  close(fd);
  return ok;
}

/* Starts tinyproxy in the foreground on a free port; 0 on success. */
static int start_tinyproxy(void) {
  char conf[128];
  snprintf(conf, sizeof conf, "%s/tinyproxy.conf", dir);
  for (int tries = 0; tries < 5; tries++) {
    proxy_port = th_closed_port();
    FILE *f = fopen(conf, "w");
    if (f == NULL) {
      return -1;
    }
    fprintf(f,
            "Port %d\nListen 127.0.0.1\nTimeout 10\nAllow 127.0.0.1\nLogFile \"%s/log\"\n"
            "PidFile \"%s/pid\"\nLogLevel Info\nDisableViaHeader Yes\n"
            "BasicAuth proxyuser " PASSWORD "\n",
            proxy_port, dir, dir);
    fclose(f);
    pid_t parent = getpid();
    proxy_pid = fork();
    if (proxy_pid < 0) {
      return -1;
    }
    if (proxy_pid == 0) {
      int null = open("/dev/null", O_RDWR);
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent || null < 0) {
        _exit(127);
      }
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      execlp("tinyproxy", "tinyproxy", "-d", "-c", conf, (char *)NULL);
      _exit(127);
    }
    for (double deadline = th_now_ms() + 10000; th_now_ms() < deadline;) {
      if (can_connect(proxy_port)) {
        return 0;
      }
      if (waitpid(proxy_pid, NULL, WNOHANG) == proxy_pid) {
        proxy_pid = -1;
        break;
      }
      usleep(20000);
    }
    if (proxy_pid > 0) {
      kill(proxy_pid, SIGKILL);
      waitpid(proxy_pid, NULL, 0);
      proxy_pid = -1;
    }
  }
  return -1;
}

/* Builds a client of the mock through `proxy` (NULL: no "proxy" key). */
static ycm_status client_via(const char *proxy, ycm_client **out) {
  char config[512];
  if (proxy == NULL) {
    snprintf(config, sizeof config, "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\"}",
             th_mock_url());
  } else {
    snprintf(config, sizeof config,
             "{\"base_url\":\"%s\",\"access_token\":\"" TOKEN "\",\"proxy\":\"%s\","
             "\"retry_base_ms\":1,\"retry_max_ms\":5}",
             th_mock_url(), proxy);
  }
  return ycm_client_new_with_config(config, out);
}

static void check_no_password(const ycm_status *st) {
  CHECK_MSG(strstr(st->message, PASSWORD) == NULL && strstr(st->message, PASSWORD_ENCODED) == NULL,
            "a password in \"%s\"", st->message);
}

/* One update through `proxy`; the status it ended with. */
static ycm_status update_via(const char *proxy) {
  ycm_client *client = NULL;
  ycm_status st = client_via(proxy, &client);
  CHECK_STATUS_L(proxy, st, YCM_OK, 0, 0, NULL);
  st = ycm_update_user(client, 13329, "{\"company\":\"Via C Proxy\"}");
  ycm_client_free(client);
  return st;
}

static void test_credentials_from_the_url_get_through(void) {
  char proxy[128];
  snprintf(proxy, sizeof proxy, "http://proxyuser:%s@127.0.0.1:%d", PASSWORD_ENCODED, proxy_port);
  long long before = th_stat("update_user");
  ycm_status st = update_via(proxy);
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
  CHECK_EQ_LL(th_stat("update_user"), before + 1);
}

static void test_without_credentials_a_407_is_an_http_error(void) {
  char proxy[64], address[64];
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", proxy_port);
  snprintf(address, sizeof address, "proxy 127.0.0.1:%d", proxy_port);
  long long before = th_stat("update_user");
  ycm_status st = update_via(proxy);
  CHECK_STATUS(st, YCM_ERR_HTTP, 407, 1, "407 Proxy Authentication Required");
  CHECK_CONTAINS(st.message, address);
  CHECK_EQ_LL(th_stat("update_user"), before);
}

static void test_a_refused_proxy_port_is_a_connect_error(void) {
  char proxy[128], expected[128];
  int port = th_closed_port();
  snprintf(proxy, sizeof proxy, "http://proxyuser:%s@127.0.0.1:%d", PASSWORD_ENCODED, port);
  snprintf(expected, sizeof expected,
           "could not connect to the proxy 127.0.0.1:%d (from config key \"proxy\")", port);
  ycm_status st = update_via(proxy);
  CHECK_STATUS(st, YCM_ERR_CONNECT, 0, 3, expected);
  check_no_password(&st);
}

static void test_a_socks_proxy_is_refused_naming_the_key(void) {
  ycm_client *client = (ycm_client *)SENTINEL;
  ycm_status st = client_via("socks5://proxyuser:" PASSWORD "@127.0.0.1:1080", &client);
  CHECK_STATUS(st, YCM_ERR_INVALID_ARGUMENT, 0, 0, "config key \"proxy\"");
  CHECK_CONTAINS(st.message, "unsupported proxy scheme \"socks5\"");
  CHECK(client == (ycm_client *)SENTINEL);
  check_no_password(&st);
  st = update_via("");
  CHECK_STATUS(st, YCM_OK, 200, 1, NULL);
}

int main(void) {
  const char *const probe[] = {"tinyproxy", "-v", NULL};
  if (th_run_command(probe, NULL) != 0) {
    const char *ci = getenv("CI");
    if (ci != NULL && ci[0] != '\0') {
      fprintf(stderr, "test_proxy: tinyproxy is not installed, and CI is set\n");
      return 1;
    }
    fprintf(stderr, "\n*** SKIPPED: test_proxy needs tinyproxy (apt-get install tinyproxy) ***\n\n");
    return 0;
  }
  snprintf(dir, sizeof dir, "/tmp/ycm-c-proxy-XXXXXX");
  if (mkdtemp(dir) == NULL || start_tinyproxy() != 0) {
    fprintf(stderr, "test_proxy: tinyproxy did not start\n");
    return 1;
  }
  th_run("credentials from the URL get through", test_credentials_from_the_url_get_through);
  th_run("without credentials a 407 is an HTTP error",
         test_without_credentials_a_407_is_an_http_error);
  th_run("a refused proxy port is a connect error", test_a_refused_proxy_port_is_a_connect_error);
  th_run("a socks proxy is refused naming the key", test_a_socks_proxy_is_refused_naming_the_key);
  kill(proxy_pid, SIGTERM);
  waitpid(proxy_pid, NULL, 0);
  const char *const cleanup[] = {"rm", "-rf", dir, NULL};
  th_run_command(cleanup, NULL);
  return th_finish();
}
