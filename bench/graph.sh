#!/usr/bin/env bash
# `graph` on a chain of N null_resources (each refers to the previous one):
# wall time and peak RSS of terrane and, when the peer is installed
# (. /tmp/terrane-peer/env.sh), of Terraform 1.0.3; the two DOT outputs
# must be identical.
#
#   bench/graph.sh [N] [terrane binary]
set -euo pipefail
N=${1:-1000}
BIN=$(realpath "${2:-$(dirname "$0")/../target/release/terrane}")
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
{
  echo 'resource "null_resource" "r0" {}'
  for ((i = 1; i < N; i++)); do
    printf 'resource "null_resource" "r%d" {\n  triggers = { p = null_resource.r%d.id }\n}\n' "$i" $((i - 1))
  done
} > "$DIR/main.tf"
cd "$DIR"
/usr/bin/time -f "terrane graph N=$N: %es %MKB" "$BIN" graph > terrane.dot
if command -v terraform >/dev/null && terraform version | grep -q 'v1.0.3'; then
  terraform init -input=false > /dev/null
  /usr/bin/time -f "terraform graph N=$N: %es %MKB" terraform graph > terraform.dot
  cmp -s terrane.dot terraform.dot && echo "outputs identical" || echo "outputs DIFFER"
fi
