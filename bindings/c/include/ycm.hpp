// ycm.hpp: header-only C++17 wrapper of the ycm C API (ycm.h).
//
// RAII and exceptions over the C contract, nothing more: a Client owns its ycm_client*
// (freed by ycm_client_free), owned strings are released by ycm_string_free, and a
// status other than YCM_OK becomes a ycm::Error carrying the whole ycm_status.
//
//   ycm::Client client("https://ycm.yeastar.com", token);
//   ycm::Result r = client.update_user(13329, R"({"company": "New Company Name"})");
//   std::string user = client.get_user(13329);
//
// Thread-safety is the C library's: one Client may be used from any number of threads
// (every method is const except set_access_token, which is thread-safe too); moving or
// destroying a Client must not race with calls on it.
#ifndef YCM_HPP
#define YCM_HPP

// The wrapper is specified and tested as C++17 (the C tests build it with -std=c++17) and
// may use any of it: an older standard is refused here, with the fix, rather than failing
// later in a template error.
#if !defined(__cplusplus) || __cplusplus < 201703L
#error "ycm.hpp needs C++17 or newer (-std=c++17); from C, include ycm.h instead"
#endif

#include "ycm.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace ycm {

// A failed call: the ycm_status of the C call, whole. what() is "NAME: message".
class Error : public std::runtime_error {
 public:
  explicit Error(const ycm_status& status)
      : std::runtime_error(describe(status)), status_(status) {}

  ycm_code code() const noexcept { return status_.code; }
  // "YCM_ERR_API", ... (static string).
  const char* code_name() const noexcept { return ycm_code_name(status_.code); }
  // The library's message, without the code name.
  const char* message() const noexcept { return status_.message; }
  uint16_t http_status() const noexcept { return status_.http_status; }
  uint32_t attempts() const noexcept { return status_.attempts; }
  int64_t api_errcode() const noexcept { return status_.api_errcode; }
  std::string request_id() const { return status_.request_id; }
  int64_t time() const noexcept { return status_.time; }
  const ycm_status& status() const noexcept { return status_; }

 private:
  static std::string describe(const ycm_status& status) {
    std::string text = ycm_code_name(status.code);
    if (status.message[0] != '\0') {
      text += ": ";
      text += status.message;
    }
    return text;
  }

  ycm_status status_;
};

// What a successful call reports.
struct Result {
  std::string request_id;  // the envelope's requestId ("" for offline calls)
  int64_t time = 0;        // the envelope's time, Unix seconds (0 when absent)
  uint16_t http_status = 0;
  uint32_t attempts = 0;   // HTTP requests made, token requests included
};

namespace detail {

inline Result check(const ycm_status& status) {
  if (status.code != YCM_OK) {
    throw Error(status);
  }
  return Result{status.request_id, status.time, status.http_status, status.attempts};
}

// A status made on the C++ side, for input the C API cannot represent.
[[noreturn]] inline void refuse(ycm_code code, const char* argument, const char* why) {
  ycm_status status{};
  status.code = code;
  std::snprintf(status.message, sizeof status.message, "%s %s", argument, why);
  throw Error(status);
}

// std::string may hold a NUL that a C string would silently cut: refuse it instead.
inline const char* c_str(const std::string& text, const char* argument) {
  if (text.find('\0') != std::string::npos) {
    refuse(YCM_ERR_INVALID_ARGUMENT, argument, "contains a NUL byte");
  }
  return text.c_str();
}

struct StringFree {
  void operator()(char* text) const noexcept { ycm_string_free(text); }
};
using OwnedString = std::unique_ptr<char, StringFree>;

struct ClientFree {
  void operator()(ycm_client* client) const noexcept { ycm_client_free(client); }
};

// Runs a call that returns an owned string, and copies the string out.
template <typename Call>
std::string take_string(Call&& call, Result* info) {
  char* raw = nullptr;
  ycm_status status = std::forward<Call>(call)(&raw);
  OwnedString owned(raw);  // owned before anything that may throw
  Result result = check(status);
  if (info != nullptr) {
    *info = std::move(result);
  }
  return owned ? std::string(owned.get()) : std::string();
}

}  // namespace detail

// A YCM client. Move-only; a moved-from Client holds no handle and its calls throw
// ycm::Error with YCM_ERR_NULL_ARGUMENT.
class Client {
 public:
  // A client for base_url that sends access_token as its bearer token (nothing is sent).
  Client(const std::string& base_url, const std::string& access_token) {
    ycm_client* raw = nullptr;
    detail::check(ycm_client_new(detail::c_str(base_url, "base_url"),
                                 detail::c_str(access_token, "access_token"), &raw));
    handle_.reset(raw);
  }

  // A client from a JSON object of options (see ycm_client_new_with_config).
  static Client from_config(const std::string& config_json) {
    ycm_client* raw = nullptr;
    detail::check(ycm_client_new_with_config(detail::c_str(config_json, "config_json"), &raw));
    return Client(raw);
  }

  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() = default;

  // Updates user_id from a JSON object with the YCM field names.
  Result update_user(int64_t user_id, const std::string& body_json) const {
    return detail::check(
        ycm_update_user(handle_.get(), user_id, detail::c_str(body_json, "body_json")));
  }

  // Updates user_id from the fields struct (NULL strings are left unchanged).
  Result update_user(int64_t user_id, const ycm_user_fields& fields) const {
    return detail::check(ycm_update_user_fields(handle_.get(), user_id, &fields));
  }

  // The user's `data` object as JSON. `info`, when given, receives the call's Result.
  std::string get_user(int64_t user_id, Result* info = nullptr) const {
    return detail::take_string(
        [&](char** out) { return ycm_get_user(handle_.get(), user_id, out); }, info);
  }

  // One page of users (`pageSize`, `pageNumber`, `total`, `list`) as JSON.
  std::string list_users(int page_size, int page_number, const char* sort = nullptr,
                          Result* info = nullptr) const {
    return detail::take_string(
        [&](char** out) {
          return ycm_list_users(handle_.get(), page_size, page_number, sort, out);
        },
        info);
  }

  // Replaces the access token (clients built with one only). Thread-safe.
  void set_access_token(const std::string& access_token) {
    detail::check(
        ycm_client_set_access_token(handle_.get(), detail::c_str(access_token, "access_token")));
  }

  // The C handle, still owned by this Client (nullptr after a move).
  ycm_client* get() const noexcept { return handle_.get(); }
  explicit operator bool() const noexcept { return handle_ != nullptr; }

 private:
  explicit Client(ycm_client* raw) noexcept : handle_(raw) {}

  std::unique_ptr<ycm_client, detail::ClientFree> handle_;
};

// Checks an update body offline with the rules of Client::update_user; throws when refused.
inline void validate_user_update(const std::string& body_json) {
  detail::check(ycm_validate_user_update(detail::c_str(body_json, "body_json")));
}

// The JSON body a fields struct makes (checked offline); throws when refused.
inline std::string user_fields_to_json(const ycm_user_fields& fields) {
  return detail::take_string([&](char** out) { return ycm_user_fields_to_json(&fields, out); },
                             nullptr);
}

// The library's version at run time ("MAJOR.MINOR.PATCH").
inline const char* version() noexcept { return ycm_version(); }

}  // namespace ycm

#endif  // YCM_HPP
