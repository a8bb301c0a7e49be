#!/usr/bin/env bash
# make deb-test: the Debian packages of `make deb` as a Debian user gets them, on this
# machine (as root; it is run by .ci/run after make test):
#
#  1. `apt-get install -y` of target/deb/*.deb: installed, ldconfig's trigger ran, files
#     match their md5sums (dpkg --verify).
#  2. A C program (bindings/c/examples/update_user.c) built with `pkg-config --cflags --libs
#     ycm` from the installed ycm.pc and ycm.h, and a CMake user of find_package(yeastar-ycm),
#     load /usr/lib/<multiarch>/libycm.so.SOVERSION by SONAME (no rpath, no LD_LIBRARY_PATH)
#     and update a user on a ycm-mock started from /usr/bin/ycm-mock.
#  3. /usr/bin/ycm --version, `ycm users update` and `ycm users get` against that mock;
#     `man ycm`, `man ycm-users-update`, `man ycm-mock` and `man -l` find and render the pages;
#     the bash completion loads; zsh's and fish's are in their Debian places.
#  4. `apt-get purge -y`: every file the packages installed (`dpkg -L`, taken before the
#     purge) is gone, except directories that existed before they were installed; ldconfig
#     no longer knows libycm; packages apt pulled in for them are purged too.
#
# Safe to repeat: packages left by an interrupted run are purged first, and the purge runs
# on every exit. Prints one line per check and "N passed, N failed"; exits 1 on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${VERSION:?}" "${SONAME:?}" "${DEB_REVISION:=1}"
[ "$EUID" = 0 ] || { echo "make deb-test installs the packages into this machine: run it as root" >&2; exit 1; }

arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
sover=${SONAME#libycm.so.}
libpkg=libycm$sover
pkgs=("$libpkg" libycm-dev ycm ycm-mock)
debver=$VERSION-$DEB_REVISION
debs=()
for pkg in "${pkgs[@]}"; do
  deb=$root/target/deb/${pkg}_${debver}_${arch}.deb
  [ -f "$deb" ] || { echo "make deb-test: $deb is missing: run 'make deb'" >&2; exit 1; }
  debs+=("$deb")
done

# shellcheck source=scripts/mock.sh
. "$root/scripts/mock.sh"
work=$(mktemp -d)
export DEBIAN_FRONTEND=noninteractive
# installed PKG: dpkg knows PKG in any state but not-installed (config-files included).
installed() {
  local st
  st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) && [ -n "$st" ] && [ "$st" != not-installed ]
}
not_installed() { ! installed "$1"; }
purge_ours() {
  local left=() p
  for p in "${pkgs[@]}"; do installed "$p" && left+=("$p"); done
  [ ${#left[@]} -eq 0 ] || apt-get purge -y -qq "${left[@]}" >"$work/purge.log" 2>&1
}
cleanup() {
  local rc=$?
  stop_mock
  purge_ours || { echo "make deb-test: apt-get purge failed:"; cat "$work/purge.log"; } >&2
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
checks_name=deb-test
# shellcheck source=scripts/checks.sh
. "$root/scripts/checks.sh"

# --- 1. install ------------------------------------------------------------------------------
section "apt-get install ${debs[*]##*/}"
for p in "${pkgs[@]}"; do
  if installed "$p"; then
    echo "note: $p is installed (an interrupted run?): purging it first"
    purge_ours
    break
  fi
done
# What existed before: the packages' paths (a directory such as /usr/bin stays after the
# purge), and the packages apt will pull in for them (purged again at the end).
for deb in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$deb" | tar -t; done | sed -e 's|^\./|/|' -e 's|/$||' \
  | grep -v '^/\?$' | sort -u >"$work/paths"
while IFS= read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done <"$work/paths" >"$work/existed"
apt-get install -s "${debs[@]}" 2>/dev/null | sed -n 's/^Inst \([^ ]*\) .*/\1/p' \
  | grep -vxF -f <(printf '%s\n' "${pkgs[@]}") >"$work/pulled" || true
check "apt-get install -y ./*.deb" apt-get install -y -qq "${debs[@]}"
for p in "${pkgs[@]}"; do
  check "$p $debver is installed" bash -c "
    [ \"\$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' $p)\" = 'ii $debver' ]"
done
check "dpkg --verify: the installed files match the packages' md5sums" bash -c "
  out=\$(dpkg --verify ${pkgs[*]}); echo \"\$out\"; [ -z \"\$out\" ]"
lib=/usr/lib/$multiarch/$SONAME
# ldconfig and ldd may name the path through /lib, a link to /usr/lib on a merged-/usr system.
maps_to_lib() {
  local mapped
  mapped=$("$@" | sed -n "s|^[[:space:]]*$SONAME .*=> \([^ ]*\).*|\1|p" | head -n 1)
  echo "$SONAME => ${mapped:-nothing}"
  [ -n "$mapped" ] && [ "$(realpath "$mapped")" = "$(realpath "$lib")" ]
}
check "ldconfig's trigger ran: the cache maps $SONAME to $lib" maps_to_lib ldconfig -p
check "$libpkg's shlibs file names $SONAME" bash -c "
  grep -qx 'libycm $sover $libpkg (>= $VERSION)' /var/lib/dpkg/info/$libpkg:$arch.shlibs ||
  grep -qx 'libycm $sover $libpkg (>= $VERSION)' /var/lib/dpkg/info/$libpkg.shlibs"

# --- 2. a C user, from the installed header and ycm.pc ---------------------------------------
section "C users of the installed libycm-dev"
start_mock /usr/bin/ycm-mock
token=ycm-mock-token
user=13329
cp bindings/c/examples/update_user.c "$work/"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
check "pkg-config finds ycm $VERSION in /usr/lib/$multiarch/pkgconfig" bash -c "
  [ \"\$(pkg-config --modversion ycm)\" = '$VERSION' ] &&
  [ \"\$(pkg-config --variable=pcfiledir ycm)\" = '/usr/lib/$multiarch/pkgconfig' ] ||
  { echo \"pkg-config: ycm \$(pkg-config --modversion ycm) from \$(pkg-config --variable=pcfiledir ycm)\"; exit 1; }"
check "cc -std=c11 -Werror update_user.c \$(pkg-config --cflags --libs ycm)" bash -c "
  cc -std=c11 -Wall -Wextra -Wpedantic -Werror '$work/update_user.c' \$(pkg-config --cflags --libs ycm) \
    -o '$work/update_user'"
check "the program needs $SONAME and has no rpath" bash -c "
  readelf -d '$work/update_user' | grep -q 'Shared library: \[$SONAME\]' &&
  ! readelf -d '$work/update_user' | grep -Eq 'RPATH|RUNPATH'"
check "the program loads $lib" maps_to_lib env -u LD_LIBRARY_PATH ldd "$work/update_user"
update_with() {
  local company=$1 out
  shift
  out=$("$@" "$mock_url" "$token" "$user" "$company") || { echo "$out"; return 1; }
  echo "$out"
  grep -q "$company" <<<"$out" || { echo "the user read back has not company '$company'"; return 1; }
}
check "the pkg-config C program updates a user on /usr/bin/ycm-mock" \
  update_with "deb-test company 1" env -u LD_LIBRARY_PATH "$work/update_user"
mkdir -p "$work/cmake"
cp bindings/c/examples/update_user.c "$work/cmake/"
cat >"$work/cmake/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(ycm_deb_user C)
find_package(yeastar-ycm 0.1 CONFIG REQUIRED)
add_executable(update_user update_user.c)
target_link_libraries(update_user PRIVATE ycm::ycm)
EOF
check "cmake: find_package(yeastar-ycm CONFIG) in /usr/lib/$multiarch/cmake, ycm::ycm" bash -c "
  cmake -S '$work/cmake' -B '$work/cmake/b' -DCMAKE_C_FLAGS='-std=c11 -Wall -Wextra -Wpedantic -Werror' &&
  grep -qx 'yeastar-ycm_DIR:PATH=/usr/lib/$multiarch/cmake/yeastar-ycm' '$work/cmake/b/CMakeCache.txt' &&
  cmake --build '$work/cmake/b'"
check "the CMake C program updates a user on /usr/bin/ycm-mock" \
  update_with "deb-test company 2" env -u LD_LIBRARY_PATH "$work/cmake/b/update_user"

# --- 3. the command line, its man pages and completions --------------------------------------
section "the ycm command line"
check "/usr/bin/ycm --version is ycm $VERSION" bash -c "
  [ \"\$(command -v ycm)\" = /usr/bin/ycm ] && [ \"\$(/usr/bin/ycm --version)\" = 'ycm $VERSION' ]"
# The CLI's settings and shared state in the test's own directories, never the machine's.
cli() {
  env YCM_BASE_URL="$mock_url" YCM_ACCESS_TOKEN="$token" YCM_SHARED_STATE=process \
    HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_STATE_HOME="$work/home/state" \
    XDG_CACHE_HOME="$work/home/cache" /usr/bin/ycm "$@"
}
mkdir -p "$work/home"
check "ycm users update $user --company ... on the mock" cli users update "$user" --company "deb-test CLI company"
cli_reads_company() {
  local out
  out=$(cli users get "$user" --output json) || return 1
  echo "$out"
  grep -q "\"company\": *\"$1\"" <<<"$out"
}
check "ycm users get $user --output json reads the company back" cli_reads_company "deb-test CLI company"
check "/usr/bin/ycm-mock --version is ycm-mock $VERSION" bash -c "[ \"\$(/usr/bin/ycm-mock --version)\" = 'ycm-mock $VERSION' ]"
for page in ycm ycm-users-update ycm-mock; do
  check "man $page finds /usr/share/man/man1/$page.1.gz and renders it" bash -c "
    [ \"\$(man -w $page)\" = /usr/share/man/man1/$page.1.gz ] &&
    MANWIDTH=80 man -P cat $page 2>&1 | grep -q '^NAME'"
done
check "man -l /usr/share/man/man1/ycm.1.gz is this version's page, with its commands" bash -c "
  out=\$(MANWIDTH=80 man -P cat -l /usr/share/man/man1/ycm.1.gz) && echo \"\$out\" &&
  grep -q '^SUBCOMMANDS' <<<\"\$out\" && grep -q 'ycm-users(1)' <<<\"\$out\" &&
  grep -qw 'v$VERSION' <<<\"\$out\""
check "the bash completion loads and completes ycm" bash -c "
  . /usr/share/bash-completion/completions/ycm && complete -p ycm"
check "zsh's and fish's completions are in Debian's places" bash -c "
  head -n 1 /usr/share/zsh/vendor-completions/_ycm | grep -q '^#compdef ycm' &&
  grep -q 'complete -c ycm' /usr/share/fish/vendor_completions.d/ycm.fish"
check "each package has its copyright and changelogs" bash -c "
  for p in ${pkgs[*]}; do for f in copyright changelog.Debian.gz changelog.gz; do
    test -f /usr/share/doc/\$p/\$f || { echo \"missing /usr/share/doc/\$p/\$f\"; exit 1; }; done; done"
stop_mock

# --- 4. purge ---------------------------------------------------------------------------------
section "apt-get purge"
for p in "${pkgs[@]}"; do dpkg -L "$p"; done | grep -v '^/\.$' | sort -u >"$work/listed"
check "dpkg -L lists exactly the packages' contents" diff "$work/paths" "$work/listed"
check "apt-get purge -y ${pkgs[*]}" apt-get purge -y -qq "${pkgs[@]}"
for p in "${pkgs[@]}"; do
  check "$p is purged (no config-files state)" not_installed "$p"
done
check "no file or link the packages installed is left" bash -c "
  left=0; while IFS= read -r p; do
    if { [ -e \"\$p\" ] || [ -L \"\$p\" ]; } && ! grep -qxF \"\$p\" '$work/existed'; then echo \"left: \$p\"; left=1; fi
  done <'$work/listed'; [ \$left = 0 ]"
check "ldconfig no longer knows /usr/lib/$multiarch/libycm*" bash -c "! ldconfig -p | grep -E '=> (/usr)?/lib/$multiarch/libycm'"
if [ -s "$work/pulled" ]; then
  mapfile -t pulled <"$work/pulled"
  check "purge what apt pulled in for them: ${pulled[*]}" apt-get purge -y -qq "${pulled[@]}"
fi

checks_summary
