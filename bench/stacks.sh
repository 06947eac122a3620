#!/usr/bin/env bash
# `terrane stacks apply` over a generated repository of 30 stacks (the
# shape of tests/stacks.rs: a chain net -> c1..c5 -> edge, twelve apps
# reading net, six independent services, d2..d5 after d1 through
# terrane.hcl), serial (-parallelism=1) against -parallelism=4.
#
# Each stack holds SLEEP of time_sleep (a stand-in for cloud API latency)
# plus a local_file whose content comes from its upstream's state.
# SLEEP=0s measures the bare cost of the child processes.
#
#   bench/stacks.sh                 # release build, SLEEP=1s, REPS=1
#   SLEEP=0s REPS=3 bench/stacks.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tool="${TERRANE:-$root/target/release/terrane}"
sleep_for="${SLEEP:-1s}"
reps="${REPS:-1}"
[ -x "$tool" ] || (cd "$root" && cargo build --release -p terrane-cli --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

stack() { # dir, upstream dirs...
  local dir="$1"; shift
  local depth up name prefix="" parts=() i=0
  depth=$(echo "$dir" | awk -F/ '{print NF}')
  up=$(printf '../%.0s' $(seq 1 "$depth"))
  name="${dir##*/}"
  mkdir -p "$work/repo/$dir"
  {
    printf 'terraform {\n  required_providers {\n    local = { source = "hashicorp/local" }\n    time = { source = "hashicorp/time" }\n  }\n}\n\n'
    for u in "$@"; do
      printf 'data "terraform_remote_state" "up%d" {\n  backend = "local"\n  config = { path = "%s%s/terraform.tfstate" }\n}\n\n' "$i" "$up" "$u"
      parts+=("\${data.terraform_remote_state.up$i.outputs.chain}")
      i=$((i + 1))
    done
    if [ "${#parts[@]}" -gt 0 ]; then prefix="$(IFS=+; echo "${parts[*]}")>"; fi
    printf 'resource "time_sleep" "api" {\n  create_duration = "%s"\n}\n\n' "$sleep_for"
    printf 'resource "local_file" "order" {\n  filename   = "${path.module}/order.txt"\n  content    = "%s%s"\n  depends_on = [time_sleep.api]\n}\n\n' "$prefix" "$name"
    printf 'output "chain" {\n  value = local_file.order.content\n}\n'
  } >"$work/repo/$dir/main.tf"
}

generate() {
  rm -rf "$work/repo"
  stack net
  stack chain/c1 net
  for i in 2 3 4 5; do stack "chain/c$i" "chain/c$((i - 1))"; done
  for i in $(seq -w 1 12); do stack "apps/a$i" net; done
  for i in $(seq -w 1 6); do stack "svc/s$i"; done
  for i in 1 2 3 4 5; do stack "data/d$i"; done
  stack edge chain/c5 apps/a01
  for i in 2 3 4 5; do printf 'stack "data/d%s" {\n  depends_on = ["../d1"]\n}\n' "$i"; done >"$work/repo/terrane.hcl"
  (cd "$work/repo" && git init -q && git add . && git -c user.name=b -c user.email=b@example.com commit -qm stacks)
}

run() { # parallelism -> seconds
  generate
  local start end
  start=$(date +%s.%N)
  (cd "$work/repo" && TERRANE_PROVIDERS=builtin "$tool" stacks apply -parallelism="$1" -progress=false -json >"$work/out.json" 2>"$work/err.txt") || {
    echo "stacks apply failed:" >&2; cat "$work/err.txt" >&2; exit 1
  }
  end=$(date +%s.%N)
  python3 -c "import json,sys; d=json.load(open('$work/out.json')); assert d['summary']['ok']==30, d['summary']"
  echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "30 stacks, time_sleep $sleep_for each, $reps run(s) each, $(nproc) CPUs"
declare -A result
for p in 1 4; do
  times=""
  for _ in $(seq 1 "$reps"); do times+="$(run "$p")"$'\n'; done
  result[$p]=$(printf '%s' "$times" | median)
  printf -- '-parallelism=%s  %6.2f s\n' "$p" "${result[$p]}"
done
printf 'speedup          %6.2fx\n' "$(echo "${result[1]} / ${result[4]}" | bc -l)"
