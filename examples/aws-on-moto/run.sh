#!/usr/bin/env bash
# Apply, re-plan and destroy the stack in main.tf against moto_server on
# loopback (no AWS account needed).
#
#   examples/aws-on-moto/run.sh            # uses ./target/release/terrane
#   TERRANE=terraform examples/aws-on-moto/run.sh   # the same with Terraform
#
# Needs moto_server (PyPI moto[server]) and the hashicorp/aws 3.39.0 plugin
# from a provider mirror (../shared/peer/setup.sh installs one and writes a
# CLI config: `. /tmp/terrane-peer/env.sh` sets TF_CLI_CONFIG_FILE).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tool="${TERRANE:-$root/target/release/terrane}"
port="${MOTO_PORT:-5077}"
work="$(mktemp -d)"

moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Wait for moto to listen (bounded).
for _ in $(seq 1 50); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
  sleep 0.2
done

cp "$here/main.tf" "$work/"
cd "$work"
export TF_VAR_endpoint="http://127.0.0.1:$port"
"$tool" init -input=false -no-color
"$tool" apply -auto-approve -input=false -no-color
"$tool" plan -input=false -no-color -detailed-exitcode || {
  code=$?
  # 2 means the re-plan found changes; anything else is an error.
  echo "re-plan exit code $code" >&2
  exit "$code"
}
"$tool" destroy -auto-approve -input=false -no-color
