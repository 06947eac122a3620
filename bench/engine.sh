#!/usr/bin/env bash
# Engine benchmark (release build): terrane vs Terraform 1.0.3 on N
# `null_resource`s (`gen.py count N`): `apply` (create all, from empty
# state), no-change `plan` (N in state, refresh on, -detailed-exitcode) and
# `destroy`; wall time and peak RSS (/usr/bin/time -v through the peer's
# measure.py, which also samples the RSS of the whole process tree:
# terraform + its plugin). One table with ratios at the end.
#
# Columns:
#   terraform  Terraform 1.0.3 + the real hashicorp/null 2.1.2 plugin
#   terrane    terrane with its built-in null provider
#   t+plugin   terrane with the same external null plugin
#              (TERRANE_PROVIDERS=plugin after `terrane init` from the peer
#              mirror); only when this build's provider factory supports
#              it, otherwise the column shows "n/a"
#
# Knobs: NS ("1000 10000"), PARALLELISM (10), TF_TIMEOUT (300: seconds
# per Terraform step; at N=10000 Terraform's apply and destroy take longer
# than that on this machine, see ../shared/peer/results-terraform-1.0.3.md,
# so a timed-out apply is followed by a plan and destroy on the state
# terrane wrote, which Terraform reads as its own), SKIP_TERRAFORM=1,
# SKIP_PLUGIN=1, OUT (/tmp/terrane-bench-engine).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer_dir="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
shared_peer="$(cd "$root/../shared/peer" 2>/dev/null && pwd || true)"
NS="${NS:-1000 10000}"
PARALLELISM="${PARALLELISM:-10}"
TF_TIMEOUT="${TF_TIMEOUT:-300}"
OUT="${OUT:-/tmp/terrane-bench-engine}"

if [ -z "$shared_peer" ] || [ ! -f "$shared_peer/gen.py" ]; then
  echo "needs ../shared/peer (gen.py, measure.py)" >&2
  exit 1
fi
(cd "$root" && cargo build --release -q -p terrane-cli) || exit 1
terrane="$root/target/release/terrane"
terraform="$peer_dir/bin/terraform"
if [ -z "${SKIP_TERRAFORM:-}" ] && [ ! -x "$terraform" ]; then
  echo "Terraform peer missing at $peer_dir (run ../shared/peer/setup.sh), or SKIP_TERRAFORM=1" >&2
  exit 1
fi
export TF_CLI_CONFIG_FILE="$peer_dir/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG

rm -rf "$OUT"
mkdir -p "$OUT/logs"
csv="$OUT/results.csv"

# measure SIDE N STEP TIMEOUT CMD...: one CSV row (side goes in "shape").
measure() {
  local side="$1" n="$2" step="$3" timeout="$4"
  shift 4
  python3 "$shared_peer/measure.py" --csv "$csv" --log "$OUT/logs/$side-$n-$step.log" \
    --timeout "$timeout" --field shape="$side" --field n="$n" --field rep=1 \
    --field step="$step" -- "$@" >/dev/null
}

plugin_supported() {
  # The plugin column needs the provider factory with TERRANE_PROVIDERS.
  grep -q TERRANE_PROVIDERS "$root/crates/terrane-cli/src/provider_factory.rs" 2>/dev/null
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), parallelism $PARALLELISM"
for n in $NS; do
  base="$OUT/n$n"
  python3 "$shared_peer/gen.py" count "$n" "$base/src" >/dev/null

  # terrane, built-in null provider.
  d="$base/terrane"; cp -r "$base/src" "$d"; cd "$d" || exit 1
  export TERRANE_PROVIDERS=builtin
  measure terrane "$n" apply 3600 "$terrane" apply -auto-approve -input=false -parallelism="$PARALLELISM"
  cp terraform.tfstate "$base/applied.tfstate"
  measure terrane "$n" plan 3600 "$terrane" plan -input=false -detailed-exitcode -parallelism="$PARALLELISM"
  measure terrane "$n" destroy 3600 "$terrane" destroy -auto-approve -input=false -parallelism="$PARALLELISM"
  unset TERRANE_PROVIDERS

  # terrane with the external plugin.
  if [ -z "${SKIP_PLUGIN:-}" ] && plugin_supported; then
    d="$base/terrane-plugin"; cp -r "$base/src" "$d"; cd "$d" || exit 1
    export TERRANE_PROVIDERS=plugin
    if "$terrane" init -input=false >"$OUT/logs/t+plugin-$n-init.log" 2>&1; then
      measure t+plugin "$n" apply 3600 "$terrane" apply -auto-approve -input=false -parallelism="$PARALLELISM"
      measure t+plugin "$n" plan 3600 "$terrane" plan -input=false -detailed-exitcode -parallelism="$PARALLELISM"
      measure t+plugin "$n" destroy 3600 "$terrane" destroy -auto-approve -input=false -parallelism="$PARALLELISM"
    else
      echo "terrane init with TERRANE_PROVIDERS=plugin failed (see $OUT/logs/t+plugin-$n-init.log)" >&2
    fi
    unset TERRANE_PROVIDERS
  fi

  # Terraform.
  if [ -z "${SKIP_TERRAFORM:-}" ]; then
    d="$base/terraform"; cp -r "$base/src" "$d"; cd "$d" || exit 1
    "$terraform" init -input=false >"$OUT/logs/terraform-$n-init.log" 2>&1 || exit 1
    measure terraform "$n" apply "$TF_TIMEOUT" "$terraform" apply -auto-approve -input=false -parallelism="$PARALLELISM"
    if ! grep -q "Apply complete!" "$OUT/logs/terraform-$n-apply.log"; then
      # Timed out: continue from the complete state terrane wrote.
      cp "$base/applied.tfstate" terraform.tfstate
      echo "n=$n: Terraform apply did not finish within ${TF_TIMEOUT}s; plan and destroy run on terrane's state" >&2
    fi
    measure terraform "$n" plan "$TF_TIMEOUT" "$terraform" plan -input=false -detailed-exitcode -parallelism="$PARALLELISM"
    measure terraform "$n" destroy "$TF_TIMEOUT" "$terraform" destroy -auto-approve -input=false -parallelism="$PARALLELISM"
  fi
  cd "$OUT" || exit 1
done

python3 - "$csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
get = {}
for r in rows:
    get[(r["shape"], r["n"], r["step"])] = r
sides = ["terraform", "terrane", "t+plugin"]
def cell(r, key):
    if r is None:
        return "n/a"
    if r["exit"] == "timeout":
        # Killed at the timeout: the peak so far is a lower bound.
        if key == "wall_s":
            return f">{float(r['wall_s']):.0f} (timeout)"
        return f">={float(r[key])/1024:.0f}"
    v = float(r[key])
    return f"{v:.2f}" if key == "wall_s" else f"{v/1024:.0f}"
def ratio(a, b, key):
    if a is None or b is None or a["exit"] == "timeout" or b["exit"] == "timeout":
        return "n/a" if (a is None or b is None) else (">" + f"{float(a['wall_s'])/max(float(b['wall_s']),1e-3):.0f}x" if a["exit"] == "timeout" and key == "wall_s" else "n/a")
    x, y = float(a[key]), float(b[key])
    if key == "wall_s":
        return f"{x/max(y,1e-3):.1f}x"
    return f"{y/max(x,1):.2f}"
ns = sorted({r["n"] for r in rows}, key=int)
print()
print("| N | step | terraform s | terrane s | t+plugin s | speed-up (tf/terrane) | speed-up (tf/t+plugin) | terraform MB | terrane MB | t+plugin MB | RSS terrane/tf | exit codes |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for n in ns:
    for step in ["apply", "plan", "destroy"]:
        tf, tn, tp = (get.get((s, n, step)) for s in sides)
        # Peak RSS: the largest of /usr/bin/time's max RSS and the sampled
        # process-tree sum (Terraform's plugin is a separate process).
        def rss(r):
            if r is None:
                return None
            r = dict(r)
            r["rss"] = str(max(float(r["max_rss_kb"] or 0), float(r["tree_rss_kb"] or 0)))
            return r
        tf, tn, tp = rss(tf), rss(tn), rss(tp)
        codes = "/".join(r["exit"] if r else "-" for r in (tf, tn, tp))
        print(f"| {n} | {step} | {cell(tf,'wall_s')} | {cell(tn,'wall_s')} | {cell(tp,'wall_s')} | "
              f"{ratio(tf,tn,'wall_s')} | {ratio(tf,tp,'wall_s')} | {cell(tf,'rss')} | {cell(tn,'rss')} | {cell(tp,'rss')} | "
              f"{ratio(tf,tn,'rss')} | {codes} |")
print()
print("plan exits 0 (no changes) on every side; RSS in MB = max(peak RSS of the largest process, sampled sum over the process tree).")
EOF
