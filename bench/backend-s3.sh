#!/usr/bin/env bash
# Save latency of the s3 backend (S3 + DynamoDB locking) against one
# moto_server on loopback: `terraform state push -force` (Terraform 1.0.3)
# versus `terrane state push -force` and terrane's s3 backend library doing
# the same in one process (the s3_push example: configure, lock, read,
# write, unlock), for states of N null_resource instances. Each figure is
# the median wall time of REPS whole-process runs; the library's in-process
# lock+read+write+unlock time is shown beside it.
#
#   bench/backend-s3.sh               # N = 1000 10000, 5 runs each
#   NS="1000" REPS=3 bench/backend-s3.sh
set -euo pipefail

NS=${NS:-"1000 10000"}
REPS=${REPS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
. "${TERRANE_PEER_DIR:-/tmp/terrane-peer}/env.sh"
export AWS_EC2_METADATA_DISABLED=true

cargo build --release -q -p terrane-backend-s3 --example s3_push --manifest-path "$root/Cargo.toml"
cargo build --release -q -p terrane-cli --manifest-path "$root/Cargo.toml"
push="${CARGO_TARGET_DIR:-$root/target}/release/examples/s3_push"
terrane="${CARGO_TARGET_DIR:-$root/target}/release/terrane"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.2
done
endpoint="http://127.0.0.1:$port"
auth() { echo "Authorization: AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/$1/aws4_request, SignedHeaders=host, Signature=0"; }
curl -sf -X PUT "$endpoint/bench" -H "$(auth s3)" >/dev/null
curl -sf -X POST "$endpoint/" -H "$(auth dynamodb)" \
  -H "X-Amz-Target: DynamoDB_20120810.CreateTable" -H "Content-Type: application/x-amz-json-1.0" \
  -d '{"TableName":"locks","KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}' >/dev/null

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| instances | state size | Terraform 1.0.3 state push (ms) | terrane state push (ms) | library, whole process (ms) | library lock+read+write+unlock (ms) |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $NS; do
  state="$work/state-$n.json"
  python3 - "$n" "$state" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
instances = [{"index_key": i, "schema_version": 0,
              "attributes": {"id": str(1000000000000000000 + i), "triggers": None},
              "sensitive_attributes": [], "private": "bnVsbA=="} for i in range(n)]
state = {"version": 4, "terraform_version": "1.0.3", "serial": 1,
         "lineage": "6e4f1c2a-0000-4000-8000-%012d" % n, "outputs": {},
         "resources": [{"mode": "managed", "type": "null_resource", "name": "n",
                        "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
                        "instances": instances}]}
with open(path, "w") as f:
    json.dump(state, f, indent=2)
    f.write("\n")
PY
  size=$(du -k "$state" | cut -f1)

  backend_dir() { # DIR KEY
    mkdir -p "$1"
    cat >"$1/main.tf" <<TF
terraform {
  backend "s3" {
    bucket                      = "bench"
    key                         = "$2"
    region                      = "us-east-1"
    endpoint                    = "$endpoint"
    dynamodb_endpoint           = "$endpoint"
    dynamodb_table              = "locks"
    force_path_style            = true
    access_key                  = "AKIATEST"
    secret_key                  = "secret"
    skip_credentials_validation = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
  }
}
TF
  }
  tf="$work/tf-$n"
  backend_dir "$tf" "tf-$n.tfstate"
  (cd "$tf" && terraform init -input=false -no-color >/dev/null)
  tf_times=()
  for _ in $(seq "$REPS"); do
    t0=$(now_ms)
    (cd "$tf" && terraform state push -force "$state" >/dev/null)
    tf_times+=($(( $(now_ms) - t0 )))
  done

  cli="$work/terrane-$n"
  backend_dir "$cli" "cli-$n.tfstate"
  (cd "$cli" && "$terrane" init -input=false -no-color >/dev/null)
  cli_times=()
  for _ in $(seq "$REPS"); do
    t0=$(now_ms)
    (cd "$cli" && "$terrane" state push -force "$state" >/dev/null)
    cli_times+=($(( $(now_ms) - t0 )))
  done

  tr_times=()
  tr_inner=()
  for _ in $(seq "$REPS"); do
    t0=$(now_ms)
    inner=$("$push" "$state" bucket=bench key="terrane-$n.tfstate" region=us-east-1 \
      endpoint="$endpoint" dynamodb_endpoint="$endpoint" dynamodb_table=locks \
      force_path_style=true access_key=AKIATEST secret_key=secret \
      skip_credentials_validation=true skip_metadata_api_check=true 2>&1 >/dev/null)
    tr_times+=($(( $(now_ms) - t0 )))
    tr_inner+=("$inner")
  done
  printf '| %s | %s KiB | %s | %s | %s | %s |\n' "$n" "$size" \
    "$(printf '%s\n' "${tf_times[@]}" | median)" \
    "$(printf '%s\n' "${cli_times[@]}" | median)" \
    "$(printf '%s\n' "${tr_times[@]}" | median)" \
    "$(printf '%s\n' "${tr_inner[@]}" | median)"
done
