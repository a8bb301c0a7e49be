/*
 * The C tests' tiny harness: test cases with checks that report file:line and carry on,
 * a final "N passed, M failed" line, a minimal HTTP/1.1 client over POSIX sockets for the
 * ycm-mock admin interface (/__mock/stats, /__mock/log, /__mock/users/{id},
 * /__mock/faults, ...), and child processes for servers a test starts itself
 * (ycm-fault-server, an HTTPS ycm-mock) or tools it runs (openssl).
 * The library under test is never used to talk to the admin interface.
 */
#ifndef YCM_TEST_HARNESS_H
#define YCM_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Records one check; prints the failure (with the formatted detail) when !ok. */
void th_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Runs one test case: it passes when none of its checks failed. */
void th_run(const char *name, void (*test)(void));

/* Prints the check count, then "N passed, M failed"; returns the process exit code. */
int th_finish(void);

/* The mock's base URL from YCM_MOCK_URL ("http://127.0.0.1:PORT"); exits when unset. */
const char *th_mock_url(void);

/* One HTTP request to the mock (Connection: close). Returns the HTTP status, or -1 on a
 * socket error. The response body (NUL-terminated, cut to fit) goes to body_out if given. */
int th_http(const char *method, const char *path, const char *json_body, char *body_out,
            size_t body_len);

/* Like th_http, to the server at base_url ("http://IPV4:PORT"), with this Content-Type
 * (NULL: application/json). */
int th_http_to(const char *base_url, const char *method, const char *path,
               const char *content_type, const char *body, char *body_out, size_t body_len);

/* Like th_http, returning the whole response body (malloc'd, NUL-terminated, to free()),
 * or NULL on a socket error; *status_out gets the HTTP status (-1 on error). */
char *th_http_alloc(const char *method, const char *path, const char *json_body,
                    int *status_out);

/* A counter of GET /__mock/stats ("requests", "update_user", ...); -1 when unavailable. */
long long th_stat(const char *name);

/* A TCP port on 127.0.0.1 that was free a moment ago and has nothing listening. */
int th_closed_port(void);

/* Milliseconds on CLOCK_MONOTONIC. */
double th_now_ms(void);

/* Starts argv[0] (a path; argv NULL-terminated) as a child process, with stdin from
 * /dev/null, stderr to stderr_path (NULL: /dev/null), and waits up to 10 s for the first
 * stdout line, which must contain " listening on "; the URL after it goes to url_out.
 * The child gets SIGKILL if this process dies first (PR_SET_PDEATHSIG), so no orphan
 * outlives a crashed test. Returns the child's pid, or -1 (after stopping it) on failure. */
pid_t th_spawn_server(const char *const argv[], const char *stderr_path, char *url_out,
                      size_t url_len);

/* Stops a child started by th_spawn_server: SIGTERM, up to 3 s to exit, then SIGKILL,
 * and reaps it (no zombie). Returns its wait status, or -1 when it was not our child. */
int th_stop_server(pid_t pid);

/* Runs argv (argv[0] looked up in PATH) to completion, stdout and stderr appended to
 * log_path (NULL: /dev/null); returns the exit status, or -1 when it could not run. */
int th_run_command(const char *const argv[], const char *log_path);

/* Children started by th_spawn_server and not yet stopped. */
int th_children_running(void);

/* Convenience checks. Each argument is evaluated once, into a local: in C++ pass a named
 * std::string's c_str(), never a temporary's (it would dangle). */
#define CHECK(cond) th_check(!!(cond), __FILE__, __LINE__, #cond, "%s", "")
#define CHECK_MSG(cond, ...) th_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_EQ_LL(a, b)                                                                  \
  do {                                                                                     \
    long long th_a_ = (long long)(a), th_b_ = (long long)(b);                              \
    th_check(th_a_ == th_b_, __FILE__, __LINE__, #a " == " #b, "got %lld, expected %lld", \
             th_a_, th_b_);                                                                \
  } while (0)
#define CHECK_CONTAINS(haystack, needle)                                                    \
  do {                                                                                      \
    const char *th_h_ = (haystack), *th_n_ = (needle);                                      \
    th_check(th_h_ != NULL && strstr(th_h_, th_n_) != NULL, __FILE__, __LINE__,             \
             #haystack " contains " #needle, "\"%s\" does not contain \"%s\"",             \
             th_h_ ? th_h_ : "(null)", th_n_);                                              \
  } while (0)
#define CHECK_STREQ(a, b)                                                                    \
  do {                                                                                       \
    const char *th_a_ = (a), *th_b_ = (b);                                                   \
    th_check(th_a_ != NULL && th_b_ != NULL && strcmp(th_a_, th_b_) == 0, __FILE__, __LINE__, \
             #a " == " #b, "\"%s\" != \"%s\"", th_a_ ? th_a_ : "(null)",                   \
             th_b_ ? th_b_ : "(null)");                                                      \
  } while (0)

#ifdef __cplusplus
}
#endif

#endif /* YCM_TEST_HARNESS_H */
