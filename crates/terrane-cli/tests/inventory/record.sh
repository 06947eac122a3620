#!/usr/bin/env bash
# Records aws-on-moto.tfstate, the state tests/inventory.rs builds its
# inventory from: terrane applies examples/aws-on-moto against moto_server
# on loopback with the real hashicorp/aws 3.39.0 plugin.
#
#   . /tmp/terrane-peer/env.sh   # TF_CLI_CONFIG_FILE with the aws mirror
#   crates/terrane-cli/tests/inventory/record.sh [path/to/terrane]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
tool="${1:-$root/target/debug/terrane}"
port="${MOTO_PORT:-5093}"
work="$(mktemp -d)"

moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
  sleep 0.2
done

cp "$root/examples/aws-on-moto/main.tf" "$work/"
cd "$work"
export TF_VAR_endpoint="http://127.0.0.1:$port"
"$tool" init -input=false -no-color >/dev/null
"$tool" apply -auto-approve -input=false -no-color >/dev/null
cp terraform.tfstate "$here/aws-on-moto.tfstate"
echo "wrote $here/aws-on-moto.tfstate"
