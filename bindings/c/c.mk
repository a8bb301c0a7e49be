# The C layer's rules, included by the top Makefile (paths relative to the repo root; CARGO,
# RELEASE, LIB_SO, LIB_A, MOCK_BIN and HEADER come from there).
#
#   make c-build          cargo build --release --workspace, then the examples and tests
#                         into bindings/c/build/ (linked against the release libycm.so)
#   make c-test           c-test-asan + c-test-valgrind
#   make c-test-asan      tests built with -fsanitize=address,undefined, static libycm.a
#   make c-test-valgrind  plain tests under valgrind, release libycm.so
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
C_LINK_A    := $(LIB_A) -lpthread -ldl -lm

C_VALGRIND  := valgrind --quiet --error-exitcode=1 --leak-check=full \
               --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
C_RUN       := YCM_MOCK_BIN=$(MOCK_BIN) $(C_TESTS_DIR)/run.sh

C_HARNESS   := $(C_TESTS_DIR)/harness.c $(C_TESTS_DIR)/harness.h
C_DEPS      := $(HEADER) $(C_DIR)/include/ycm.hpp $(C_TESTS_DIR)/harness.h

C_PLAIN_BINS := $(C_BUILD)/update_user $(C_BUILD)/update_user_cpp \
                $(C_BUILD)/test_ycm $(C_BUILD)/test_ycm_hpp
C_ASAN_BINS  := $(C_ASAN)/test_ycm $(C_ASAN)/test_ycm_hpp

.PHONY: c-build c-bins c-asan-bins c-test c-test-asan c-test-valgrind c-clean

# cargo decides what is stale in Rust; make then relinks what depends on the libraries.
c-build:
	$(CARGO) build --release --workspace
	@$(MAKE) --no-print-directory c-bins

c-bins: $(C_PLAIN_BINS)

c-asan-bins: $(C_ASAN_BINS)

c-test: c-test-asan c-test-valgrind

c-test-asan: c-build
	@$(MAKE) --no-print-directory c-asan-bins
	@echo "== C and C++ tests, ASan+UBSan, static libycm.a"
	@export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; status=0; \
	for t in $(C_ASAN_BINS); do echo "-- $$t"; $(C_RUN) $$t || status=1; done; exit $$status

c-test-valgrind: c-build
	@echo "== C and C++ tests under valgrind, release libycm.so"
	@status=0; for t in $(C_BUILD)/test_ycm $(C_BUILD)/test_ycm_hpp; do \
	echo "-- valgrind $$t"; $(C_RUN) $(C_VALGRIND) $$t || status=1; done; exit $$status

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

$(C_BUILD)/test_ycm: $(C_TESTS_DIR)/test_ycm.c $(C_BUILD)/harness.o $(C_DEPS) $(LIB_SO)
	$(CC) $(C_CFLAGS) $< $(C_BUILD)/harness.o $(C_LINK_SO) -o $@

$(C_BUILD)/test_ycm_hpp: $(C_TESTS_DIR)/test_ycm_hpp.cpp $(C_BUILD)/harness.o $(C_DEPS) $(LIB_SO)
	$(CXX) $(C_CXXFLAGS) $< $(C_BUILD)/harness.o $(C_LINK_SO) -o $@

# --- ASan + UBSan builds, against the release libycm.a ------------------------------------

$(C_ASAN)/harness.o: $(C_HARNESS)
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) $(C_SANITIZE) -c $< -o $@

$(C_ASAN)/test_ycm: $(C_TESTS_DIR)/test_ycm.c $(C_ASAN)/harness.o $(C_DEPS) $(LIB_A)
	$(CC) $(C_CFLAGS) $(C_SANITIZE) $< $(C_ASAN)/harness.o $(C_LINK_A) -o $@

$(C_ASAN)/test_ycm_hpp: $(C_TESTS_DIR)/test_ycm_hpp.cpp $(C_ASAN)/harness.o $(C_DEPS) $(LIB_A)
	$(CXX) $(C_CXXFLAGS) $(C_SANITIZE) $< $(C_ASAN)/harness.o $(C_LINK_A) -o $@
