//! A moto_server (AWS mocked locally) on a free loopback port for one
//! test, killed on drop. moto checks no signatures, only the service
//! named in the Authorization header's scope.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How the server handles concurrent requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MotoThreading {
    /// `moto_server` itself: a thread per request.
    Threaded,
    /// The same application served one request at a time (HTTP/1.0, a
    /// connection per request). moto's DynamoDB and S3 do not make a
    /// conditional write atomic against a concurrent one, so two lock
    /// attempts at once can both succeed on the threaded server (as they
    /// cannot on AWS); lock tests need this linearizable store.
    SingleThreaded,
}

const SINGLE_THREADED_MOTO: &str = "import sys\nfrom werkzeug.serving import run_simple\nfrom moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app\nrun_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)\n";

/// A running moto_server; killed (and reaped) on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
}

/// Whether moto_server can run: `false` (after printing why) outside CI;
/// panics under `CI=true`, where .ci/run installs it. Probed once per
/// test process.
pub fn moto_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("moto_server")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        if crate::in_ci() {
            panic!("moto_server is not installed (pip install 'moto[server]'); .ci/run needs it");
        }
        eprintln!("skipping: moto_server not installed (pip install 'moto[server]')");
    }
    found
}

/// The Python that runs `moto_server` (from its `#!` line).
fn moto_python() -> String {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| {
            text.lines()
                .next()
                .and_then(|l| l.strip_prefix("#!"))
                .map(|l| l.trim().to_string())
        })
        .filter(|l| !l.contains(' '))
        .unwrap_or_else(|| "python3".to_string())
}

impl MotoServer {
    /// Starts a server and waits until it listens, or `None` when
    /// moto_server is not installed outside CI (see [`moto_available`]).
    pub fn start(threading: MotoThreading) -> Option<MotoServer> {
        moto_available().then(|| MotoServer::spawn(threading))
    }

    /// Starts a server without probing for moto first (the caller did).
    /// Panics when it cannot start or does not listen within a minute.
    pub fn spawn(threading: MotoThreading) -> MotoServer {
        let port = crate::free_port();
        let mut command = match threading {
            MotoThreading::Threaded => {
                let mut c = Command::new("moto_server");
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                c
            }
            MotoThreading::SingleThreaded => {
                let mut c = Command::new(moto_python());
                c.args(["-c", SINGLE_THREADED_MOTO, "127.0.0.1", &port.to_string()]);
                c
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server: {e}"));
        // Built before waiting so a failed wait still kills the child.
        let mut server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited ({status}) before listening on {port}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, for provider `endpoints` and backend
    /// `endpoint` arguments.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates an S3 bucket with a plain path-style PUT (moto checks no
    /// signatures). Panics when moto does not answer 200.
    pub fn create_bucket(&self, name: &str) {
        use std::io::{Read, Write};
        let port = self.port;
        let mut conn = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot connect to moto on {port}: {e}"));
        let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
        write!(
            conn,
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap_or_else(|e| panic!("cannot send PUT /{name} to moto: {e}"));
        let mut reply = String::new();
        let _ = conn.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "moto said: {reply}");
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Configuration text requiring hashicorp/aws 3.39.0 and configuring it
/// for moto: fixed test credentials, no account or metadata look-ups,
/// path-style S3, and `services` (e.g. `["ec2", "s3", "sts"]`) sent to
/// `endpoint_expr`, an HCL expression (`"\"http://127.0.0.1:PORT\""` or
/// `"var.endpoint"`). Configuring the provider asks EC2 for the account's
/// platforms, so tests that configure it without `skip_get_ec2_platforms`
/// list `ec2` too.
pub fn aws_provider_config(endpoint_expr: &str, services: &[&str]) -> String {
    let width = services.iter().map(|s| s.len()).max().unwrap_or(0);
    let endpoints: String = services
        .iter()
        .map(|service| format!("    {service:<width$} = {endpoint_expr}\n"))
        .collect();
    format!(
        r#"terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "3.39.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "moto"
  secret_key                  = "moto"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_force_path_style         = true

  endpoints {{
{endpoints}  }}
}}
"#
    )
}

/// The arguments of a `backend "s3"` block (one a line, indented four
/// spaces, aligned) for `bucket`/`key` on the moto at `endpoint`, with
/// fixed test credentials and no AWS look-ups; with `dynamodb_table`,
/// locking in that table on the same moto. Callers append more lines.
pub fn s3_backend_arguments(
    bucket: &str,
    key: &str,
    endpoint: &str,
    dynamodb_table: Option<&str>,
) -> String {
    let quoted = |v: &str| format!("\"{v}\"");
    let mut arguments = vec![
        ("bucket", quoted(bucket)),
        ("key", quoted(key)),
        ("region", quoted("us-east-1")),
        ("endpoint", quoted(endpoint)),
    ];
    if let Some(table) = dynamodb_table {
        arguments.push(("dynamodb_endpoint", quoted(endpoint)));
        arguments.push(("dynamodb_table", quoted(table)));
    }
    arguments.extend([
        ("force_path_style", "true".to_string()),
        ("access_key", quoted("AKIATEST")),
        ("secret_key", quoted("secret")),
        ("skip_credentials_validation", "true".to_string()),
        ("skip_region_validation", "true".to_string()),
        ("skip_metadata_api_check", "true".to_string()),
    ]);
    arguments
        .iter()
        .map(|(name, value)| format!("    {name:<27} = {value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{aws_provider_config, s3_backend_arguments};

    #[test]
    fn s3_backend_arguments_put_the_lock_table_after_the_endpoint() {
        let text = s3_backend_arguments("states", "a.tfstate", "http://e", Some("locks"));
        assert!(
            text.starts_with(
                "    bucket                      = \"states\"\n    key                         = \"a.tfstate\"\n    region                      = \"us-east-1\"\n    endpoint                    = \"http://e\"\n    dynamodb_endpoint           = \"http://e\"\n    dynamodb_table              = \"locks\"\n    force_path_style            = true\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("    skip_metadata_api_check     = true\n"),
            "{text}"
        );
    }

    #[test]
    fn aws_provider_config_aligns_the_endpoints() {
        let text = aws_provider_config("var.endpoint", &["ec2", "s3", "sts"]);
        assert!(
            text.ends_with(
                "  endpoints {\n    ec2 = var.endpoint\n    s3  = var.endpoint\n    sts = var.endpoint\n  }\n}\n"
            ),
            "{text}"
        );
        assert!(text.contains("      version = \"3.39.0\"\n"), "{text}");
    }
}
