#!/usr/bin/env bash
# Plugin client benchmark (release build): provider start-up (spawn →
# handshake → first GetProviderSchema), one PlanResourceChange round trip,
# and calls/s of one provider process under 1/4/16/64 concurrent callers.
#
# Plugins: the real hashicorp/null 2.1.2 and aws 3.39.0 (protocol 5) from
# the peer mirror (../shared/peer/setup.sh, /tmp/terrane-peer by default)
# and the in-repo protocol-6 test provider (crates/terrane-testprovider).
# Knobs: STARTUP_REPS (10), CALLS (2000), SECONDS per concurrency level (3),
# SKIP_AWS=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
mirror="$peer/mirror/registry.terraform.io/hashicorp"

(cd "$root" && cargo build --release -q -p terrane-testprovider)
(cd "$here/plugin" && CARGO_TARGET_DIR="$root/target" cargo build --release -q)

args=()
null_bin=$(ls "$mirror"/null/2.1.2/linux_amd64/terraform-provider-null* 2>/dev/null | head -1 || true)
aws_bin=$(ls "$mirror"/aws/3.39.0/linux_amd64/terraform-provider-aws* 2>/dev/null | head -1 || true)
[ -n "$null_bin" ] && args+=("null=$null_bin") || echo "no null plugin under $mirror (skipped)" >&2
args+=("terranetest=$root/target/release/terraform-provider-terranetest")
if [ -z "${SKIP_AWS:-}" ] && [ -n "$aws_bin" ]; then args+=("aws=$aws_bin"); fi

echo "# $(date -u +%FT%TZ) $(nproc) CPUs"
"$root/target/release/terrane-plugin-bench" "${args[@]}"
