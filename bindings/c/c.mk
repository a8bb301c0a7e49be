# The C layer's rules, included by the top Makefile (paths relative to the repo root; CARGO,
# RELEASE, LIB_SO, LIB_A, MOCK_BIN and HEADER come from there).
#
#   make c-build          make release (ycm-mock, libycm.so, libycm.a), then the examples and tests
#                         into bindings/c/build/ (linked against the release libycm.so)
#   make c-test           c-test-asan + c-test-valgrind
#   make c-test-asan      tests built with -fsanitize=address,undefined, static libycm.a
#   make c-test-valgrind  plain tests under valgrind, release libycm.so
#
# The test binaries (bindings/c/tests/): test_ycm and test_ycm_hpp (the API, C and C++),
# test_auth (tokens: expiry, renewal, revocation, herd, paging), test_faults (the fault
# matrix against ycm-fault-server), test_tls (a private CA made with openssl, an HTTPS
# ycm-mock; header injection), test_secrets (no secret in any message or log),
# test_service (fork, free during calls, cancellation, the log callback), test_sync
# (bulk sync: plan and apply, events, abort, a SIGKILLed run resumed from its journal, a
# 429 storm, refused credentials) and test_proxy (the "proxy" key through a tinyproxy it
# starts: credentials, 407, a refused proxy, a socks URL). Each runs through tests/run.sh against a fresh
# ycm-mock; C_MOCK_ARGS_<test> gives a test a mock of its own kind. Servers a test
# starts itself (fault servers, the HTTPS mock, openssl) run natively: valgrind is never
# given --trace-children.
#
# Why ASan links libycm.a and valgrind libycm.so: ASan/UBSan instrument only the C and C++
# code (the Rust side is not rebuilt with sanitizers), but the ASan runtime intercepts
# malloc/free process-wide, so heap errors and leaks (LeakSanitizer) cover Rust's
# allocations in either case. Linking the archive keeps the sanitized binaries
# self-contained (no rpath, no interposition order to get right) and exercises the static
# library and its private link flags (-lpthread -ldl -lm); valgrind, which needs no
# instrumentation, then covers the shared library that C programs, Python and the demo load.

C_DIR       := bindings/c
C_BUILD     := $(C_DIR)/build
C_ASAN      := $(C_BUILD)/asan
C_TESTS_DIR := $(C_DIR)/tests

C_WARN      := -Wall -Wextra -Wpedantic -Werror
C_CFLAGS    := -std=c11 $(C_WARN) -g -O1 -Iinclude -I$(C_DIR)/include -I$(C_TESTS_DIR)
C_CXXFLAGS  := -std=c++17 $(C_WARN) -g -O1 -Iinclude -I$(C_DIR)/include -I$(C_TESTS_DIR)
C_SANITIZE  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
C_LINK_SO   := -L$(RELEASE) -lycm -Wl,-rpath,$(RELEASE) -lpthread
# What the plain binaries load at run time: libycm.so's SONAME, found through the rpath
# (make release builds the library under its plain name only).
C_SONAME_LINK := $(RELEASE)/$(SONAME)
C_LINK_A    := $(LIB_A) -lpthread -ldl -lm

# The suppressions cover two false positives of ring's assembly in the TLS stack only
# (see the file); valgrind does not follow the servers a test starts (no --trace-children).
C_VALGRIND  := valgrind --quiet --error-exitcode=1 --leak-check=full \
               --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
               --suppressions=$(C_TESTS_DIR)/valgrind.supp
C_RUN       := YCM_MOCK_BIN=$(MOCK_BIN) YCM_FAULT_SERVER_BIN=$(RELEASE)/ycm-fault-server \
               $(C_TESTS_DIR)/run.sh

C_HARNESS   := $(C_TESTS_DIR)/harness.c $(C_TESTS_DIR)/harness.h
C_DEPS      := $(HEADER) $(C_DIR)/include/ycm.hpp $(C_TESTS_DIR)/harness.h \
               $(C_TESTS_DIR)/ycm_checks.h

C_TESTS      := test_ycm test_ycm_hpp test_auth test_faults test_tls test_secrets test_service \
                test_sync test_proxy
C_PLAIN_BINS := $(C_BUILD)/update_user $(C_BUILD)/update_user_cpp $(C_TESTS:%=$(C_BUILD)/%)
C_ASAN_BINS  := $(C_TESTS:%=$(C_ASAN)/%)

# The mock each test gets from run.sh (YCM_MOCK_ARGS); none: the defaults. test_secrets
# reads its token and secret back from these arguments.
C_MOCK_ARGS_test_auth    := --no-static-token --token-ttl 2
# Tests that also get a redis-server from run.sh (YCM_REDIS=1).
C_REDIS_test_auth        := 1
C_MOCK_ARGS_test_secrets := --access-token StaticTokenC-2a9e61d0f3 \
                            --client-secret ClientSecretC-7b35c08e14 --token-ttl 1

# One shell line per test: "-- NAME", then the test on its own mock; the recipe fails at
# the end if any test failed. $(1): the directory of the binaries, $(2): a command prefix.
c_run_all = status=0; $(foreach t,$(C_TESTS),echo "-- $(if $(2),valgrind )$(1)/$(t)"; \
	YCM_MOCK_ARGS='$(strip $(C_MOCK_ARGS_$(t)))' YCM_REDIS='$(C_REDIS_$(t))' \
	$(C_RUN) $(2) $(1)/$(t) || status=1;) \
	exit $$status

.PHONY: c-build c-bins c-asan-bins c-test c-test-asan c-test-valgrind c-clean c-tools

# cargo decides what is stale in Rust; make then relinks what depends on the libraries.
c-build: release
	@$(MAKE) --no-print-directory c-bins

c-bins: $(C_PLAIN_BINS) $(C_SONAME_LINK)

$(C_SONAME_LINK): $(LIB_SO)
	ln -sfn $(notdir $(LIB_SO)) $@

c-asan-bins: $(C_ASAN_BINS)

c-test: c-test-asan c-test-valgrind

# test_tls makes its certificates with the openssl command-line tool.
c-tools:
	@command -v openssl >/dev/null 2>&1 || { \
	  echo "installing openssl (test_tls makes its certificates with it)"; \
	  apt-get install -y -qq openssl >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq openssl; }; }

c-test-asan: c-build c-tools
	@$(MAKE) --no-print-directory c-asan-bins
	@echo "== C and C++ tests, ASan+UBSan, static libycm.a"
	@export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; $(call c_run_all,$(C_ASAN),)

c-test-valgrind: c-build c-tools
	@echo "== C and C++ tests under valgrind, release libycm.so"
	@$(call c_run_all,$(C_BUILD),$(C_VALGRIND))

c-clean:
	rm -rf $(C_BUILD)

# --- plain builds, against the release libycm.so ------------------------------------------

$(C_BUILD)/update_user: $(C_DIR)/examples/update_user.c $(C_DEPS) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) $< $(C_LINK_SO) -o $@

$(C_BUILD)/update_user_cpp: $(C_DIR)/examples/update_user.cpp $(C_DEPS) $(LIB_SO)
	@mkdir -p $(@D)
	$(CXX) $(C_CXXFLAGS) $< $(C_LINK_SO) -o $@

$(C_BUILD)/harness.o: $(C_HARNESS)
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) -c $< -o $@

$(C_BUILD)/test_%: $(C_TESTS_DIR)/test_%.c $(C_BUILD)/harness.o $(C_DEPS) $(LIB_SO)
	$(CC) $(C_CFLAGS) $< $(C_BUILD)/harness.o $(C_LINK_SO) -o $@

$(C_BUILD)/test_ycm_hpp: $(C_TESTS_DIR)/test_ycm_hpp.cpp $(C_BUILD)/harness.o $(C_DEPS) $(LIB_SO)
	$(CXX) $(C_CXXFLAGS) $< $(C_BUILD)/harness.o $(C_LINK_SO) -o $@

# --- ASan + UBSan builds, against the release libycm.a ------------------------------------

$(C_ASAN)/harness.o: $(C_HARNESS)
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) $(C_SANITIZE) -c $< -o $@

$(C_ASAN)/test_%: $(C_TESTS_DIR)/test_%.c $(C_ASAN)/harness.o $(C_DEPS) $(LIB_A)
	$(CC) $(C_CFLAGS) $(C_SANITIZE) $< $(C_ASAN)/harness.o $(C_LINK_A) -o $@

$(C_ASAN)/test_ycm_hpp: $(C_TESTS_DIR)/test_ycm_hpp.cpp $(C_ASAN)/harness.o $(C_DEPS) $(LIB_A)
	$(CXX) $(C_CXXFLAGS) $(C_SANITIZE) $< $(C_ASAN)/harness.o $(C_LINK_A) -o $@
