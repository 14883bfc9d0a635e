#!/usr/bin/env bash
# Builds the guest package of the in-VM agent: prescient-agent_<version>_<arch>.deb, with dpkg-deb.
#
#   hack/build-agent-deb.sh [--bin-dir build/bin] [--out-dir .] [--version 0.1.0]
#
# Why a .deb and not a static binary: the agent links cpprestsdk, OpenSSL, Boost.ProgramOptions,
# yaml-cpp and prometheus-cpp (civetweb), and Debian ships no static archives for cpprestsdk or
# prometheus-cpp; a fully static glibc binary also loses NSS (the agent resolves --run-as-user with
# getpwnam). So the package carries the dynamically linked binary and declares, as Depends, exactly the
# Debian packages owning the libraries `ldd` reports (mapped with `dpkg -S`, as hack/check-packaging.sh
# does for the container image), each at least at the upstream version it was built against. It
# installs on Debian 12 (bookworm) guests of the build machine's architecture, or later releases that
# keep those library packages.
#
# Contents:
#   /usr/bin/prescient-agent                       the binary, stripped
#   /lib/systemd/system/prescient-agent.service    hack/guest/prescient-agent.service
#   /etc/default/prescient-agent                   PRESCIENT_AGENT_ARGS= (a conffile)
#   /usr/share/doc/prescient-agent/                README (hack/guest/README.md), examples/cloud-init.yaml
#                                                  (hack/guest/cloud-init.yaml), copyright,
#                                                  changelog.gz
#   /usr/share/man/man8/prescient-agent.8.gz       from --help
# Maintainer scripts: postinst creates the system user `prescient-run` that the unit runs commands as
# and reloads systemd (the unit is enabled by cloud-init or by hand: it needs /etc/prescient/instance
# and a kubeconfig first); prerm stops the agent on removal; postrm purge deletes its state and logs.
# Prints the path of the .deb it wrote.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/build/bin"
OUT_DIR="$PWD"
VERSION=$(sed -n 's/^project(prescient VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN_DIR="$2"; shift 2 ;;
    --out-dir) OUT_DIR="$2"; shift 2 ;;
    --version) VERSION="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-agent-deb: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "build-agent-deb: $*" >&2; exit 1; }
bin="$BIN_DIR/prescient-agent"
[ -x "$bin" ] || die "$bin is not built (cmake --build <dir> --target prescient-agent)"
[[ "$VERSION" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || die "version '$VERSION' is not a Debian version"
for t in dpkg-deb dpkg-query ldd strip gzip; do command -v "$t" >/dev/null || die "$t is not installed"; done
guest="$ROOT/hack/guest"
for f in prescient-agent.service cloud-init.yaml README.md; do [ -f "$guest/$f" ] || die "$guest/$f is missing"; done
arch=$(dpkg --print-architecture)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/prescient-agent"
doc="$pkg/usr/share/doc/prescient-agent"
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/default" "$doc/examples" \
  "$pkg/usr/share/man/man8"

install -m 0755 "$bin" "$pkg/usr/bin/prescient-agent"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/bin/prescient-agent"
# The unit and the cloud-init example from hack/guest/ run /usr/bin/prescient-agent, where the binary
# is installed above (tests/agent/guest_files_test.cc checks they agree): packaged verbatim.
cp "$guest/prescient-agent.service" "$pkg/lib/systemd/system/prescient-agent.service"
cp "$guest/cloud-init.yaml" "$doc/examples/cloud-init.yaml"
chmod 0644 "$pkg/lib/systemd/system/prescient-agent.service" "$doc/examples/cloud-init.yaml"
install -m 0644 "$guest/README.md" "$doc/README.md"
cat >"$pkg/etc/default/prescient-agent" <<'EOF'
# Extra flags for prescient-agent (prescient-agent --help), e.g.
#   PRESCIENT_AGENT_ARGS="--allowed-namespaces=team-a --sample-interval=1s"
PRESCIENT_AGENT_ARGS=
EOF
chmod 0644 "$pkg/etc/default/prescient-agent"
echo /etc/default/prescient-agent >"$pkg/DEBIAN/conffiles"

cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: prescient
Comment: The repository has no LICENSE file yet; this package states no license until it has one.

Files: *
Copyright: $(date -u +%Y -d "@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}") The Prescient authors
License: UNSPECIFIED
 No license has been chosen for Prescient yet.
EOF
date_rfc2822=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'prescient-agent (%s) unstable; urgency=medium\n\n  * Built by hack/build-agent-deb.sh from %s.\n\n -- Prescient maintainers <maintainers@prescient.dev>  %s\n' \
  "$VERSION" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'an unknown revision')" "$date_rfc2822" \
  | gzip -9n >"$doc/changelog.gz"

# A man page from --help (the options are the reference).
help=$("$bin" --help 2>&1) || die "$bin --help failed: $help"
{
  echo ".TH PRESCIENT-AGENT 8 \"\" \"prescient-agent $VERSION\" \"System Administration\""
  echo ".SH NAME"
  echo "prescient-agent \\- runs Prescient CommandRuns in this VM under their allocated cgroup limits"
  echo ".SH SYNOPSIS"
  echo ".B prescient-agent"
  echo "[\\fIOPTIONS\\fR]"
  echo ".SH DESCRIPTION"
  echo "The in-guest agent of Prescient: it watches the CommandRuns bound to its KubeVirt VMI, runs each"
  echo "command under the allocation's cgroup limits as an unprivileged user and reports the measured usage."
  echo "It is started by the prescient-agent systemd unit; see /usr/share/doc/prescient-agent/README.md."
  echo ".SH OPTIONS"
  echo ".nf"
  sed 's/\\/\\\\/g; s/^\./\\\&./' <<<"$help"
  echo ".fi"
} | gzip -9n >"$pkg/usr/share/man/man8/prescient-agent.8.gz"

# Depends: the packages owning what ldd resolves, at least at the upstream version built against.
# One dpkg -S for every path (each call reads the whole database): on a merged-/usr system dpkg knows
# some libraries as /lib/..., others as /usr/lib/..., so both the path ldd prints and its real path are asked.
mapfile -t libs < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
[ ${#libs[@]} -gt 0 ] || die "ldd lists no shared library for $bin"
owners=$(for l in "${libs[@]}"; do echo "$l"; readlink -f "$l"; done | sort -u | xargs dpkg -S 2>/dev/null || true)
depends=()
for lib in "${libs[@]}"; do
  real=$(readlink -f "$lib")
  owner=$(awk -v a="$lib" -v b="$real" '{p = $NF} p == a || p == b {sub(/:.*/, "", $1); print $1; exit}' <<<"$owners")
  [ -n "$owner" ] || die "ldd: $lib (linked by $bin) belongs to no Debian package (dpkg -S found nothing)"
  depends+=("$owner")
done
if ldd "$bin" | grep -q 'not found'; then die "ldd: unresolved libraries: $(ldd "$bin" | grep 'not found' | tr -s ' \t' ' ')"; fi
dep_line=""
for p in $(printf '%s\n' "${depends[@]}" | sort -u); do
  v=$(dpkg-query -W -f='${Version}' "$p")
  v=${v#*:}; v=${v%-*}   # upstream version: no epoch handling needed for these, no Debian revision
  dep_line+="$p (>= $v), "
done
dep_line+="adduser"

installed_kb=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<EOF
Package: prescient-agent
Version: $VERSION
Architecture: $arch
Maintainer: Prescient maintainers <maintainers@prescient.dev>
Installed-Size: $installed_kb
Depends: $dep_line
Section: admin
Priority: optional
Homepage: https://github.com/prescient-dev/prescient
Description: Prescient in-guest agent for KubeVirt VMs
 Runs the CommandRuns that the Prescient operator places on this virtual
 machine: each command runs under the cgroup limits of its allocation, as an
 unprivileged user, and its measured CPU, memory, disk and network usage is
 reported back to the CommandRun's status so the operator's model learns.
 .
 The agent talks only to the Kubernetes API; nothing connects to the guest.
EOF

cat >"$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # The unprivileged user commands run as (the unit's --run-as-user).
  if ! getent passwd prescient-run >/dev/null; then
    adduser --system --group --no-create-home --home /nonexistent --shell /usr/sbin/nologin prescient-run >/dev/null
  fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
fi
exit 0
EOF
cat >"$pkg/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
# Only on removal: an upgrade restarts the agent, and runs survive it (KillMode=process).
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  deb-systemd-invoke stop prescient-agent.service >/dev/null || true
fi
exit 0
EOF
cat >"$pkg/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
  rm -rf /var/lib/prescient-agent /var/log/prescient-agent
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
EOF
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums" "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles"

mkdir -p "$OUT_DIR"
out="$OUT_DIR/prescient-agent_${VERSION}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
