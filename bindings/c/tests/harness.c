/* The C tests' harness: see harness.h. POSIX sockets only; no test framework. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int checks_run;
static int checks_failed;
static int cases_passed;
static int cases_failed;
static const char *current_case = "(none)";

void th_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
  checks_run++;
  if (ok) {
    return;
  }
  checks_failed++;
  fprintf(stderr, "FAIL [%s] %s:%d: %s", current_case, file, line, expr);
  if (fmt != NULL && fmt[0] != '\0') {
    va_list args;
    va_start(args, fmt);
    char detail[2048];
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    if (detail[0] != '\0') {
      fprintf(stderr, ": %s", detail);
    }
  }
  fputc('\n', stderr);
}

void th_run(const char *name, void (*test)(void)) {
  int failed_before = checks_failed;
  current_case = name;
  test();
  if (checks_failed == failed_before) {
    cases_passed++;
    printf("ok   %s\n", name);
  } else {
    cases_failed++;
    printf("FAIL %s\n", name);
  }
  fflush(stdout);
  current_case = "(none)";
}

int th_finish(void) {
  printf("%d checks, %d failed\n", checks_run, checks_failed);
  printf("%d passed, %d failed\n", cases_passed, cases_failed);
  fflush(stdout);
  return cases_failed == 0 && cases_passed > 0 ? 0 : 1;
}

const char *th_mock_url(void) {
  const char *url = getenv("YCM_MOCK_URL");
  if (url == NULL || strncmp(url, "http://", 7) != 0) {
    fprintf(stderr, "YCM_MOCK_URL must be set to the mock's http:// URL (run via tests/run.sh)\n");
    exit(2);
  }
  return url;
}

/* Splits YCM_MOCK_URL into an IPv4 address and a port. */
static int mock_address(struct sockaddr_in *addr) {
  const char *hostport = th_mock_url() + 7;
  const char *colon = strrchr(hostport, ':');
  if (colon == NULL) {
    return -1;
  }
  char host[64];
  size_t host_len = (size_t)(colon - hostport);
  if (host_len == 0 || host_len >= sizeof host) {
    return -1;
  }
  memcpy(host, hostport, host_len);
  host[host_len] = '\0';
  long port = strtol(colon + 1, NULL, 10);
  if (port <= 0 || port > 65535) {
    return -1;
  }
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

static int send_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int th_http(const char *method, const char *path, const char *json_body, char *body_out,
            size_t body_len) {
  struct sockaddr_in addr;
  if (mock_address(&addr) != 0) {
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  size_t content_len = json_body != NULL ? strlen(json_body) : 0;
  char head[512];
  int head_len = snprintf(head, sizeof head,
                          "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                          method, path, content_len);
  if (head_len < 0 || (size_t)head_len >= sizeof head || send_all(fd, head, (size_t)head_len) != 0 ||
      (content_len > 0 && send_all(fd, json_body, content_len) != 0)) {
    close(fd);
    return -1;
  }
  /* Read the whole response (the server closes the connection). */
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap + 1);
  if (buf == NULL) {
    close(fd);
    return -1;
  }
  for (;;) {
    if (len == cap) {
      char *bigger = realloc(buf, cap * 2 + 1);
      if (bigger == NULL) {
        break;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = recv(fd, buf + len, cap - len, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  int status = -1;
  if (strncmp(buf, "HTTP/1.1 ", 9) == 0 || strncmp(buf, "HTTP/1.0 ", 9) == 0) {
    status = (int)strtol(buf + 9, NULL, 10);
  }
  if (body_out != NULL && body_len > 0) {
    const char *body = strstr(buf, "\r\n\r\n");
    body = body != NULL ? body + 4 : "";
    snprintf(body_out, body_len, "%s", body);
  }
  free(buf);
  return status;
}

long long th_stat(const char *name) {
  char body[4096];
  if (th_http("GET", "/__mock/stats", NULL, body, sizeof body) != 200) {
    return -1;
  }
  char key[128];
  snprintf(key, sizeof key, "\"%s\":", name);
  const char *at = strstr(body, key);
  if (at == NULL) {
    return -1;
  }
  return strtoll(at + strlen(key), NULL, 10);
}

int th_closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t addr_len = sizeof addr;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
      getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}
