/* The C tests' harness: see harness.h. POSIX sockets only; no test framework. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
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

/* Splits an "http://IPV4:PORT" URL into an address. */
static int url_address(const char *url, struct sockaddr_in *addr) {
  if (url == NULL || strncmp(url, "http://", 7) != 0) {
    return -1;
  }
  const char *hostport = url + 7;
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
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
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

/* One request; returns the whole raw response (malloc'd, NUL-terminated) or NULL. */
static char *http_exchange(const char *base_url, const char *method, const char *path,
                           const char *content_type, const char *body) {
  struct sockaddr_in addr;
  if (url_address(base_url, &addr) != 0) {
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return NULL;
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return NULL;
  }
  size_t content_len = body != NULL ? strlen(body) : 0;
  char head[512];
  int head_len = snprintf(head, sizeof head,
                          "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "User-Agent: ycm-c-tests\r\n"
                          "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                          method, path, content_type != NULL ? content_type : "application/json",
                          content_len);
  if (head_len < 0 || (size_t)head_len >= sizeof head || send_all(fd, head, (size_t)head_len) != 0 ||
      (content_len > 0 && send_all(fd, body, content_len) != 0)) {
    close(fd);
    return NULL;
  }
  /* Read the whole response (the server closes the connection). */
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap + 1);
  if (buf == NULL) {
    close(fd);
    return NULL;
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
  return buf;
}

static int response_status(const char *response) {
  if (strncmp(response, "HTTP/1.1 ", 9) == 0 || strncmp(response, "HTTP/1.0 ", 9) == 0) {
    return (int)strtol(response + 9, NULL, 10);
  }
  return -1;
}

static const char *response_body(const char *response) {
  const char *body = strstr(response, "\r\n\r\n");
  return body != NULL ? body + 4 : "";
}

int th_http_to(const char *base_url, const char *method, const char *path,
               const char *content_type, const char *body, char *body_out, size_t body_len) {
  char *response = http_exchange(base_url, method, path, content_type, body);
  if (response == NULL) {
    return -1;
  }
  int status = response_status(response);
  if (body_out != NULL && body_len > 0) {
    snprintf(body_out, body_len, "%s", response_body(response));
  }
  free(response);
  return status;
}

int th_http(const char *method, const char *path, const char *json_body, char *body_out,
            size_t body_len) {
  return th_http_to(th_mock_url(), method, path, NULL, json_body, body_out, body_len);
}

char *th_http_alloc(const char *method, const char *path, const char *json_body,
                    int *status_out) {
  *status_out = -1;
  char *response = http_exchange(th_mock_url(), method, path, NULL, json_body);
  if (response == NULL) {
    return NULL;
  }
  *status_out = response_status(response);
  const char *body = response_body(response);
  memmove(response, body, strlen(body) + 1);
  return response;
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

/* ---------------------------------------------------------------- time and processes */

double th_now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

#define TH_MAX_CHILDREN 64

/* Servers started by th_spawn_server and not yet stopped, with their stdout pipe. */
static struct {
  pid_t pid;
  int stdout_fd;
} children[TH_MAX_CHILDREN];
static int at_exit_registered;

int th_children_running(void) {
  int n = 0;
  for (int i = 0; i < TH_MAX_CHILDREN; i++) {
    n += children[i].pid > 0;
  }
  return n;
}

/* Safety net for a test that exits early: no server outlives the test. */
static void stop_children_at_exit(void) {
  for (int i = 0; i < TH_MAX_CHILDREN; i++) {
    if (children[i].pid > 0) {
      kill(children[i].pid, SIGKILL);
      waitpid(children[i].pid, NULL, 0);
      close(children[i].stdout_fd);
      children[i].pid = 0;
    }
  }
}

/* The child's side of a fork: only async-signal-safe calls until exec. */
static void exec_child(pid_t parent, const char *const argv[], int in_fd, int out_fd,
                       int err_fd, int search_path) {
  /* Die with the test (a crashed or killed test leaves no orphan behind). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
    _exit(127);
  }
  if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
      dup2(err_fd, STDERR_FILENO) < 0) {
    _exit(127);
  }
  if (search_path) {
    execvp(argv[0], (char *const *)argv);
  } else {
    execv(argv[0], (char *const *)argv);
  }
  _exit(127);
}

static int open_output(const char *path) {
  return path != NULL ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
                      : open("/dev/null", O_WRONLY | O_CLOEXEC);
}

pid_t th_spawn_server(const char *const argv[], const char *stderr_path, char *url_out,
                      size_t url_len) {
  int slot = -1;
  for (int i = 0; i < TH_MAX_CHILDREN && slot < 0; i++) {
    if (children[i].pid == 0) {
      slot = i;
    }
  }
  if (slot < 0) {
    fprintf(stderr, "th_spawn_server: too many children\n");
    return -1;
  }
  if (!at_exit_registered) {
    atexit(stop_children_at_exit);
    at_exit_registered = 1;
  }
  int out[2];
  int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_fd = open_output(stderr_path);
  if (in_fd < 0 || err_fd < 0 || pipe(out) != 0 || fcntl(out[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(out[1], F_SETFD, FD_CLOEXEC) != 0) {
    fprintf(stderr, "th_spawn_server: %s\n", strerror(errno));
    if (in_fd >= 0) {
      close(in_fd);
    }
    if (err_fd >= 0) {
      close(err_fd);
    }
    return -1;
  }
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    exec_child(parent, argv, in_fd, out[1], err_fd, 0);
  }
  close(in_fd);
  close(err_fd);
  close(out[1]);
  if (pid < 0) {
    fprintf(stderr, "th_spawn_server: fork: %s\n", strerror(errno));
    close(out[0]);
    return -1;
  }
  children[slot].pid = pid;
  children[slot].stdout_fd = out[0];

  /* The first stdout line, within 10 s. */
  char line[512];
  size_t len = 0;
  double deadline = th_now_ms() + 10000.0;
  int done = 0;
  while (!done && len + 1 < sizeof line) {
    double left = deadline - th_now_ms();
    if (left <= 0) {
      break;
    }
    struct pollfd pfd = {out[0], POLLIN, 0};
    int ready = poll(&pfd, 1, (int)left + 1);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      break;
    }
    ssize_t n = read(out[0], line + len, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; /* the child exited */
    }
    if (line[len] == '\n') {
      done = 1;
    } else {
      len++;
    }
  }
  line[len] = '\0';
  const char *marker = " listening on ";
  const char *at = done ? strstr(line, marker) : NULL;
  if (at == NULL) {
    fprintf(stderr, "th_spawn_server: %s printed no URL within 10 s (got \"%s\")\n", argv[0],
            line);
    th_stop_server(pid);
    return -1;
  }
  snprintf(url_out, url_len, "%s", at + strlen(marker));
  return pid;
}

int th_stop_server(pid_t pid) {
  int slot = -1;
  for (int i = 0; i < TH_MAX_CHILDREN; i++) {
    if (pid > 0 && children[i].pid == pid) {
      slot = i;
    }
  }
  if (slot < 0) {
    return -1;
  }
  int status = -1;
  kill(pid, SIGTERM);
  pid_t reaped = 0;
  for (int waited = 0; waited < 3000 && reaped == 0; waited += 10) {
    reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == 0) {
      sleep_ms(10);
    }
  }
  if (reaped == 0) {
    kill(pid, SIGKILL);
    reaped = waitpid(pid, &status, 0);
  }
  close(children[slot].stdout_fd);
  children[slot].pid = 0;
  return reaped == pid ? status : -1;
}

int th_run_command(const char *const argv[], const char *log_path) {
  int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int log_fd = open_output(log_path);
  if (in_fd < 0 || log_fd < 0) {
    if (in_fd >= 0) {
      close(in_fd);
    }
    if (log_fd >= 0) {
      close(log_fd);
    }
    return -1;
  }
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    exec_child(parent, argv, in_fd, log_fd, log_fd, 1);
  }
  close(in_fd);
  close(log_fd);
  if (pid < 0) {
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
