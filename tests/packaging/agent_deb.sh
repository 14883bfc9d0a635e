#!/usr/bin/env bash
# The guest package: builds prescient-agent_<version>_<arch>.deb with hack/build-agent-deb.sh from the
# built agent and inspects it with dpkg-deb --info/--contents (and lintian when installed):
#   - control: name, the CMake project version, this machine's architecture, a Depends entry for the
#     package owning every library `ldd` resolves for the binary (checked here independently) and
#     nothing else but adduser; dpkg --dry-run --install finds every dependency satisfiable here;
#   - contents: exactly the expected files, with the expected modes, owned by root;
#   - the packaged binary is stripped and runs (--help); the unit is hack/guest's as is, and its
#     ExecStart names a file the package installs; the cloud-init example is valid YAML naming no
#     other path for the binary; /etc/default/prescient-agent is a conffile; the maintainer
#     scripts parse (sh -n) and postinst creates the prescient-run user the unit names;
#   - lintian reports no error (warnings are printed).
# Needs BIN_DIR (default build/bin) with prescient-agent, dpkg-deb; lintian optional.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=hack/lib/deb-deps.sh
source hack/lib/deb-deps.sh
BIN_DIR="${BIN_DIR:-build/bin}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "agent_deb: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "agent_deb: ok: $*"; }

deb=$(hack/build-agent-deb.sh --bin-dir "$BIN_DIR" --out-dir "$work") || { echo "agent_deb: FAIL: hack/build-agent-deb.sh failed" >&2; exit 1; }
version=$(sed -n 's/^project(prescient VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "prescient-agent_${version}_${arch}.deb" ] || fail "unexpected file name $(basename "$deb")"

# ---- control --------------------------------------------------------------------------------------------
dpkg-deb --info "$deb" >"$work/info.txt" || { echo "agent_deb: FAIL: dpkg-deb --info cannot read $deb" >&2; exit 1; }
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = prescient-agent ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', CMakeLists.txt says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', not $arch"
depends=$(field Depends | tr ',' '\n' | sed -E 's/^ *//; s/ .*//' | sort -u)
expected="adduser"
while read -r lib owner; do
  [ "$owner" != - ] || { fail "no package owns $lib"; continue; }
  expected+=$'\n'"$owner"
done < <(deb_lib_owners "$BIN_DIR/prescient-agent")
expected=$(sort -u <<<"$expected")
if [ "$depends" = "$expected" ]; then
  ok "Depends lists exactly the owners of the linked libraries, and adduser: $(echo $depends)"
else
  fail "Depends differs from the packages owning the libraries ldd lists (and adduser):"
  diff <(echo "$expected") <(echo "$depends") >&2 || true
fi
field Depends | tr ',' '\n' | grep -vqE '^ *adduser$|\(>= [0-9][^)]*\)$' && fail "a library dependency has no (>= version): $(field Depends)"
if out=$(dpkg --dry-run --install "$deb" 2>&1); then ok "dpkg --dry-run --install: every dependency is satisfiable"; else fail "dpkg --dry-run --install: $out"; fi
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" = /etc/default/prescient-agent ] || fail "conffiles should list /etc/default/prescient-agent only"

# ---- contents ------------------------------------------------------------------------------------------
dpkg-deb --contents "$deb" | awk '{print $1, $2, $6}' | sed 's|^\(.\{10\}\) \([^ ]*\) \./|\1 \2 /|' | sort -k3 >"$work/contents.txt"
cat >"$work/expected.txt" <<'EOF'
-rw-r--r-- root/root /etc/default/prescient-agent
-rw-r--r-- root/root /lib/systemd/system/prescient-agent.service
-rwxr-xr-x root/root /usr/bin/prescient-agent
-rw-r--r-- root/root /usr/share/doc/prescient-agent/README.md
-rw-r--r-- root/root /usr/share/doc/prescient-agent/changelog.gz
-rw-r--r-- root/root /usr/share/doc/prescient-agent/copyright
-rw-r--r-- root/root /usr/share/doc/prescient-agent/examples/cloud-init.yaml
-rw-r--r-- root/root /usr/share/man/man8/prescient-agent.8.gz
EOF
if diff <(grep -v '^d' "$work/contents.txt") "$work/expected.txt" >"$work/contents.diff"; then
  ok "contents: $(wc -l <"$work/expected.txt") files with the expected modes, owned by root"
else
  fail "dpkg-deb --contents differs from the expected files (- got, + expected):"; cat "$work/contents.diff" >&2
fi
grep '^d' "$work/contents.txt" | grep -v 'drwxr-xr-x root/root' && fail "a directory is not drwxr-xr-x root/root"

# ---- the files ----------------------------------------------------------------------------------------------
x="$work/root"
dpkg-deb -x "$deb" "$x"
if readelf -S "$x/usr/bin/prescient-agent" | grep -qE '\.debug_|\.symtab'; then fail "the packaged binary is not stripped"; else ok "the binary is stripped"; fi
if "$x/usr/bin/prescient-agent" --help | grep -q -- '--kubeconfig'; then ok "the packaged binary runs (--help)"; else fail "the packaged binary does not run --help"; fi
unit="$x/lib/systemd/system/prescient-agent.service"
if diff hack/guest/prescient-agent.service "$unit" >/dev/null; then
  ok "the unit is hack/guest/prescient-agent.service"
else
  fail "the packaged unit is not hack/guest/prescient-agent.service"
fi
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$x$exec_path" ] || fail "the unit's ExecStart $exec_path is not a file the package installs"
run_user=$(grep -oE -- '--run-as-user [a-z_-]+' "$unit" | awk '{print $2}')
dpkg-deb --ctrl-tarfile "$deb" | tar -xf - -C "$work" ./postinst ./prerm ./postrm
for s in postinst prerm postrm; do sh -n "$work/$s" || fail "DEBIAN/$s does not parse"; done
grep -qE "adduser --system .* $run_user( |\$)" "$work/postinst" || fail "postinst does not create the unit's --run-as-user '$run_user'"
python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert "runcmd" in d and "write_files" in d' \
  "$x/usr/share/doc/prescient-agent/examples/cloud-init.yaml" || fail "the cloud-init example is not the #cloud-config with runcmd/write_files"
grep -q /usr/local/bin "$x/usr/share/doc/prescient-agent/examples/cloud-init.yaml" && fail "the packaged cloud-init example still names /usr/local/bin"
zcat "$x/usr/share/man/man8/prescient-agent.8.gz" | grep -q -- 'metrics-bind-address' || fail "the man page does not carry the options"
ok "unit ExecStart $exec_path is installed; maintainer scripts parse; postinst creates '$run_user'; cloud-init example and man page"

# ---- lintian ------------------------------------------------------------------------------------------------
if command -v lintian >/dev/null; then
  lintian --allow-root "$deb" >"$work/lintian.txt" 2>&1 || true
  cat "$work/lintian.txt"
  if grep -q '^E:' "$work/lintian.txt"; then fail "lintian reports errors"; else ok "lintian: no errors"; fi
else
  echo "agent_deb: lintian is not installed (hack/install-deps.sh): not run"
fi

[ "$failures" -eq 0 ] || { echo "agent_deb: $failures failure(s)" >&2; exit 1; }
echo "agent_deb: ok: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
