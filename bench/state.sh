#!/usr/bin/env bash
# State command benchmark (release build): terrane vs Terraform 1.0.3 on a
# generated state of 15,000 instances (null_resource.many with count
# 10,000, plus 200 modules of 25 resources). Each tool starts from the
# same file and runs: state list, state rm of a module, state rm of the
# 10,000-instance resource, state mv of a module, state pull. Prints wall
# time and peak RSS per step (/usr/bin/time), then checks that both tools
# listed the same addresses and left the same state (lineage aside).
#
# Knobs: OUT (/tmp/terrane-bench-state), SKIP_TERRAFORM=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer_dir="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
out="${OUT:-/tmp/terrane-bench-state}"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --release -q -p terrane-cli)
terrane="$target/release/terrane"
rm -rf "$out" && mkdir -p "$out"
python3 - "$out/big.tfstate" <<'PY'
import json, sys, uuid
def inst(i, key):
    d = {"schema_version": 0, "attributes": {"id": str(1000000 + i), "triggers": None},
         "sensitive_attributes": [], "private": "bnVsbA=="}
    return {"index_key": i, **d} if key else d
prov = 'provider["registry.terraform.io/hashicorp/null"]'
res = [{"mode": "managed", "type": "null_resource", "name": "many", "provider": prov,
        "instances": [inst(i, True) for i in range(10000)]}]
for m in range(200):
    for r in range(25):
        res.append({"module": f"module.m{m}", "mode": "managed", "type": "null_resource",
                    "name": f"r{r}", "provider": prov, "instances": [inst(m * 100 + r, False)]})
state = {"version": 4, "terraform_version": "1.0.3", "serial": 1,
         "lineage": str(uuid.uuid4()), "outputs": {}, "resources": res}
open(sys.argv[1], "w").write(json.dumps(state, indent=2))
PY
tools=("$terrane")
if [ -z "${SKIP_TERRAFORM:-}" ] && [ -x "$peer_dir/bin/terraform" ]; then
  tools=("$peer_dir/bin/terraform" "$terrane")
fi
for tool in "${tools[@]}"; do
  name="$(basename "$tool")"
  dir="$out/$name" && mkdir -p "$dir" && cp "$out/big.tfstate" "$dir/terraform.tfstate"
  cd "$dir"
  echo "== $name"
  export CHECKPOINT_DISABLE=1
  /usr/bin/time -f "  state list          %es %MKB" "$tool" state list > list.txt
  /usr/bin/time -f "  state rm module     %es %MKB" "$tool" state rm -no-color module.m7 > /dev/null
  /usr/bin/time -f "  state rm resource   %es %MKB" "$tool" state rm -no-color null_resource.many > /dev/null
  /usr/bin/time -f "  state mv module     %es %MKB" "$tool" state mv -no-color module.m8 module.z > /dev/null
  /usr/bin/time -f "  state pull          %es %MKB" "$tool" state pull > /dev/null
done
if [ "${#tools[@]}" = 2 ]; then
  cmp -s "$out/terraform/list.txt" "$out/terrane/list.txt" && echo "lists identical"
  diff -q <(grep -v '"lineage"' "$out/terraform/terraform.tfstate") \
          <(grep -v '"lineage"' "$out/terrane/terraform.tfstate") > /dev/null && echo "states identical"
fi
