// C++ tests of ycm.hpp against a running ycm-mock (YCM_MOCK_URL, set by tests/run.sh):
// results, exceptions carrying the whole status, RAII and move semantics.
#include "harness.h"
#include "ycm.hpp"

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

static_assert(!std::is_copy_constructible_v<ycm::Client>, "Client is move-only");
static_assert(!std::is_copy_assignable_v<ycm::Client>, "Client is move-only");
static_assert(std::is_nothrow_move_constructible_v<ycm::Client>, "moves do not throw");
static_assert(std::is_nothrow_move_assignable_v<ycm::Client>, "moves do not throw");
static_assert(std::is_base_of_v<std::runtime_error, ycm::Error>, "Error is a runtime_error");

namespace {

const char* const kToken = "ycm-mock-token";

std::string config(const std::string& extra) {
  return std::string("{\"base_url\":\"") + th_mock_url() + "\"," + extra + "}";
}

void test_success() {
  ycm::Client client(th_mock_url(), kToken);
  CHECK(static_cast<bool>(client));
  ycm::Result r = client.update_user(13329, R"({"company": "New Company Name"})");
  CHECK_EQ_LL(r.http_status, 200);
  CHECK_EQ_LL(r.attempts, 1);
  CHECK_EQ_LL(r.request_id.size(), 32);
  CHECK(r.time > 1600000000);

  ycm_user_fields fields{};
  fields.remark = "from C++";
  r = client.update_user(13329, fields);
  CHECK_EQ_LL(r.http_status, 200);

  ycm::Result info;
  std::string user = client.get_user(13329, &info);
  CHECK_CONTAINS(user.c_str(), "\"company\":\"New Company Name\"");
  CHECK_CONTAINS(user.c_str(), "\"remark\":\"from C++\"");
  CHECK_EQ_LL(info.attempts, 1);
  CHECK_EQ_LL(info.request_id.size(), 32);

  std::string page = client.list_users(5, 1, "userId");
  CHECK_CONTAINS(page.c_str(), "\"pageSize\":5");
  CHECK_CONTAINS(page.c_str(), "\"total\":120");

  ycm::validate_user_update(R"({"pbxCreationLimit": ""})");
  ycm_user_fields limit{};
  limit.pbx_limit_mode = YCM_PBX_LIMIT_AT_MOST;
  limit.pbx_limit = 3;
  std::string limit_json = ycm::user_fields_to_json(limit);
  CHECK_STREQ(limit_json.c_str(), "{\"pbxCreationLimit\":3}");
  CHECK_STREQ(ycm::version(), YCM_VERSION_STRING);

  ycm::Client from_config =
      ycm::Client::from_config(config(R"("client_id":"ycm-mock-client","client_secret":"ycm-mock-secret")"));
  r = from_config.update_user(13330, R"({"lastName": "Config"})");
  CHECK_EQ_LL(r.attempts, 2);  // token request + PUT
}

void test_api_error_carries_the_status() {
  ycm::Client client(th_mock_url(), kToken);
  bool thrown = false;
  try {
    client.update_user(99999999, R"({"company": "Nobody"})");
  } catch (const ycm::Error& e) {
    thrown = true;
    CHECK_EQ_LL(e.code(), YCM_ERR_API);
    CHECK_STREQ(e.code_name(), "YCM_ERR_API");
    CHECK_EQ_LL(e.http_status(), 200);
    CHECK_EQ_LL(e.attempts(), 1);
    CHECK_EQ_LL(e.api_errcode(), 20001);
    CHECK_EQ_LL(e.request_id().size(), 32);
    CHECK(e.time() > 1600000000);
    CHECK(std::strncmp(e.what(), "YCM_ERR_API: ", 13) == 0);
    CHECK_CONTAINS(e.what(), e.message());
  }
  CHECK(thrown);
}

template <typename F>
ycm::Error expect_error(F&& f) {
  try {
    f();
  } catch (const ycm::Error& e) {
    return e;
  }
  ycm_status none{};
  none.code = YCM_OK;
  std::strcpy(none.message, "no exception");
  return ycm::Error(none);
}

void test_refusals_throw() {
  ycm::Client client(th_mock_url(), kToken);
  long long requests = th_stat("requests");
  ycm::Error e = expect_error([&] { client.update_user(13329, R"({"compnay": "x"})"); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_BODY);
  CHECK_EQ_LL(e.attempts(), 0);
  CHECK_EQ_LL(e.http_status(), 0);
  CHECK_CONTAINS(e.message(), "\"compnay\"");

  e = expect_error([] { ycm::validate_user_update(R"({"pbxCreationLimit": 0})"); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_BODY);
  CHECK_CONTAINS(e.message(), "pbxCreationLimit");

  e = expect_error([&] { client.list_users(51, 1); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(e.message(), "page_size");

  e = expect_error([] { ycm::Client c("http://ycm.example.com", "t"); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(e.message(), "base_url");

  e = expect_error([] { ycm::Client::from_config("{\"nope\": 1}"); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(e.message(), "\"nope\"");

  // A NUL inside a std::string would silently cut the C string: refused before the call.
  e = expect_error([&] { client.update_user(13329, std::string("{\"company\":\"a\0b\"}", 18)); });
  CHECK_EQ_LL(e.code(), YCM_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(e.message(), "body_json");
  CHECK_EQ_LL(th_stat("requests"), requests);

  ycm::Client bad(th_mock_url(), "wrong-token");
  e = expect_error([&] { bad.get_user(13329); });
  CHECK_EQ_LL(e.code(), YCM_ERR_UNAUTHORIZED);
  CHECK_EQ_LL(e.http_status(), 401);
  CHECK_EQ_LL(e.attempts(), 1);
  bad.set_access_token(kToken);
  std::string user = bad.get_user(13329);
  CHECK_CONTAINS(user.c_str(), "\"userId\":13329");
}

void test_move_semantics() {
  ycm::Client a(th_mock_url(), kToken);
  ycm_client* raw = a.get();
  ycm::Client b(std::move(a));
  CHECK(b.get() == raw);
  CHECK(a.get() == nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(!a);
  CHECK_EQ_LL(b.update_user(13329, R"({"remark": "moved"})").http_status, 200);

  // A moved-from Client throws instead of crashing.
  ycm::Error e = expect_error([&] { a.update_user(13329, R"({"remark": "x"})"); });
  CHECK_EQ_LL(e.code(), YCM_ERR_NULL_ARGUMENT);
  CHECK_CONTAINS(e.message(), "client");

  // Move assignment frees the target's old handle (valgrind/ASan would flag a leak).
  ycm::Client c(th_mock_url(), kToken);
  c = std::move(b);
  CHECK(c.get() == raw);
  CHECK(!b);  // NOLINT(bugprone-use-after-move)
  CHECK_EQ_LL(c.update_user(13329, R"({"remark": "move-assigned"})").attempts, 1);
  a = std::move(c);
  CHECK(a.get() == raw);
}

}  // namespace

int main() {
  th_run("C++: success", test_success);
  th_run("C++: API error carries the status", test_api_error_carries_the_status);
  th_run("C++: refusals throw", test_refusals_throw);
  th_run("C++: move semantics", test_move_semantics);
  return th_finish();
}
