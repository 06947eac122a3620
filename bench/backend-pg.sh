#!/usr/bin/env bash
# Save latency of the pg backend: `state push -force` of a state of N
# null_resource instances (N = 1000 and 10000) into one PostgreSQL
# database, Terraform 1.0.3 vs terrane. Not a test.
#
# Columns (medians of REPS pushes, milliseconds):
#   terraform    `terraform state push -force` (Terraform 1.0.3; process
#                start, backend configure, lock, read, write, unlock)
#   terrane      `terrane state push -force`, the same steps (n/a while the
#                CLI cannot use the pg backend)
#   t-lib        the same steps through the terrane-backend-pg library in
#                one process per push (examples/pg_push.rs): no CLI start-up
#   t-write      of t-lib, the write alone (stale check read + upsert)
#
# A PostgreSQL server of its own runs in $OUT/pg (as the postgres user when
# run as root); each tool writes its own schema of the same database.
# Knobs: NS ("1000 10000"), REPS (5), OUT (/tmp/terrane-bench-pg),
# SKIP_TERRAFORM=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer_dir="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
NS="${NS:-1000 10000}"
REPS="${REPS:-5}"
OUT="${OUT:-/tmp/terrane-bench-pg}"

pg_bin=""
for d in $(dirname "$(readlink -f "$(command -v postgres 2>/dev/null || echo /nonexistent)")") /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then pg_bin="$d"; fi
done
[ -n "$pg_bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

# Two builds: `--example` would limit the first to examples.
(cd "$root" && cargo build --release -q -p terrane-cli && cargo build --release -q -p terrane-backend-pg --example pg_push)
terrane="$root/target/release/terrane"
pg_push="$root/target/release/examples/pg_push"

rm -rf "$OUT" && mkdir -p "$OUT/pg"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$OUT/pg"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$OUT/pg" && "${as_pg[@]}" "$pg_bin/initdb" -A trust -U postgres -E UTF8 --no-sync -D "$OUT/pg/data" >/dev/null)
(cd "$OUT/pg" && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$OUT/pg/data" -l "$OUT/pg/log" -w \
  -o "-p $port -k $OUT/pg -c listen_addresses=127.0.0.1" start >/dev/null)
trap '(cd "$OUT/pg" && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$OUT/pg/data" -m immediate stop >/dev/null 2>&1)' EXIT
url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

export OUT NS REPS url terrane pg_push peer_dir root
export SKIP_TERRAFORM="${SKIP_TERRAFORM:-}"
python3 - <<'PY'
import json, os, shutil, statistics, subprocess, time, uuid

out, url, reps = os.environ["OUT"], os.environ["url"], int(os.environ["REPS"])
peer = os.environ["peer_dir"]
env = dict(os.environ, TF_CLI_CONFIG_FILE=f"{peer}/terraformrc",
           CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")

def state(n):
    return {
        "version": 4, "terraform_version": "1.0.3", "serial": 1,
        "lineage": str(uuid.uuid4()), "outputs": {},
        "resources": [{
            "mode": "managed", "type": "null_resource", "name": "n",
            "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
            "instances": [{
                "index_key": i, "schema_version": 0,
                "attributes": {"id": str(1000000000000000000 + i),
                               "triggers": {"run": f"value-{i}"}},
                "sensitive_attributes": [], "private": "bnVsbA==",
            } for i in range(n)],
        }],
    }

def workdir(tool, schema):
    d = f"{out}/{tool}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/main.tf", "w") as f:
        f.write('terraform {\n  backend "pg" {\n'
                f'    conn_str = "{url}"\n    schema_name = "{schema}"\n  }}\n}}\n')
    return d

def timed(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stdout}{p.stderr}")
    return ms

tools = {}
if not os.environ.get("SKIP_TERRAFORM"):
    d = workdir("terraform", "bench_terraform")
    subprocess.run([f"{peer}/bin/terraform", "init", "-input=false", "-no-color"],
                   cwd=d, env=env, check=True, capture_output=True)
    tools["terraform"] = (f"{peer}/bin/terraform", d)
d = workdir("terrane", "bench_terrane")
p = subprocess.run([os.environ["terrane"], "init", "-input=false", "-no-color"],
                   cwd=d, env=env, capture_output=True, text=True)
if p.returncode == 0:
    tools["terrane"] = (os.environ["terrane"], d)
else:
    why = [l for l in (p.stdout + p.stderr).splitlines() if l.startswith("Error")]
    print("terrane column n/a: `terrane init` failed:", "; ".join(why) or p.returncode)

rows = []
for n in [int(x) for x in os.environ["NS"].split()]:
    path = f"{out}/state-{n}.json"
    with open(path, "w") as f:
        json.dump(state(n), f, indent=2)
    size = os.path.getsize(path) / 1e6
    med = {}
    for name, (exe, d) in tools.items():
        med[name] = statistics.median(
            timed([exe, "state", "push", "-force", path], d) for _ in range(reps))
    lines = subprocess.run([os.environ["pg_push"], url, "bench_lib", path, str(reps)],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    pairs = [tuple(map(float, l.split())) for l in lines if l.strip()]
    med["t-lib"] = statistics.median(p[0] for p in pairs)
    med["t-write"] = statistics.median(p[1] for p in pairs)
    rows.append((n, size, med))

cols = ["terraform", "terrane", "t-lib", "t-write"]
def ratio(med, a, b):
    return f"{med[a] / med[b]:.1f}x" if a in med and b in med else "n/a"

print(f"\n| N | state MB | " + " | ".join(f"{c} ms" for c in cols)
      + " | terraform/terrane | terraform/t-lib |")
print("|---|---|" + "---|" * len(cols) + "---|---|")
for n, size, med in rows:
    cells = [f"{med[c]:.0f}" if c in med else "n/a" for c in cols]
    print(f"| {n} | {size:.1f} | " + " | ".join(cells)
          + f" | {ratio(med, 'terraform', 'terrane')} | {ratio(med, 'terraform', 't-lib')} |")
PY
