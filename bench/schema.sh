#!/usr/bin/env bash
# `providers schema -json` for hashicorp/aws 3.39.0 (+ null 2.1.2), release
# build: terrane with an empty schema cache (cold: hashes the 177 MB
# binary, starts the plugin, fetches and stores the schema), terrane with
# the cache filled (warm: no plugin process), and Terraform 1.0.3 (which
# starts the plugin and fetches the schema every run). Wall time and peak
# RSS from /usr/bin/time -v; REPS runs each (default 3), median shown.
#
# Needs the peer (../shared/peer/setup.sh; /tmp/terrane-peer by default).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
reps="${REPS:-3}"

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && CARGO_TARGET_DIR="$target" cargo build --release -q -p terrane-cli)
terrane="$target/release/terrane"
terraform="$peer/bin/terraform"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/main.tf" <<'EOF'
terraform {
  required_providers {
    aws  = { source = "hashicorp/aws", version = "3.39.0" }
    null = { source = "hashicorp/null", version = "2.1.2" }
  }
}
EOF
export TF_CLI_CONFIG_FILE="$peer/terraformrc" CHECKPOINT_DISABLE=1
unset TF_LOG TF_PLUGIN_CACHE_DIR TERRANE_PROVIDERS
(cd "$work" && "$terrane" init -no-color > /dev/null)

# measure LABEL SETUP-COMMAND TOOL: runs SETUP then TOOL providers schema
# -json REPS times; prints the median wall seconds and peak RSS (MB).
measure() {
  local label=$1 setup=$2 tool=$3 walls=() rsss=()
  for _ in $(seq "$reps"); do
    eval "$setup"
    (cd "$work" && /usr/bin/time -v "$tool" providers schema -json > "$work/out.json" 2> "$work/time.txt")
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$work/time.txt")")
    rsss+=("$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time.txt")")
  done
  local wall rss
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rss=$(printf '%s\n' "${rsss[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-34s %8.2f s %8s MB   (%s bytes of JSON)\n' "$label" "$wall" "$rss" "$(wc -c < "$work/out.json")"
}

export TERRANE_SCHEMA_CACHE_DIR="$work/cache"
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, median of $reps"
measure "terrane cold (empty cache)" 'rm -rf "$work/cache"' "$terrane"
measure "terrane warm (cache filled)" ':' "$terrane"
measure "terrane, binary hash memo only" 'rm -rf "$work/cache/schemas"' "$terrane"
measure "terrane, cache off" 'export TERRANE_SCHEMA_CACHE_DIR=off' "$terrane"
export TERRANE_SCHEMA_CACHE_DIR="$work/cache"
measure "terraform 1.0.3" ':' "$terraform"
