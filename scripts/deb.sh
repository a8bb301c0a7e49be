#!/usr/bin/env bash
# make deb: the Debian packages of DESIGN.md from the project's own `make install`, with
# dpkg-dev's tools and no debhelper, into target/deb/:
#
#   libycm<SOVERSION>  (libycm0.1)  LIBDIR/libycm.so.VERSION and the SONAME link; shlibs
#                                   control file, ldconfig trigger, Multi-Arch: same
#   libycm-dev                      ycm.h, ycm.hpp, the libycm.so link, libycm.a, ycm.pc,
#                                   the CMake package
#   ycm                             the command line, its man pages (gzip -9n), completions
#                                   for bash, zsh (vendor-completions) and fish
#   ycm-mock                        the mock server and its man page (help2man, from its
#                                   own --help, so it cannot go stale)
#
# How: `make install DESTDIR=stage PREFIX=/usr LIBDIR=/usr/lib/<multiarch>` (the layout and
# stripping every user of make install gets), split by path into the four trees (a file no
# package claims is an error); debian/control from packaging/deb/control.in and a generated
# debian/changelog (version VERSION-DEB_REVISION); Depends by dpkg-shlibdeps on each
# package's ELF files (minimum versions from the symbols files of libc6 and libgcc-s1), the
# control files by dpkg-gencontrol (Installed-Size, ${binary:Version}); md5sums; then
# `dpkg-deb --root-owner-group --build` (no fakeroot, no root) and lintian, which fails the
# build on any error or warning but the few it names with their reasons.
#
# Run by `make deb` (after `make release`), which passes MAKE, VERSION, SONAME, REALNAME and
# MOCK_BIN. DEB_REVISION (default 1) and DEB_MAINTAINER may be set by a packager.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
: "${MAKE:=make}" "${VERSION:?}" "${SONAME:?}" "${REALNAME:?}"
: "${MOCK_BIN:=$root/target/release/ycm-mock}"
: "${DEB_REVISION:=1}"
: "${DEB_MAINTAINER:=ycm maintainers <maintainers@yeastar-ycm.github.io>}"
homepage=$(sed -n 's/^homepage = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)

die() { echo "make deb: $*" >&2; exit 1; }
[ -x "$MOCK_BIN" ] || die "$MOCK_BIN not built: run 'make release' first"

arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
debver=$VERSION-$DEB_REVISION
sover=${SONAME#libycm.so.}
libpkg=libycm$sover
libdir=usr/lib/$multiarch
pkgs=("$libpkg" libycm-dev ycm ycm-mock)

out=$root/target/deb
work=$out/build
rm -rf "$work"
rm -f "$out"/*.deb
mkdir -p "$work/debian"
cd "$work"
# File dates (dpkg-deb clamps to it) and the changelog's date: the last commit's, so that
# two builds of one commit give the same packages.
SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# --- the tree make install lays out ----------------------------------------------------------
stage=$work/stage
"$MAKE" --no-print-directory -C "$root" install DESTDIR="$stage" PREFIX=/usr LIBDIR="/$libdir" >install.log \
  || { cat install.log >&2; die "make install DESTDIR=$stage failed"; }

# take PKG PATH [DEST]: moves stage/PATH into PKG's tree (at DEST, default PATH).
take() {
  local pkg=$1 from=$2 to=${3:-$2}
  [ -e "$stage/$from" ] || [ -L "$stage/$from" ] || die "make install did not install /$from"
  mkdir -p "$(dirname "debian/$pkg/$to")"
  mv "$stage/$from" "debian/$pkg/$to"
}
take "$libpkg" "$libdir/$REALNAME"
# Debian's policy (8.1): shared libraries are not executable (make install makes it 0755).
chmod 0644 "debian/$libpkg/$libdir/$REALNAME"
take "$libpkg" "$libdir/$SONAME"
take libycm-dev "$libdir/libycm.so"
take libycm-dev "$libdir/libycm.a"
take libycm-dev "$libdir/pkgconfig"
take libycm-dev "$libdir/cmake"
take libycm-dev usr/include
take ycm usr/bin/ycm
take ycm usr/share/man/man1
take ycm usr/share/bash-completion/completions/ycm
# Debian's place for a package's zsh functions; site-functions is the local admin's.
take ycm usr/share/zsh/site-functions/_ycm usr/share/zsh/vendor-completions/_ycm
take ycm usr/share/fish/vendor_completions.d/ycm.fish
left=$(find "$stage" ! -type d -printf '/%P\n')
[ -z "$left" ] || die "make install installed files that no package carries (add them to scripts/deb.sh):
$left"

install -D -m 0755 -s "$MOCK_BIN" "debian/ycm-mock/usr/bin/ycm-mock"
mkdir -p debian/ycm-mock/usr/share/man/man1
help2man --no-info --section 1 --source "ycm $VERSION" \
  --name "local mock server of the Yeastar Central Management user API" \
  --output debian/ycm-mock/usr/share/man/man1/ycm-mock.1 debian/ycm-mock/usr/bin/ycm-mock \
  || die "help2man could not make ycm-mock's man page"
find debian/*/usr/share/man -type f -name '*.1' -exec gzip -9n {} +

# --- debian/control, debian/changelog, the docs of every package ------------------------------
sed -e "s|@MAINTAINER@|$DEB_MAINTAINER|" -e "s|@SONAME_PKG@|$libpkg|" -e "s|@HOMEPAGE@|$homepage|" \
  "$root/packaging/deb/control.in" | grep -v '^#' >debian/control
cat >debian/changelog <<EOF
yeastar-ycm ($debver) unstable; urgency=medium

  * ycm $VERSION, packaged by make deb from the project's make install.
    The upstream changes are in changelog.gz.

 -- $DEB_MAINTAINER  $(date -R -u -d "@$SOURCE_DATE_EPOCH")
EOF
for pkg in "${pkgs[@]}"; do
  doc=debian/$pkg/usr/share/doc/$pkg
  install -d "$doc"
  install -m 0644 "$root/packaging/deb/copyright" "$doc/copyright"
  gzip -9n <debian/changelog >"$doc/changelog.Debian.gz"
  gzip -9n <"$root/CHANGELOG.md" >"$doc/changelog.gz"
done

# --- control files and the packages -----------------------------------------------------------
for pkg in "${pkgs[@]}"; do
  tree=debian/$pkg
  install -d "$tree/DEBIAN"
  elves=()
  while IFS= read -r -d '' f; do
    readelf -h "$f" >/dev/null 2>&1 && elves+=("$f")
  done < <(find "$tree/usr/bin" "$tree/$libdir" -maxdepth 1 -type f -print0 2>/dev/null)
  : >"debian/$pkg.substvars"
  if [ ${#elves[@]} -gt 0 ]; then
    # -l: libycm itself is found in its own package's tree, not on the machine.
    dpkg-shlibdeps -T"debian/$pkg.substvars" -l"debian/$libpkg/$libdir" "${elves[@]}" 2>shlibdeps.log \
      || { cat shlibdeps.log >&2; die "dpkg-shlibdeps failed for $pkg"; }
  fi
  if [ "$pkg" = "$libpkg" ]; then
    # A program linked with libycm.so.$sover depends on this package at this version or
    # later: the SONAME changes when the ABI does (every 0.x minor release).
    echo "libycm $sover $libpkg (>= $VERSION)" >"$tree/DEBIAN/shlibs"
    echo "activate-noawait ldconfig" >"$tree/DEBIAN/triggers"
  fi
  dpkg-gencontrol -p"$pkg" -ldebian/changelog -cdebian/control -T"debian/$pkg.substvars" \
    -P"$tree" -fdebian/files -DArchitecture="$arch"
  (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 --no-run-if-empty md5sum) >"$tree/DEBIAN/md5sums"
  find "$tree" -type d -exec chmod 0755 {} +
  chmod 0644 "$tree"/DEBIAN/*
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$out/" >/dev/null
done

cd "$out"
debs=()
for pkg in "${pkgs[@]}"; do debs+=("${pkg}_${debver}_${arch}.deb"); done
for deb in "${debs[@]}"; do
  [ -f "$deb" ] || die "dpkg-deb did not make $deb"
  echo "make deb: target/deb/$deb ($(du -k "$deb" | cut -f1) KiB): $(dpkg-deb -f "$deb" Depends)"
done
# lintian: any error or warning fails the build, but for the tags accepted here, each with
# its reason:
#   initial-upload-closes-no-bugs  about uploads to the Debian archive (whose first upload
#                                  closes an ITP bug); these packages are not uploaded there.
accepted=initial-upload-closes-no-bugs
lintian --fail-on error,warning --display-level '>=warning' --suppress-tags "$accepted" "${debs[@]}" \
  || die "lintian found errors or warnings (above)"
echo "make deb: lintian: no error or warning"
