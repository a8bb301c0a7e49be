/*
 * Status checks shared by the C test binaries that need ycm.h on top of harness.h: one
 * call checks a ycm_status's code, http_status, attempts and message, and reports
 * file:line of the caller.
 */
#ifndef YCM_TEST_CHECKS_H
#define YCM_TEST_CHECKS_H

#include "harness.h"
#include "ycm.h"

#include <string.h>

/* A pointer the library must leave alone when a call fails. */
static inline void *ycm_checks_sentinel(void) {
  static char storage;
  return &storage;
}
#define SENTINEL (ycm_checks_sentinel())

/* Checks a status: code, http_status (-1: not checked), attempts (-1: not checked) and,
 * when `needle` is not NULL, that the message contains it. A success has an empty
 * message; a failure has a non-empty one; a refusal that sent nothing carries no envelope
 * data. */
static inline void ycm_check_status_at(const char *file, int line, const char *label,
                                       ycm_status st, ycm_code code, int http_status,
                                       long long attempts, const char *needle) {
  th_check(st.code == code, file, line, "code", "[%.120s] got %s (%s), expected %s", label,
           ycm_code_name(st.code), st.message, ycm_code_name(code));
  if (http_status >= 0) {
    th_check(st.http_status == http_status, file, line, "http_status",
             "[%.120s] got %u, expected %d (%s)", label, (unsigned)st.http_status, http_status,
             st.message);
  }
  if (attempts >= 0) {
    th_check(st.attempts == attempts, file, line, "attempts",
             "[%.120s] got %u, expected %lld (%s)", label, (unsigned)st.attempts, attempts,
             st.message);
  }
  if (needle != NULL) {
    th_check(strstr(st.message, needle) != NULL, file, line, "message says why",
             "[%.120s] \"%s\" does not contain \"%s\"", label, st.message, needle);
  }
  if (code == YCM_OK) {
    th_check(st.message[0] == '\0', file, line, "empty message on success", "[%.120s] \"%s\"",
             label, st.message);
  } else {
    th_check(st.message[0] != '\0', file, line, "a failure says why", "[%.120s]", label);
  }
  if (code >= YCM_ERR_NULL_ARGUMENT && code <= YCM_ERR_INVALID_BODY && st.attempts == 0) {
    th_check(st.request_id[0] == '\0' && st.time == 0 && st.api_errcode == 0, file, line,
             "no envelope data on a refusal", "[%.120s]", label);
  }
}

#define CHECK_STATUS(st, code, http, attempts, needle) \
  ycm_check_status_at(__FILE__, __LINE__, #st, (st), (code), (http), (attempts), (needle))
#define CHECK_STATUS_L(label, st, code, http, attempts, needle) \
  ycm_check_status_at(__FILE__, __LINE__, (label), (st), (code), (http), (attempts), (needle))

#endif /* YCM_TEST_CHECKS_H */
