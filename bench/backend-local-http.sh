#!/usr/bin/env bash
# Save latency of the local and http backends: `state push -force` of a
# state of N null_resource instances (N = 1000 and 10000), Terraform 1.0.3
# vs terrane, each tool in its own working directory on the same backend
# kind. Not a test.
#
# Columns: medians of REPS pushes in milliseconds (process start, backend
# configure, lock, read, write, unlock). The http backend is a small
# Python state server on loopback with LOCK/UNLOCK (GitLab's protocol),
# so both tools pay the same server cost.
# Knobs: NS ("1000 10000"), REPS (5), OUT (/tmp/terrane-bench-lh),
# TERRANE_BIN (default: a release build of terrane-cli).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peer_dir="${TERRANE_PEER_DIR:-/tmp/terrane-peer}"
NS="${NS:-1000 10000}"
REPS="${REPS:-5}"
OUT="${OUT:-/tmp/terrane-bench-lh}"
if [ -z "${TERRANE_BIN:-}" ]; then
  (cd "$root" && cargo build --release -q -p terrane-cli)
  TERRANE_BIN="$root/target/release/terrane"
fi
TERRANE_BIN="$(readlink -f "$TERRANE_BIN")"
rm -rf "$OUT" && mkdir -p "$OUT"
export OUT NS REPS TERRANE_BIN peer_dir
python3 - <<'PY'
import http.server, json, os, shutil, socketserver, statistics, subprocess, threading, time, uuid

out, reps, peer = os.environ["OUT"], int(os.environ["REPS"]), os.environ["peer_dir"]
env = dict(os.environ, TF_CLI_CONFIG_FILE=f"{peer}/terraformrc",
           CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")

class Store:
    def __init__(self):
        self.states, self.locks, self.mu = {}, {}, threading.Lock()

store = Store()

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def reply(self, code, data=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        with store.mu:
            data = store.states.get(self.path.split("?")[0])
        self.reply(200, data) if data else self.reply(404)
    def do_POST(self):
        data = self.body()
        with store.mu:
            store.states[self.path.split("?")[0]] = data
        self.reply(200)
    def do_DELETE(self):
        with store.mu:
            store.states.pop(self.path.split("?")[0], None)
        self.reply(200)
    def do_LOCK(self):
        data = self.body()
        with store.mu:
            held = store.locks.get(self.path)
            if held:
                return self.reply(423, held)
            store.locks[self.path] = data
        self.reply(200)
    def do_UNLOCK(self):
        self.body()
        with store.mu:
            store.locks.pop(self.path, None)
        self.reply(200)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = Server(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}"

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

def workdir(tool, backend):
    d = f"{out}/{backend}-{tool}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/main.tf", "w") as f:
        if backend == "http":
            a = f"{base}/{tool}"
            f.write('terraform {\n  backend "http" {\n'
                    f'    address = "{a}"\n    lock_address = "{a}"\n'
                    f'    unlock_address = "{a}"\n  }}\n}}\n')
        else:
            f.write("")
    return d

tools = {"terraform": f"{peer}/bin/terraform", "terrane": os.environ["TERRANE_BIN"]}
dirs = {}
for backend in ["local", "http"]:
    for tool, exe in tools.items():
        d = workdir(tool, backend)
        subprocess.run([exe, "init", "-input=false", "-no-color"], cwd=d, env=env,
                       check=True, capture_output=True)
        dirs[(backend, tool)] = d

def timed(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stdout}{p.stderr}")
    return ms

print("| backend | N | state MB | Terraform 1.0.3 ms | terrane ms | ratio |")
print("|---|---|---|---|---|---|")
for n in [int(x) for x in os.environ["NS"].split()]:
    path = f"{out}/state-{n}.json"
    with open(path, "w") as f:
        json.dump(state(n), f, indent=2)
    size = os.path.getsize(path) / 1e6
    for backend in ["local", "http"]:
        med = {}
        for tool, exe in tools.items():
            med[tool] = statistics.median(
                timed([exe, "state", "push", "-force", path], dirs[(backend, tool)])
                for _ in range(reps))
        print(f"| {backend} | {n} | {size:.1f} | {med['terraform']:.0f} | "
              f"{med['terrane']:.0f} | {med['terraform'] / med['terrane']:.1f}x |")
PY
