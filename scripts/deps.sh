#!/usr/bin/env bash
# What the project's builds and tests need from the machine, declared once (the table
# below), checked in well under a second, and installed on request. Used by `.ci/run`
# (`--install`), by `make test` (`make deps`, its first prerequisite) and by `make deb` /
# `make deb-test` (`make deps-deb`), by `make dist-wheels` (`make deps-wheels`) and by
# `make dist-cross-test` (`make deps-cross`).
#
#   scripts/deps.sh [--check | --install] [GROUP...]     GROUP: test (default), deb, docs,
#                                                        wheels, cross, all
#
# Without a mode it installs when run as root and only checks otherwise. --check (or a user
# other than root) exits 1 at once naming the missing Debian packages and the one command
# that installs them; --install runs `apt-get update` (only when something is missing) and
# `apt-get install` for the apt packages, `rustup component add` for the Rust components,
# `rustup target add` for the Rust targets, then checks again. YCM_DEPS=check in the environment forces --check (a root user who
# does not want `make test` to install anything).
set -euo pipefail

# group  probe                              provider              what needs it
# A probe is cmd:NAME (on PATH), py:MODULE[,MODULE] (importable by python3), file:PATH,
# cargo:SUBCOMMAND (`cargo SUBCOMMAND --version` works) or rust-target:TRIPLE (rustc has that
# target's standard library). The provider is a Debian package, rustup:COMPONENT,
# rustup-target:TRIPLE, or manual:NAME for what no package manager here provides (its last
# column then says how to get it). zig and cargo-zigbuild are not here: they come from PyPI
# into a venv (bindings/python/requirements-wheels.txt).
deps_table() {
  cat <<'EOF'
test  cmd:cargo                          manual:rustup         Rust stable (cargo, rustc) from https://rustup.rs
test  cargo:fmt                          rustup:rustfmt        make lint
test  cargo:clippy                       rustup:clippy         make lint
test  cmd:make                           make                  the build
test  cmd:gcc                            gcc                   C tests (ASan, UBSan)
test  cmd:g++                            g++                   C++ tests (ycm.hpp)
test  cmd:valgrind                       valgrind              C tests under valgrind
test  cmd:openssl                        openssl               TLS tests make a private CA
test  cmd:git                            git                   cargo package, dist-test
test  cmd:cmake                          cmake                 dist-test: a find_package(yeastar-ycm) user
test  cmd:pkg-config                     pkgconf               dist-test: pkg-config users
test  cmd:objcopy                        binutils              make install-files: stripped libraries
test  cmd:python3                        python3               Python tests
test  py:venv,ensurepip                  python3-venv          the Python venvs
test  cmd:redis-server                   redis-server          shared-state tests
test  cmd:tinyproxy                      tinyproxy             proxy tests through a real proxy
test  cmd:php                            php-cli               make docs-check: the site's PHP examples run
docs  cmd:chromium                       chromium              make docs-browser-test: the site in a real browser
deb   cmd:dpkg-deb                       dpkg                  make deb: dpkg-deb --build
deb   cmd:dpkg-shlibdeps                 dpkg-dev              make deb: Depends from the binaries
deb   cmd:dpkg-architecture              dpkg-dev              make deb: the multiarch library dir
deb   cmd:help2man                       help2man              make deb: ycm-mock's man page
deb   cmd:lintian                        lintian               make deb: package checks
deb   cmd:man                            man-db                make deb-test: man finds the pages
deb   cmd:pkg-config                     pkgconf               make deb-test: a pkg-config user
deb   cmd:gcc                            gcc                   make deb-test: a C user
deb   cmd:cmake                          cmake                 make deb-test: a find_package(yeastar-ycm) user
deb   cmd:readelf                        binutils              make deb, make deb-test: ELF checks
deb   cmd:apt-get                        apt                   make deb-test: apt-get install ./*.deb
wheels cmd:cargo                         manual:rustup         Rust stable (cargo, rustc) from https://rustup.rs
wheels rust-target:x86_64-unknown-linux-gnu  rustup-target:x86_64-unknown-linux-gnu  make dist-wheels: the x86_64 library
wheels rust-target:aarch64-unknown-linux-gnu rustup-target:aarch64-unknown-linux-gnu make dist-wheels: the aarch64 library
wheels cmd:objcopy                       binutils              make dist-wheels: the x86_64 library stripped, debug info apart
wheels cmd:aarch64-linux-gnu-objcopy     binutils-aarch64-linux-gnu make dist-wheels: the aarch64 library stripped, debug info apart
wheels cmd:readelf                       binutils              make dist-wheels: setup.py checks the aarch64 library's exports
wheels cmd:python3                       python3               make dist-wheels: the build venv
wheels py:venv,ensurepip                 python3-venv          make dist-wheels: the build venv
cross cmd:qemu-aarch64                   qemu-user             make dist-cross-test: runs the aarch64 library
cross file:/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 libc6-arm64-cross make dist-cross-test: the aarch64 glibc qemu-aarch64 loads
cross cmd:objdump                        binutils              make dist-cross-test: the glibc symbol versions
EOF
}

mode=""
groups=()
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --install) mode=install ;;
    test | deb | docs | wheels | cross) groups+=("$arg") ;;
    all) groups+=(test deb docs wheels cross) ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scripts/deps.sh: unknown argument '$arg' (groups: test, deb, docs, wheels, cross, all; modes: --check, --install)" >&2; exit 2 ;;
  esac
done
[ ${#groups[@]} -gt 0 ] || groups=(test)
if [ -z "$mode" ]; then
  if [ "$EUID" = 0 ] && [ "${YCM_DEPS:-}" != check ]; then mode=install; else mode=check; fi
fi
[ "${YCM_DEPS:-}" = check ] && mode=check

probe() {
  local kind=${1%%:*} what=${1#*:}
  case "$kind" in
    cmd) command -v "$what" >/dev/null 2>&1 ;;
    py) command -v python3 >/dev/null 2>&1 && python3 -c "import ${what}" >/dev/null 2>&1 ;;
    file) [ -e "$what" ] ;;
    cargo) command -v cargo >/dev/null 2>&1 && cargo "$what" --version >/dev/null 2>&1 ;;
    rust-target) command -v rustc >/dev/null 2>&1 && [ -d "$(rustc --print sysroot)/lib/rustlib/$what/lib" ] ;;
    *) echo "scripts/deps.sh: bad probe '$1' in the table" >&2; exit 2 ;;
  esac
}

# Fills apt_missing, rustup_missing, target_missing, manual_missing, and providers with whyof (each missing
# provider, what needs it).
scan() {
  providers=()
  whyof=()
  apt_missing=()
  rustup_missing=()
  target_missing=()
  manual_missing=()
  local group probe_ provider needs g wanted
  while read -r group probe_ provider needs; do
    [ -n "$group" ] || continue
    wanted=""
    for g in "${groups[@]}"; do [ "$g" = "$group" ] && wanted=1; done
    [ -n "$wanted" ] || continue
    probe "$probe_" && continue
    case "$provider" in
      rustup:*) add_once rustup_missing "${provider#rustup:}" ;;
      rustup-target:*) add_once target_missing "${provider#rustup-target:}" ;;
      manual:*) add_once manual_missing "$needs" ;;
      *) add_once apt_missing "$provider" ;;
    esac
    add_once providers "$provider"
    if [ -n "${whyof[$provider]:-}" ]; then
      case "; ${whyof[$provider]}; " in *"; $needs; "*) ;; *) whyof[$provider]+="; $needs" ;; esac
    else
      whyof[$provider]=$needs
    fi
  done < <(deps_table)
}
add_once() {
  local -n list=$1
  local x
  for x in "${list[@]}"; do [ "$x" = "$2" ] && return 0; done
  list+=("$2")
}

report() {
  local line
  {
    echo "The ${groups[*]} target(s) need what this machine lacks:"
    for line in "${providers[@]}"; do echo "  - ${line#*:}: ${whyof[$line]}"; done
    if [ ${#manual_missing[@]} -gt 0 ]; then
      echo "Install by hand: ${manual_missing[*]}"
    fi
    if [ ${#apt_missing[@]} -gt 0 ]; then
      if command -v apt-get >/dev/null 2>&1; then
        echo "Install as root:  apt-get install ${apt_missing[*]}"
      else
        echo "Install the equivalents of these Debian packages: ${apt_missing[*]}"
      fi
    fi
    if [ ${#rustup_missing[@]} -gt 0 ]; then
      echo "Install as your user:  rustup component add ${rustup_missing[*]}"
    fi
    if [ ${#target_missing[@]} -gt 0 ]; then
      echo "Install as your user:  rustup target add ${target_missing[*]}"
    fi
    echo "Or all at once: sudo scripts/deps.sh --install ${groups[*]}"
  } >&2
}

declare -A whyof
scan
if [ ${#providers[@]} -eq 0 ]; then
  exit 0
fi
if [ "$mode" = check ]; then
  report
  exit 1
fi

# --install
if [ ${#manual_missing[@]} -gt 0 ]; then
  report
  exit 1
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  [ "$EUID" = 0 ] || { report; echo "scripts/deps.sh --install: apt packages need root" >&2; exit 1; }
  echo "scripts/deps.sh: apt-get install ${apt_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"
fi
if [ ${#rustup_missing[@]} -gt 0 ]; then
  echo "scripts/deps.sh: rustup component add ${rustup_missing[*]}"
  rustup component add "${rustup_missing[@]}"
fi
if [ ${#target_missing[@]} -gt 0 ]; then
  echo "scripts/deps.sh: rustup target add ${target_missing[*]}"
  rustup target add "${target_missing[@]}"
fi
scan
if [ ${#providers[@]} -gt 0 ]; then
  echo "scripts/deps.sh: still missing after installing:" >&2
  report
  exit 1
fi
echo "scripts/deps.sh: ${groups[*]}: everything installed"
