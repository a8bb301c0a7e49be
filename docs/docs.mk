# The documentation site's rules, included by the top Makefile (paths relative to the repo
# root; CARGO, PYTHON, RELEASE, MOCK_BIN, CLI_BIN, HEADER and the C/Python rules come from
# there).
#
#   make docs               the site (mdBook) into target/docs/site/, with the Rust (rustdoc)
#                           and Python (pdoc) API references under target/docs/site/api/
#   make docs-check         make docs, then fails on a broken link or anchor, an undocumented
#                           header item, code, config key or CLI command, or a snippet that no
#                           longer matches its example file; and runs the examples the pages
#                           include (docs-examples). Part of make test.
#   make docs-examples      runs every example file a page includes against ycm-mock
#   make docs-browser-test  opens the built site in headless Chromium (index, language tabs,
#                           search, no console error); run by .ci/run after make test
#   make docs-serve         serves target/docs/site on http://127.0.0.1:8000/
#
# mdBook is installed into target/tools/ by cargo (pinned, --locked) the first time, from
# crates.io; nothing outside the checkout is needed. Only the "search" feature is built (no
# "serve"/"watch": a third of the build), so the site is served with Python's http.server.

MDBOOK_VERSION := 0.5.4
DOCS_TOOLS     := $(CURDIR)/target/tools
MDBOOK         := $(DOCS_TOOLS)/bin/mdbook
DOCS_GEN       := $(CURDIR)/target/docs/gen
DOCS_SITE      := $(CURDIR)/target/docs/site

.PHONY: docs docs-tools docs-gen docs-site docs-api docs-check docs-examples docs-browser-test docs-serve

docs-tools: $(MDBOOK)

$(MDBOOK):
	@echo "installing mdbook $(MDBOOK_VERSION) into $(DOCS_TOOLS) (once)"
	$(CARGO) install mdbook --locked --version $(MDBOOK_VERSION) --no-default-features \
	  --features search --root $(DOCS_TOOLS) --target-dir $(DOCS_TOOLS)/build
	rm -rf $(DOCS_TOOLS)/build

# The reference pages' generated bodies, from the declarations: the C API from ycm.h's
# comments, the codes and config keys from the crate's tables, the CLI from clap. The Rust
# generators are debug builds with the features of `make rust-test`, which has built them
# already (cargo test builds the examples) when make test gets here: no fat-LTO relink.
docs-gen:
	@mkdir -p $(DOCS_GEN)
	$(PYTHON) scripts/docs/c_reference.py $(HEADER) $(DOCS_GEN)/c-api.md
	$(CARGO) run --quiet --example docs_reference $(CAPI) -- $(DOCS_GEN)
	$(CARGO) run --quiet -p yeastar-ycm-cli --example cli-reference --features ycm/capi -- $(DOCS_GEN)/cli.md
	$(CARGO) run --quiet -p ycm-mock --bin ycm-mock -- --help >$(DOCS_GEN)/ycm-mock-help.txt

# mdBook reports a missing include or a bad SUMMARY as an error but may still exit 0 on
# some of them: any WARN or ERROR line fails the build.
docs-site: $(MDBOOK) docs-gen
	@rm -rf $(DOCS_SITE) && mkdir -p $(CURDIR)/target/docs
	@$(MDBOOK) build docs >$(CURDIR)/target/docs/mdbook.log 2>&1; status=$$?; \
	  cat $(CURDIR)/target/docs/mdbook.log; \
	  if [ $$status -ne 0 ] || grep -Eq '(WARN|ERROR)' $(CURDIR)/target/docs/mdbook.log; then \
	    echo "docs-site: mdbook reported problems (target/docs/mdbook.log)" >&2; exit 1; fi

# The Rust and Python API references (rustdoc, pdoc), copied into the site after it is built
# (mdbook empties its build directory).
docs-api: docs-site release dist-venv
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc -p yeastar-ycm --no-deps $(CAPI)
	rm -rf $(CURDIR)/target/doc/python
	cd $(PY_DIR) && YCM_LIBRARY=$(LIB_SO) $(DIST_PY_BIN) -m pdoc --docformat restructuredtext \
	  -o $(CURDIR)/target/doc/python ycm ycm.aio
	rm -rf $(DOCS_SITE)/api && mkdir -p $(DOCS_SITE)/api
	cp -r $(CURDIR)/target/doc $(DOCS_SITE)/api/rust
	rm -rf $(DOCS_SITE)/api/rust/python
	cp -r $(CURDIR)/target/doc/python $(DOCS_SITE)/api/python

docs: docs-site docs-api
	@echo "docs: $(DOCS_SITE)/index.html ($$(find $(DOCS_SITE) -maxdepth 3 -name '*.html' -not -path '*/api/*' | wc -l) pages);" \
	  "serve it with: python3 -m http.server -d target/docs/site 8000"

docs-check: docs docs-examples
	$(PYTHON) scripts/docs/check.py --site $(DOCS_SITE) --src docs/src --gen $(DOCS_GEN) \
	  --header $(HEADER) --examples scripts/docs/run-examples.sh

docs-examples: c-build py-venv
	@MOCK_BIN=$(MOCK_BIN) CLI_BIN=$(CLI_BIN) PYTHON=$(VENV)/bin/python CARGO="$(CARGO)" CAPI="$(CAPI)" \
	  scripts/docs/run-examples.sh

docs-browser-test: docs
	@scripts/deps.sh docs
	$(PYTHON) scripts/docs/browser_test.py $(DOCS_SITE)

docs-serve: docs
	$(PYTHON) -m http.server -d $(DOCS_SITE) 8000
