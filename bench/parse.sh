#!/usr/bin/env bash
# Side-by-side: Terraform 1.0.3 vs terrane on loading and formatting large
# configurations. Prints wall time, peak RSS and the ratios (not a test).
#
#   bench/parse.sh                 # N=20000 (the 8.6 MB file) and N=5000
#   NS="5000 20000" REPS=3 bench/parse.sh
#
# Shapes: `bigfile` (one file of N blocks, from ../shared/peer/gen.py) and
# `spread` (the same blocks split over 200 files). Steps: `validate` (after
# an offline `terraform init` for Terraform; terrane needs none) and
# `fmt -check`. Linearity: terrane's time for 4x the blocks is printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
peer="${PEER_SRC:-$root/../shared/peer}"
NS="${NS:-5000 20000}"
REPS="${REPS:-1}"
SKIP_TERRAFORM="${SKIP_TERRAFORM:-0}"
work="${BENCH_DIR:-/tmp/terrane-bench-parse}"

if [ "$SKIP_TERRAFORM" != 1 ]; then
  SKIP_AWS=1 SKIP_VERIFY=1 bash "$peer/setup.sh" >/dev/null
  # shellcheck disable=SC1091
  . "${PEER_DIR:-/tmp/terrane-peer}/env.sh"
fi
(cd "$root" && cargo build --release -q -p terrane-cli)
terrane="$root/target/release/terrane"
rm -rf "$work" && mkdir -p "$work"
csv="$work/results.csv"
echo "tool,shape,n,step,rep,wall_s,max_rss_kb,exit" > "$csv"

measure() { # tool shape n step rep dir cmd...
  local tool=$1 shape=$2 n=$3 step=$4 rep=$5 dir=$6; shift 6
  local out="$work/time.txt"
  ( cd "$dir" && /usr/bin/time -v -o "$out" "$@" >/dev/null 2>"$work/last.log" ) && ec=0 || ec=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$tool,$shape,$n,$step,$rep,$wall,$rss,$ec" >> "$csv"
}

for n in $NS; do
  big="$work/bigfile-$n"; python3 "$peer/gen.py" bigfile "$n" "$big" >/dev/null
  spread="$work/spread-$n"; mkdir -p "$spread"
  python3 - "$big/main.tf" "$spread" <<'PY'
import sys, re, os
src, out = sys.argv[1], sys.argv[2]
text = open(src).read()
# Split at top-level blocks (lines starting a block at column 0).
blocks = re.split(r'(?m)^(?=\S.*\{\s*$)', text)
head = [b for b in blocks if b.startswith('terraform') or b.startswith('provider')]
rest = [b for b in blocks if b and b not in head]
files = 200
per = max(1, (len(rest) + files - 1) // files)
open(os.path.join(out, 'versions.tf'), 'w').write(''.join(head))
for i in range(0, len(rest), per):
    open(os.path.join(out, 'r%03d.tf' % (i // per)), 'w').write(''.join(rest[i:i+per]))
PY
  for shape in bigfile spread; do
    dir="$work/$shape-$n"
    if [ "$SKIP_TERRAFORM" != 1 ]; then
      (cd "$dir" && terraform init -input=false >/dev/null)
    fi
    for rep in $(seq 1 "$REPS"); do
      measure terrane "$shape" "$n" validate "$rep" "$dir" "$terrane" validate -no-color
      measure terrane "$shape" "$n" fmt_check "$rep" "$dir" "$terrane" fmt -check
      if [ "$SKIP_TERRAFORM" != 1 ]; then
        measure terraform "$shape" "$n" validate "$rep" "$dir" terraform validate -no-color
        measure terraform "$shape" "$n" fmt_check "$rep" "$dir" terraform fmt -check
      fi
    done
  done
done

python3 - "$csv" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
def med(tool, shape, n, step, key):
    v = [float(r[key]) for r in rows if (r['tool'], r['shape'], r['n'], r['step']) == (tool, shape, n, step) and r[key]]
    return st.median(v) if v else None
keys = sorted({(r['shape'], r['n'], r['step']) for r in rows}, key=lambda k: (k[0], int(k[1]), k[2]))
print("| shape | N | step | terraform s | terrane s | speedup | terraform MB | terrane MB | memory ratio |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
for shape, n, step in keys:
    tw, nw = med('terraform', shape, n, step, 'wall_s'), med('terrane', shape, n, step, 'wall_s')
    tr, nr = med('terraform', shape, n, step, 'max_rss_kb'), med('terrane', shape, n, step, 'max_rss_kb')
    f = lambda x, d=2: '-' if x is None else f"{x:.{d}f}"
    ratio = (tw / nw) if tw and nw else None
    mratio = (tr / nr) if tr and nr else None
    print(f"| {shape} | {n} | {step} | {f(tw)} | {f(nw, 3)} | {f(ratio, 1)}x | {f(tr and tr/1024, 0)} | {f(nr and nr/1024, 1)} | {f(mratio, 1)}x |")
ns = sorted({int(r['n']) for r in rows})
if len(ns) >= 2:
    lo, hi = ns[0], ns[-1]
    for shape in ('bigfile', 'spread'):
        for step in ('validate', 'fmt_check'):
            a, b = med('terrane', shape, str(lo), step, 'wall_s'), med('terrane', shape, str(hi), step, 'wall_s')
            if a and b:
                print(f"terrane {shape} {step}: N {lo} -> {hi} ({hi/lo:.0f}x blocks) costs {b/a:.2f}x the time")
PY
echo "raw rows: $csv"
