# ycm: build, demo, test, bench, header, install, dist. `make help` lists the targets.
# The C layer's rules live in bindings/c/c.mk, the Python package's in bindings/python/python.mk,
# installing and packaging (install, uninstall, dist, dist-test) in dist.mk.

CARGO      ?= cargo
PYTHON     ?= python3
PREFIX     ?= /usr/local
VENV       := $(CURDIR)/.venv
RELEASE    := $(CURDIR)/target/release
LIB_SO     := $(RELEASE)/libycm.so
LIB_A      := $(RELEASE)/libycm.a
MOCK_BIN   := $(RELEASE)/ycm-mock
# The command line (cli/) and what `make cli-docs` generates for it: shell completions and
# one man page per command.
CLI_BIN    := $(RELEASE)/ycm
CLI_DOCS   := $(CURDIR)/target/cli
HEADER     := $(CURDIR)/include/ycm.h
# The package version, and the shared library's names after cargo-c's conventions: the
# SONAME carries the major version, or 0.MINOR while the major is 0 (0.0.PATCH for 0.0.x),
# since a 0.x minor release may break the ABI; the file carries the whole version.
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(CURDIR)/Cargo.toml | head -1)
V_MAJOR    := $(word 1,$(subst ., ,$(VERSION)))
V_MINOR    := $(word 2,$(subst ., ,$(VERSION)))
V_PATCH    := $(word 3,$(subst ., ,$(VERSION)))
SOVERSION  := $(if $(filter-out 0,$(V_MAJOR)),$(V_MAJOR),$(if $(filter-out 0,$(V_MINOR)),0.$(V_MINOR),0.0.$(V_PATCH)))
SONAME     := libycm.so.$(SOVERSION)
REALNAME   := libycm.so.$(VERSION)
# rustc's own link line for libycm.a (`--print native-static-libs`), captured by `make
# release`; ycm.pc's Libs.private and the CMake static target come from it.
NATIVE_LIBS := $(RELEASE)/ycm-native-static-libs.txt
# The C side of the build (cbindgen, the header): the `capi` feature, on in every build here.
CAPI       := --features yeastar-ycm/capi

.PHONY: help all deps build release cli-docs header header-check lint rust-test loom test demo bench clean

help:
	@echo "make demo      build everything, start ycm-mock, update user 13329 from C and Python"
	@echo "make deps      check (as root: install) what make test needs from the machine"
	@echo "make test      fmt, clippy, docs, Rust tests, header drift, C tests (ASan+UBSan, valgrind), Python tests"
	@echo "make bench     benchmarks against peers on the same mock server"
	@echo "make soak      RSS after 10,000 and 1,000,000 calls on one client (SOAK_CALLS=N to shorten)"
	@echo "make bench-sync  the bulk-sync figures: latency ideal ratio, rate-limited run, 100,000 records"
	@echo "make bench-fleet one client ID across processes: fleet of 8, sync runs, short tokens, host-scope cost,"
	@echo "                the Redis scope across 2 hosts, a Redis outage, Redis-scope cost"
	@echo "make header    regenerate include/ycm.h"
	@echo "make fuzz      run every fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make cli-docs  shell completions and man pages of the ycm command line into target/cli/"
	@echo "make install   install the built (make release) library, headers, ycm.pc, CMake package,"
	@echo "               the ycm command line, its completions and man pages"
	@echo "               under DESTDIR/PREFIX (PREFIX=$(PREFIX), LIBDIR, INCLUDEDIR); never runs cargo"
	@echo "make uninstall remove what make install installed (same variables)"
	@echo "make dist      stripped libraries (debug info apart), the crate, the Python sdist and the"
	@echo "               manylinux2014 wheels for x86_64 and aarch64 (zig as the linker, no container)"
	@echo "make dist-test install into a temporary prefix and venvs, build C/C++ users, run them on ycm-mock"
	@echo "make dist-cross-test  the manylinux2014 wheels: auditwheel, glibc 2.17 symbols, Python tests"
	@echo "               on 3.9 and 3.13 (x86_64), a C program on ycm-mock under qemu-aarch64"
	@echo "make deb       Debian packages libycm$(SOVERSION), libycm-dev, ycm, ycm-mock into target/deb/ (lintian-checked)"
	@echo "make deb-test  as root: install them with apt-get, use them (C, CLI, mock, man), purge, nothing left"
	@echo "make docs      the documentation site into target/docs/site/ (mdBook; rustdoc and pdoc under api/)"
	@echo "make docs-check  make docs, then links, anchors, coverage, snippets; runs the examples it includes"
	@echo "make docs-browser-test  the built site in headless Chromium: index, tabs, search, no console error"

all: release

build:
	$(CARGO) build --workspace $(CAPI)

# The crate's only declared crate type is rlib (what a Rust dependent builds); the C
# libraries come from `cargo rustc --crate-type cdylib,staticlib`, as cargo-c builds them,
# into target/release/libycm.so (SONAME $(SONAME)) and libycm.a. rustc's note with the
# static link line is replayed by cargo on a fresh build too, so it is always captured.
CAPI_RUSTC := $(CARGO) rustc --release --lib -p yeastar-ycm --features capi \
	--crate-type cdylib,staticlib -- --print native-static-libs -C link-arg=-Wl,-soname,$(SONAME)

release:
	$(CARGO) build --release -p ycm-mock -p yeastar-ycm-cli
	@$(MAKE) --no-print-directory cli-docs
	@mkdir -p $(RELEASE)
	@echo "$(CAPI_RUSTC)"
	@$(CAPI_RUSTC) 2>$(RELEASE)/.capi-build.log; rc=$$?; cat $(RELEASE)/.capi-build.log >&2; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  libs=$$(sed -n 's/^note: native-static-libs: *//p' $(RELEASE)/.capi-build.log | tail -n 1); \
	  [ -n "$$libs" ] || { echo "make release: rustc printed no native-static-libs line" >&2; exit 1; }; \
	  printf '%s\n' "$$libs" > $(NATIVE_LIBS).tmp && mv $(NATIVE_LIBS).tmp $(NATIVE_LIBS)
	@# What programs linked here load at run time (the C tests, benches and soak use it).
	@ln -sfn libycm.so $(RELEASE)/$(SONAME)

# Completions (bash, zsh, fish) and man pages (ycm.1, ycm-users.1, ycm-users-get.1, ...)
# from the same clap definitions as the binary, by cli/examples/cli-docs.rs.
cli-docs:
	$(CARGO) run --quiet --release -p yeastar-ycm-cli --example cli-docs -- $(CLI_DOCS)
	@echo "cli-docs: $(CLI_DOCS)/completions/, $(CLI_DOCS)/man/ ($$(ls $(CLI_DOCS)/man | wc -l) pages)"

# build.rs generates the header into OUT_DIR on every build; this also writes include/ycm.h.
header:
	YCM_WRITE_HEADER=1 $(CARGO) build --lib $(CAPI)

# Fails when the committed include/ycm.h differs from a fresh generation or from Cargo.toml's
# version (also part of rust-test).
header-check:
	$(CARGO) test --test header $(CAPI)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets $(CAPI) -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps $(CAPI)

rust-test:
	$(CARGO) test --workspace $(CAPI)

# Model-checks the shared token renewal (src/token_cache.rs) with loom; its own target dir
# because the cfg changes every crate's build.
loom:
	RUSTFLAGS="--cfg ycm_loom" CARGO_TARGET_DIR=$(CURDIR)/target/loom $(CARGO) test --lib token_cache

# What the machine must have (scripts/deps.sh, the one list .ci/run installs from): checked
# first, in well under a second; as root it installs what is missing, otherwise it stops
# naming the packages and the command to run (YCM_DEPS=check: never install).
deps:
	@scripts/deps.sh test

test: deps lint header-check rust-test loom c-test py-test docs-check dist-test
	@echo "make test: all suites passed"

demo: release c-build py-venv
	@CLI_BIN=$(CLI_BIN) scripts/demo.sh

clean: bench-clean
	$(CARGO) clean
	rm -rf bindings/c/build $(VENV) bindings/python/build

include bindings/c/c.mk
include bindings/python/python.mk
include bench/bench.mk
include fuzz/fuzz.mk
include dist.mk
include docs/docs.mk
