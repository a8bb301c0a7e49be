# Fuzzing: cargo-fuzz (libFuzzer) targets over ycm's parsers of untrusted input. Included by
# the top Makefile (CARGO comes from there). Not part of `make test`: it needs nightly and
# takes minutes; `cargo test` replays the seed corpus and every saved crash instead
# (tests/fuzz_regressions.rs). See fuzz/README.md.
#
#   make fuzz               install cargo-fuzz if missing, build, run each target for
#                           FUZZ_SECONDS, one at a time, and print executions and coverage
#   make fuzz-build         only build the targets
#   make fuzz-clean         remove fuzz/target, fuzz/corpus-run and fuzz/artifacts
#
# Knobs (make variables or environment): FUZZ_SECONDS (60 per target), FUZZ_TARGETS (all
# seven), FUZZ_MAX_LEN (8192, largest input in bytes), FUZZ_CARGO (`$(CARGO) +nightly`).

FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 8192
FUZZ_TARGETS ?= update_body response config token_grant records journal plan
FUZZ_CARGO   ?= $(CARGO) +nightly
FUZZ_DIR     := $(CURDIR)/fuzz

.PHONY: fuzz fuzz-build fuzz-tools fuzz-clean

fuzz-tools:
	@$(FUZZ_CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

fuzz-build: fuzz-tools
	$(FUZZ_CARGO) fuzz build --fuzz-dir $(FUZZ_DIR)

# New inputs go to fuzz/corpus-run/<target> (kept between runs, not committed); the
# committed seeds in fuzz/corpus/<target> are only read.
fuzz: fuzz-build
	@FUZZ_CARGO="$(FUZZ_CARGO)" FUZZ_DIR="$(FUZZ_DIR)" FUZZ_SECONDS="$(FUZZ_SECONDS)" \
	FUZZ_MAX_LEN="$(FUZZ_MAX_LEN)" $(FUZZ_DIR)/run.sh $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_DIR)/target $(FUZZ_DIR)/corpus-run $(FUZZ_DIR)/artifacts
