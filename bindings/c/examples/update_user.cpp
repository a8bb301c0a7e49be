// update_user BASE_URL ACCESS_TOKEN USER_ID COMPANY, with the C++ wrapper (ycm.hpp):
// the same behaviour as update_user.c.
#include "ycm.hpp"

#include <stdexcept>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " BASE_URL ACCESS_TOKEN USER_ID COMPANY\n";
    return 2;
  }
  long long user_id = 0;
  try {
    std::size_t used = 0;
    user_id = std::stoll(argv[3], &used);
    if (argv[3][used] != '\0') throw std::invalid_argument("trailing characters");
  } catch (const std::logic_error&) {
    std::cerr << "USER_ID must be an integer, got \"" << argv[3] << "\"\n";
    return 2;
  }
  // ANCHOR: update
  try {
    ycm::Client client(argv[1], argv[2]);
    ycm_user_fields fields{};
    fields.company = argv[4];
    ycm::Result r = client.update_user(user_id, fields);
    std::cout << "updated user " << user_id << ": requestId=" << r.request_id
              << " time=" << r.time << " (http " << r.http_status << ", " << r.attempts
              << (r.attempts == 1 ? " attempt)\n" : " attempts)\n");
    std::cout << "user " << user_id << " now: " << client.get_user(user_id) << "\n";
  } catch (const ycm::Error& e) {
    std::cerr << e.what() << "\n  http_status=" << e.http_status()
              << " attempts=" << e.attempts() << " api_errcode=" << e.api_errcode()
              << (e.request_id().empty() ? "" : " requestId=") << e.request_id() << "\n";
    return 1;
  }
  // ANCHOR_END: update
  return 0;
}
