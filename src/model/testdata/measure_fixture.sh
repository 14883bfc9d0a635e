#!/usr/bin/env bash
# Measures a small set of real commands on this machine with GNU time and writes them as history
# lines (the documented schema) to stdout. Used to build the unit-test fixture real_runs.jsonl;
# every number in that file comes from a run of this script, none is invented.
# Usage: measure_fixture.sh [ROUNDS] > real_runs.jsonl   (runs under nice; needs python3 for JSON)
set -euo pipefail
ROUNDS=${1:-3}
WORK=$(mktemp -d /tmp/prescient-fixture.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
VM_CPUS=$(nproc)
VM_MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024 ))
for s in 64K 1M 4M 16M; do
  head -c "$s" /dev/urandom > "rand-$s.bin"
  seq 1 $(( $(numfmt --from=iec "$s") / 7 )) | shuf --random-source=<(yes) > "text-$s.txt"
done
sqlite3 db.sqlite "create table t(a integer, b text); with recursive c(x) as (select 1 union all select x+1 from c where x<50000) insert into t select x, hex(randomblob(16)) from c;"

run() {  # run INPUT_FILE COMMAND...
  local input=$1; shift
  local cmd="$*"
  local in_bytes=0
  [ -n "$input" ] && in_bytes=$(stat -c %s "$input")
  local start; start=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  /usr/bin/time -o "$WORK/time.out" -f '%e %U %S %M %I %O %x' nice -n 5 bash -c "$cmd" >/dev/null 2>&1 || true
  local out; out=$(tail -n1 "$WORK/time.out")
  python3 - "$start" "$cmd" "$in_bytes" "$VM_CPUS" "$VM_MEM" $out <<'PY'
import json, sys
start, cmd, in_bytes, cpus, mem, e, u, s, m, i, o, x = sys.argv[1:13]
e, u, s = float(e), float(u), float(s)
rec = {"time": start, "command": cmd, "user": "fixture",
       "context": {"vm_cpus": int(cpus), "vm_memory_bytes": int(mem)},
       "usage": {"cpu_seconds": round(u + s, 3), "memory_peak_bytes": int(m) * 1024,
                 "disk_read_bytes": int(i) * 512, "disk_write_bytes": int(o) * 512,
                 "duration_seconds": e, "exit_code": int(x)},
       "endpoints": []}
if int(in_bytes) > 0:
    rec["context"]["input_bytes"] = int(in_bytes)
print(json.dumps(rec))
PY
}

for r in $(seq 1 "$ROUNDS"); do
  for s in 64K 1M 4M 16M; do
    f=rand-$s.bin; t=text-$s.txt
    for lvl in 1 6 9; do run $f "gzip -$lvl -c $f > out.gz"; done
    run $f "bzip2 -c $f > out.bz2"
    for lvl in 1 6; do run $f "xz -$lvl -T1 -c $f > out.xz"; done
    for lvl in 1 9; do run $f "zstd -q -$lvl -c $f > out.zst"; done
    run $t "sort $t > sorted.txt"
    run $t "sort -n -S 8M $t | uniq -c > counts.txt"
    run $t "sort -R $t | head -n 100"
    run $f "sha256sum $f"
    run $f "md5sum $f"
    run $f "base64 $f > out.b64"
    run $t "wc -l $t"
    run $t "grep -c 99 $t"
    run $t "awk '{s+=\$1} END {print s}' $t"
    run $f "tar czf out.tgz $f"
    run $f "cp $f copy.bin"
    run $t "cat $t | tr 0-9 a-j | sort | uniq | wc -l"
    run $f "openssl dgst -sha512 $f"
  done
  for n in 1000 100000 1000000; do
    run "" "python3 -c 'x=list(range($n)); print(sum(x))'"
    run "" "seq $n | paste -sd+ | bc"
  done
  for c in 100 1000 10000; do
    run "" "dd if=/dev/zero of=zero.bin bs=64K count=$c"
  done
  run db.sqlite "sqlite3 db.sqlite 'select count(*), sum(length(b)) from t'"
  run db.sqlite "sqlite3 db.sqlite 'select b from t order by b limit 10'"
  run "" "find /usr/include -name '*.h' | wc -l"
  run "" "ls -lR /usr/share/doc > /dev/null"
done
