# Sourced by scripts that map binaries' shared libraries to Debian packages (hack/check-packaging.sh,
# tests/packaging/agent_deb.sh). Bash; defines functions only.

# deb_lib_owners BINARY...
# Prints "LIBRARY PACKAGE" for every shared library ldd resolves for the binaries (each library once,
# sorted), PACKAGE being the Debian package that owns it, or "-" when dpkg knows none. Libraries ldd
# cannot resolve are not listed (grep ldd's output for "not found" to catch those).
# One dpkg -S for every path (each call reads the whole database): on a merged-/usr system dpkg knows
# some libraries as /lib/..., others as /usr/lib/..., so both the path ldd prints and its real path
# are asked.
deb_lib_owners() {
  local libs owners lib real owner
  mapfile -t libs < <(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
  [ ${#libs[@]} -gt 0 ] || return 0
  owners=$(for lib in "${libs[@]}"; do echo "$lib"; readlink -f "$lib"; done | sort -u | xargs dpkg -S 2>/dev/null || true)
  for lib in "${libs[@]}"; do
    real=$(readlink -f "$lib")
    owner=$(awk -v a="$lib" -v b="$real" '{p = $NF} p == a || p == b {sub(/:.*/, "", $1); print $1; exit}' <<<"$owners")
    echo "$lib ${owner:--}"
  done
}
