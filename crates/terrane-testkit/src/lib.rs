//! Helpers shared by terrane's tests.
//!
//! The real-world corpus lives outside the repository (`../shared/corpus`
//! next to the checkout). Tests read it from there; under `CI=true` a
//! missing corpus is a failure, elsewhere the test skips with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

mod moto;
mod peer;

pub use moto::{
    aws_provider_config, moto_available, s3_backend_arguments, MotoServer, MotoThreading,
};
pub use peer::{
    cli_config, cli_config_env, peer_dir, peer_dir_with_mirror, peer_terraform_dir, terraform_bin,
};

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

pub(crate) fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// The corpus directory, or `None` (after printing why) when it is absent
/// outside CI. Panics under `CI=true` when it is missing: CI always has it.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TERRANE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/corpus"));
    if dir.join("fmt-results.jsonl").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "the shared corpus is missing at {} (CI=true requires it; set TERRANE_CORPUS)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: the shared corpus is not at {} (set TERRANE_CORPUS to run this test)",
        dir.display()
    );
    None
}

/// Reads a JSON-lines file into values, one per non-empty line.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("bad JSON line in {}: {e}", path.display()))
        })
        .collect()
}

/// The test provider built on the published `tf-provider` framework.
pub const TFPTEST_BINARY: &str = "terraform-provider-tfptest";

fn skip_or_fail(why: String) -> Option<PathBuf> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    None
}

/// Builds `terraform-provider-tfptest` (crates/terrane-plugin/tests/tfprovider,
/// not a workspace member) debug and `--locked` into `<target>/tfprovider`,
/// and returns the directory holding the binary. Without `cargo` or
/// `protoc` it skips (`None`) outside CI and panics under `CI=true`.
pub fn build_tfptest_provider() -> Option<PathBuf> {
    // Spelled without `..`: cargo keys its fingerprints on the manifest
    // path, and the plugin crate's test builds the same project.
    let project = workspace_root().join("crates/terrane-plugin/tests/tfprovider");
    // The test executable is <target>/debug/deps/NAME.
    let exe = std::env::current_exe().expect("test executable path");
    let Some(target) = exe.ancestors().nth(3) else {
        panic!("unexpected test executable location {}", exe.display());
    };
    let target = target.join("tfprovider");
    let protoc = std::env::var_os("PROTOC").unwrap_or_else(|| "protoc".into());
    if Command::new(&protoc).arg("--version").output().is_err() {
        return skip_or_fail(format!(
            "protoc is not installed (needed to build {TFPTEST_BINARY}; Debian: apt-get install protobuf-compiler)"
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The working directory selects the project's .cargo/config.toml.
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--locked", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&project);
    // Not the variables cargo set for this test: build scripts that watch
    // them (ring's watches CARGO_MANIFEST_DIR) would rerun per test crate.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name == "OUT_DIR"
            || (name.starts_with("CARGO_")
                && name != "CARGO_HOME"
                && !name.starts_with("CARGO_NET_")
                && !name.starts_with("CARGO_HTTP_")
                && !name.starts_with("CARGO_REGISTRIES_"))
        {
            build.env_remove(name.as_ref());
        }
    }
    let out = match build.output() {
        Ok(out) => out,
        Err(e) => return skip_or_fail(format!("cannot run cargo to build {TFPTEST_BINARY}: {e}")),
    };
    assert!(
        out.status.success(),
        "building {TFPTEST_BINARY} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = target.join("debug");
    assert!(
        dir.join(TFPTEST_BINARY).is_file(),
        "{TFPTEST_BINARY} was not built"
    );
    Some(dir)
}

/// A PostgreSQL server of its own for one test run: a fresh cluster
/// (`initdb -A trust -U postgres`) in a temporary directory, listening on
/// 127.0.0.1 on a free port and on a Unix socket in that directory. Stopped
/// and removed on drop.
///
/// As root, PostgreSQL refuses to run: the cluster then belongs to the
/// `postgres` user (else `nobody`) and the server runs as that user.
pub struct PgServer {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    child: Option<std::process::Child>,
}

/// Where the PostgreSQL server binaries are: `PATH`, `pg_config --bindir`,
/// then the newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn postgres_bindir() -> Option<PathBuf> {
    let has_all = |d: &Path| {
        ["initdb", "postgres", "pg_ctl"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                // Symlinks into the real directory (which has psql too).
                let real = std::fs::canonicalize(dir.join("postgres"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| has_all(d));
                return Some(real.unwrap_or(dir));
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_all(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_all(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// uid and gid of the first of `names` in /etc/passwd.
fn system_user(names: &[&str]) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    names.iter().find_map(|want| {
        passwd.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == *want)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port on 127.0.0.1 nothing listens on at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

impl PgServer {
    /// Starts a server, or `None` (after printing why) when PostgreSQL is
    /// not installed outside CI. Panics under `CI=true` when it is missing
    /// (`.ci/run` installs it), and whenever it is installed but fails.
    pub fn start() -> Option<PgServer> {
        let Some(bindir) = postgres_bindir() else {
            skip_or_fail(
                "PostgreSQL is not installed (initdb, postgres, pg_ctl not on PATH, nor under \
                 `pg_config --bindir` or /usr/lib/postgresql/*/bin; Debian: apt-get install postgresql)"
                    .to_string(),
            );
            return None;
        };
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("terrane-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the PostgreSQL directory");
        let run_as = if is_root() {
            let ids = system_user(&["postgres", "nobody"])
                .expect("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL");
            std::os::unix::fs::chown(&dir, Some(ids.0), Some(ids.1))
                .expect("chown the PostgreSQL directory");
            Some(ids)
        } else {
            None
        };
        let mut server = PgServer {
            bindir,
            dir,
            port: free_port(),
            run_as,
            child: None,
        };
        // One initdb per test process (seconds); each server gets a copy.
        static TEMPLATE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
        let template = TEMPLATE
            .get_or_init(|| server.make_template())
            .as_ref()
            .unwrap_or_else(|e| panic!("{e}"));
        let out = Command::new("cp")
            .arg("-a")
            .arg(template)
            .arg(server.data_dir())
            .output()
            .expect("run cp");
        assert!(
            out.status.success(),
            "copying the PostgreSQL cluster failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.resume();
        Some(server)
    }

    /// A fresh cluster (`initdb -A trust -U postgres`) to copy, in a
    /// directory named after this process; those of finished processes
    /// are removed.
    fn make_template(&self) -> Result<PathBuf, String> {
        let tmp = std::env::temp_dir();
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("terrane-pg-template-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = tmp.join(format!("terrane-pg-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let out = self
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .map_err(|e| format!("run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(data)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env("LANG", "C");
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// A lib/pq URL to database `postgres` as superuser `postgres`.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Runs `psql` with `sql` and returns its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let psql = Some(self.bindir.join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| "psql".into());
        let out = Command::new(psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .args(["-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Kills the server abruptly (`pg_ctl stop -m immediate`, as a crash):
    /// clients see their connections drop. [`resume`](Self::resume) starts
    /// it again on the same port with the same data.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = self
                .command("pg_ctl")
                .args(["stop", "-m", "immediate", "-D"])
                .arg(self.data_dir())
                .output();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn resume(&mut self) {
        if self.child.is_some() {
            return;
        }
        let log_path = self.dir.join(format!("server-{}.log", self.port));
        let log = std::fs::File::create(&log_path).expect("create the PostgreSQL log");
        if let Some((uid, gid)) = self.run_as {
            let _ = std::os::unix::fs::chown(&log_path, Some(uid), Some(gid));
        }
        let err = log.try_clone().expect("clone the log handle");
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=100",
            ])
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        // Ready when the server says so; bounded so a broken start fails
        // with its log instead of hanging.
        for _ in 0..600 {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains("ready to accept connections") {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("postgres exited ({status}):\n{text}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "postgres did not become ready:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
