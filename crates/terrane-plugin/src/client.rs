//! The go-plugin client: starts a provider plugin process (or reattaches to
//! a running one), connects to its gRPC server and implements [`Provider`]
//! over protocol 5 or 6.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use terrane_value::{Type, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{oneshot, watch};
use tonic::transport::Channel;

use crate::diag::{path_from_proto, Diagnostic, Diagnostics};
use crate::handshake::{self, parse_handshake, Address};
use crate::logging::{LogConfig, PluginLog};
use crate::proto::{self, Methods};
use crate::provider::*;
use crate::schema::{FunctionSignature, ProviderSchema, Schema};
use crate::tls;

/// Largest gRPC message accepted or sent (the AWS provider's schema is a
/// few megabytes; go-plugin itself allows up to 2 GiB).
const MAX_MESSAGE: usize = 256 << 20;
/// Longest handshake line accepted.
const MAX_HANDSHAKE_LINE: usize = 64 << 10;

/// Time limits for talking to a plugin. A limit that passes yields an error
/// diagnostic ("Plugin did not respond"); the process is left running.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// From starting the process to its handshake line.
    pub handshake: Duration,
    /// Connecting to the announced address (including TLS).
    pub connect: Duration,
    /// `GetProviderSchema`.
    pub schema: Duration,
    /// Validation, configure, upgrade, read, plan, import, data sources.
    pub rpc: Duration,
    /// `ApplyResourceChange` (resources may take long to create).
    pub apply: Duration,
    /// `Stop`.
    pub stop: Duration,
    /// Grace period after asking the process to exit, before killing it.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(60),
            connect: Duration::from_secs(10),
            schema: Duration::from_secs(300),
            rpc: Duration::from_secs(30 * 60),
            apply: Duration::from_secs(6 * 60 * 60),
            stop: Duration::from_secs(60),
            shutdown: Duration::from_secs(2),
        }
    }
}

/// How to start a plugin.
#[derive(Clone, Debug)]
pub struct PluginConfig {
    /// Name used in messages and logs, e.g.
    /// `registry.terraform.io/hashicorp/null`.
    pub name: String,
    /// The plugin executable.
    pub path: PathBuf,
    /// Arguments (none for provider plugins).
    pub args: Vec<String>,
    /// Extra environment variables (the process also inherits ours).
    pub env: Vec<(String, String)>,
    /// Use go-plugin's AutoMTLS (as Terraform does). Without it the plugin
    /// serves plain gRPC on its socket.
    pub auto_mtls: bool,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Where the plugin's log output goes.
    pub log: LogConfig,
}

impl PluginConfig {
    /// Defaults: AutoMTLS on, default timeouts, logging from `TF_LOG*`.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> PluginConfig {
        PluginConfig {
            name: name.into(),
            path: path.into(),
            args: Vec::new(),
            env: Vec::new(),
            auto_mtls: true,
            timeouts: Timeouts::default(),
            log: LogConfig::from_env(),
        }
    }
}

/// Failure to start or connect to a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    /// The provider's name (from [`PluginConfig::name`]).
    pub provider: String,
    /// What went wrong, with the plugin's last output when relevant.
    pub message: String,
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "provider {}: {}", self.provider, self.message)
    }
}

impl std::error::Error for PluginError {}

/// A running plugin process we own.
struct Process {
    pid: Option<u32>,
    kill_tx: Mutex<Option<oneshot::Sender<()>>>,
    exit_rx: watch::Receiver<Option<String>>,
    socket: Option<PathBuf>,
}

/// A provider plugin spoken to over gRPC. See [`Provider`] for the calling
/// rules (blocking; not from inside an async runtime).
pub struct GrpcProvider {
    name: String,
    protocol_version: u32,
    methods: Methods,
    timeouts: Timeouts,
    channel: Channel,
    process: Option<Process>,
    log: Arc<PluginLog>,
    last_rpc: Mutex<&'static str>,
    schema: Mutex<Option<GetSchemaResponse>>,
    functions: Mutex<Option<GetFunctionsResponse>>,
    closed: AtomicBool,
    rt: Option<tokio::runtime::Runtime>,
}

fn runtime(name: &str) -> Result<tokio::runtime::Runtime, PluginError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PluginError {
            provider: name.to_string(),
            message: "the plugin client must not be started from inside an async runtime \
                      (use spawn_blocking)"
                .into(),
        });
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("terrane-plugin")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| PluginError {
            provider: name.to_string(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

/// The short name for log lines: the executable's file name.
fn log_name(cfg: &PluginConfig) -> String {
    cfg.path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| cfg.name.clone())
}

impl GrpcProvider {
    /// Starts the plugin executable with Terraform's environment contract,
    /// reads its handshake, and connects (over mTLS when
    /// [`PluginConfig::auto_mtls`]). Fails with the plugin's own output when
    /// it exits early, prints something unexpected, or stays silent past
    /// [`Timeouts::handshake`].
    pub fn start(cfg: PluginConfig) -> Result<GrpcProvider, PluginError> {
        let rt = runtime(&cfg.name)?;
        let log = Arc::new(PluginLog::new(&log_name(&cfg), &cfg.log));
        let (hs, channel, process) = rt.block_on(start_async(&cfg, log.clone()))?;
        Ok(GrpcProvider::assemble(
            cfg.name,
            hs.protocol_version,
            cfg.timeouts,
            channel,
            Some(process),
            log,
            rt,
        ))
    }

    /// Connects to a plugin that is already running (`TF_REATTACH_PROVIDERS`,
    /// a provider started in debug mode). The process is not ours: closing
    /// only drops the connection.
    pub fn reattach(
        name: &str,
        cfg: &ReattachConfig,
        timeouts: Timeouts,
    ) -> Result<GrpcProvider, PluginError> {
        let rt = runtime(name)?;
        if cfg.protocol_version != 5 && cfg.protocol_version != 6 {
            return Err(PluginError {
                provider: name.to_string(),
                message: format!(
                    "reattach: unsupported protocol version {}",
                    cfg.protocol_version
                ),
            });
        }
        let channel = rt
            .block_on(connect(cfg.address.clone(), None, timeouts.connect))
            .map_err(|message| PluginError {
                provider: name.to_string(),
                message,
            })?;
        let log = Arc::new(PluginLog::new(name, &LogConfig::default()));
        Ok(GrpcProvider::assemble(
            name.to_string(),
            cfg.protocol_version,
            timeouts,
            channel,
            None,
            log,
            rt,
        ))
    }

    fn assemble(
        name: String,
        protocol_version: u32,
        timeouts: Timeouts,
        channel: Channel,
        process: Option<Process>,
        log: Arc<PluginLog>,
        rt: tokio::runtime::Runtime,
    ) -> GrpcProvider {
        GrpcProvider {
            name,
            protocol_version,
            methods: if protocol_version == 6 {
                proto::METHODS_V6
            } else {
                proto::METHODS_V5
            },
            timeouts,
            channel,
            process,
            log,
            last_rpc: Mutex::new("(none)"),
            schema: Mutex::new(None),
            functions: Mutex::new(None),
            closed: AtomicBool::new(false),
            rt: Some(rt),
        }
    }

    /// The plugin protocol version in use (5 or 6).
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// The provider's name, as given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id, for plugins we started.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(|p| p.pid)
    }

    /// How the process ended (`"exit status: 2"`), or `None` while it runs
    /// (and always for reattached plugins).
    pub fn exit_status(&self) -> Option<String> {
        self.process
            .as_ref()
            .and_then(|p| p.exit_rx.borrow().clone())
    }

    /// One unary call, blocking, with a time limit. Errors are diagnostics
    /// naming the provider and the call.
    fn call<Req, Resp>(
        &self,
        rpc: &'static str,
        path: &'static str,
        req: Req,
        limit: Duration,
    ) -> Result<Resp, Diagnostics>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Diagnostics::from_error(
                "Provider is closed",
                format!(
                    "The provider {} was already shut down; {rpc} cannot be called.",
                    self.name
                ),
            ));
        }
        let Some(rt) = self.rt.as_ref() else {
            return Err(Diagnostics::from_error(
                "Provider is closed",
                format!("The provider {} has no runtime.", self.name),
            ));
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Diagnostics::from_error(
                "Provider called from an async context",
                format!(
                    "{rpc} on provider {} was called from inside an async runtime; \
                     call providers from a blocking thread (spawn_blocking).",
                    self.name
                ),
            ));
        }
        if let Some(how) = self.exit_status() {
            let previous = self.last_rpc.lock().map(|l| *l).unwrap_or("(unknown)");
            let mut detail = format!(
                "The provider {} exited ({how}) after its last call, {previous}; \
                 {rpc} cannot be sent.",
                self.name
            );
            let excerpt = self.log.crash_excerpt();
            if !excerpt.is_empty() {
                detail.push_str("\n\nIts last output:\n");
                detail.push_str(&excerpt);
            }
            return Err(Diagnostics::from_error("Plugin did not respond", detail));
        }
        if let Ok(mut l) = self.last_rpc.lock() {
            *l = rpc;
        }
        let channel = self.channel.clone();
        let res = rt.block_on(async move {
            tokio::time::timeout(limit, unary::<Req, Resp>(channel, path, req)).await
        });
        match res {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(status)) => Err(Diagnostics(vec![self.status_diagnostic(rpc, &status)])),
            Err(_) => Err(Diagnostics::from_error(
                "Plugin did not respond",
                format!(
                    "The provider {} did not answer the plugin.(*GRPCProvider).{rpc} call \
                     within {} seconds.",
                    self.name,
                    limit.as_secs()
                ),
            )),
        }
    }

    fn status_diagnostic(&self, rpc: &str, status: &tonic::Status) -> Diagnostic {
        let request = format!("plugin.(*GRPCProvider).{rpc}");
        // A crash shows up as a broken connection; give the process a moment
        // to be reaped so we can say so.
        if let (Some(p), Some(rt)) = (&self.process, &self.rt) {
            let mut rx = p.exit_rx.clone();
            let exited = rt.block_on(async move {
                tokio::time::timeout(Duration::from_millis(500), rx.wait_for(|s| s.is_some()))
                    .await
                    .ok()
                    .and_then(|r| r.ok().and_then(|s| s.clone()))
            });
            if let Some(how) = exited {
                let excerpt = self.log.crash_excerpt();
                let mut detail = format!(
                    "The plugin encountered an error, and failed to respond to the {request} \
                     call. The plugin logs may contain more details.\n\nThe provider {} \
                     exited ({how}) during {rpc}.",
                    self.name
                );
                if !excerpt.is_empty() {
                    detail.push_str("\n\nIts last output:\n");
                    detail.push_str(&excerpt);
                }
                return Diagnostic::error("Plugin did not respond", detail);
            }
        }
        match status.code() {
            tonic::Code::Unavailable => Diagnostic::error(
                "Plugin did not respond",
                format!(
                    "The plugin encountered an error, and failed to respond to the {request} \
                     call. The plugin logs may contain more details. (provider {}: {})",
                    self.name,
                    status.message()
                ),
            ),
            tonic::Code::Cancelled => Diagnostic::error(
                "Request cancelled",
                format!("The {request} request was cancelled."),
            ),
            tonic::Code::Unimplemented => Diagnostic::error(
                "Unsupported plugin method",
                format!(
                    "The {request} method is not supported by this plugin ({}).",
                    self.name
                ),
            ),
            _ => Diagnostic::error(
                "Plugin error",
                format!(
                    "The plugin returned an unexpected error from {request} (provider {}): \
                     rpc error: code = {:?} desc = {}",
                    self.name,
                    status.code(),
                    status.message()
                ),
            ),
        }
    }

    /// The cached schema, fetching it on first use.
    fn schema(&self) -> Result<Arc<ProviderSchema>, Diagnostics> {
        let r = self.get_schema();
        if r.diagnostics.has_errors() {
            return Err(r.diagnostics);
        }
        Ok(r.schema)
    }

    /// Seeds the in-memory schema with one obtained elsewhere (terrane's
    /// on-disk schema cache, keyed by the plugin binary's hash) so the
    /// plugin is not asked again. Ignored when a schema is already held.
    pub fn preset_schema(&self, schema: GetSchemaResponse) {
        let mut guard = match self.schema.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if guard.is_none() {
            *guard = Some(schema);
        }
    }

    /// Asks the plugin for its schema and returns the protocol message as
    /// received (for the on-disk schema cache); the converted schema is
    /// kept in memory as [`Provider::get_schema`] would keep it.
    pub fn fetch_schema_proto(&self) -> Result<proto::GetProviderSchemaResponse, Diagnostics> {
        let resp: proto::GetProviderSchemaResponse = self.call(
            "GetProviderSchema",
            self.methods.get_schema,
            proto::Empty {},
            self.timeouts.schema,
        )?;
        let (schema, diagnostics) = ProviderSchema::from_proto(&resp);
        self.preset_schema(GetSchemaResponse {
            schema: Arc::new(schema),
            diagnostics,
        });
        Ok(resp)
    }

    /// Fetches the schema; the flag says whether the call itself worked
    /// (only then is the answer worth caching).
    fn fetch_schema(&self) -> (GetSchemaResponse, bool) {
        let res: Result<proto::GetProviderSchemaResponse, Diagnostics> = self.call(
            "GetProviderSchema",
            self.methods.get_schema,
            proto::Empty {},
            self.timeouts.schema,
        );
        match res {
            Ok(resp) => {
                let (schema, diagnostics) = ProviderSchema::from_proto(&resp);
                let r = GetSchemaResponse {
                    schema: Arc::new(schema),
                    diagnostics,
                };
                (r, true)
            }
            Err(diagnostics) => {
                let r = GetSchemaResponse {
                    schema: Arc::new(ProviderSchema::default()),
                    diagnostics,
                };
                (r, false)
            }
        }
    }

    fn encode(&self, v: &Value, ty: &Type, what: &str) -> Result<proto::DynamicValue, Diagnostics> {
        terrane_value::msgpack::encode(v, ty)
            .map(|msgpack| proto::DynamicValue {
                msgpack,
                json: Vec::new(),
            })
            .map_err(|e| {
                Diagnostics::from_error(
                    "Failed to encode a value for the provider",
                    format!("Cannot send {what} to provider {}: {e}", self.name),
                )
            })
    }

    fn decode(
        &self,
        dv: Option<&proto::DynamicValue>,
        ty: &Type,
        what: &str,
    ) -> Result<Value, Diagnostics> {
        let res = match dv {
            None => return Ok(Value::null(ty.clone())),
            Some(dv) if !dv.msgpack.is_empty() => {
                terrane_value::msgpack::decode(&dv.msgpack, ty).map_err(|e| e.to_string())
            }
            Some(dv) if !dv.json.is_empty() => std::str::from_utf8(&dv.json)
                .map_err(|e| e.to_string())
                .and_then(|s| terrane_value::json::unmarshal(s, ty).map_err(|e| e.to_string())),
            Some(_) => return Ok(Value::null(ty.clone())),
        };
        res.map_err(|e| {
            Diagnostics::from_error(
                "Invalid response from provider",
                format!("The provider {} returned an invalid {what}: {e}", self.name),
            )
        })
    }

    fn meta(
        &self,
        schema: &ProviderSchema,
        meta: &Option<Value>,
    ) -> Result<Option<proto::DynamicValue>, Diagnostics> {
        match &schema.provider_meta {
            None => Ok(None),
            Some(s) => {
                let ty = s.block.implied_type();
                let v = meta.clone().unwrap_or_else(|| Value::null(ty.clone()));
                self.encode(&v, &ty, "provider_meta").map(Some)
            }
        }
    }

    fn resource_type(&self, schema: &ProviderSchema, type_name: &str) -> Result<Type, Diagnostics> {
        lookup(
            &self.name,
            schema.resource(type_name),
            "resource type",
            type_name,
        )
    }

    fn data_source_type(
        &self,
        schema: &ProviderSchema,
        type_name: &str,
    ) -> Result<Type, Diagnostics> {
        lookup(
            &self.name,
            schema.data_source(type_name),
            "data source",
            type_name,
        )
    }

    fn shutdown_process(&self) {
        let (Some(p), Some(rt)) = (&self.process, &self.rt) else {
            return;
        };
        let in_async = tokio::runtime::Handle::try_current().is_ok();
        if !in_async && p.exit_rx.borrow().is_none() {
            let channel = self.channel.clone();
            let grace = self.timeouts.shutdown;
            let mut rx = p.exit_rx.clone();
            let exited = rt.block_on(async move {
                // go-plugin's controller asks the server to stop; plugins
                // without it simply get killed below.
                let _ = tokio::time::timeout(
                    grace,
                    unary::<proto::Empty, proto::Empty>(
                        channel,
                        proto::CONTROLLER_SHUTDOWN,
                        proto::Empty {},
                    ),
                )
                .await;
                tokio::time::timeout(grace, rx.wait_for(|s| s.is_some()))
                    .await
                    .is_ok()
            });
            if !exited {
                self.kill_process(p);
                let mut rx = p.exit_rx.clone();
                rt.block_on(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|s| s.is_some()))
                            .await;
                });
            }
        } else {
            self.kill_process(p);
        }
        if let Some(sock) = &p.socket {
            if p.exit_rx.borrow().is_some() {
                remove_socket(sock);
            }
        }
    }

    fn kill_process(&self, p: &Process) {
        if let Ok(mut tx) = p.kill_tx.lock() {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        }
    }
}

/// Whether a call failed only because the plugin predates the method
/// (protocol minor versions add RPCs; older plugins answer UNIMPLEMENTED).
fn unimplemented(d: &Diagnostics) -> bool {
    d.iter().any(|d| d.summary == "Unsupported plugin method")
}

fn lookup(
    provider: &str,
    s: Option<&Schema>,
    what: &str,
    type_name: &str,
) -> Result<Type, Diagnostics> {
    match s {
        Some(s) => Ok(s.block.implied_type()),
        None => Err(Diagnostics::from_error(
            format!("Unknown {what}"),
            format!("The provider {provider} does not support {what} {type_name:?}."),
        )),
    }
}

fn remove_socket(path: &std::path::Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(md) = std::fs::symlink_metadata(path) {
        if md.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for GrpcProvider {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.shutdown_process();
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn unary<Req, Resp>(
    channel: Channel,
    path: &'static str,
    req: Req,
) -> Result<Resp, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("connection not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
    let path = http::uri::PathAndQuery::from_static(path);
    grpc.unary(tonic::Request::new(req), path, codec)
        .await
        .map(tonic::Response::into_inner)
}

/// Reads one line (without its newline), at most `cap` bytes; `None` at EOF.
async fn read_line_capped<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    cap: usize,
) -> io::Result<Option<(Vec<u8>, bool)>> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() {
                None
            } else {
                Some((line, false))
            });
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let take = n.min(cap.saturating_sub(line.len()));
        line.extend_from_slice(&buf[..take]);
        r.consume(n);
        if done {
            while line.last() == Some(&b'\n') || line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some((line, true)));
        }
        if line.len() >= cap {
            return Ok(Some((line, false)));
        }
    }
}

/// Forwards a plugin's output stream to its log until EOF.
async fn pump<R: AsyncRead + Unpin>(r: R, log: Arc<PluginLog>) {
    let mut r = BufReader::new(r);
    while let Ok(Some((line, _))) = read_line_capped(&mut r, MAX_HANDSHAKE_LINE).await {
        log.line(&String::from_utf8_lossy(&line));
    }
}

async fn start_async(
    cfg: &PluginConfig,
    log: Arc<PluginLog>,
) -> Result<(handshake::Handshake, Channel, Process), PluginError> {
    let fail = |message: String| PluginError {
        provider: cfg.name.clone(),
        message,
    };
    let cert = if cfg.auto_mtls {
        Some(tls::ClientCert::generate().map_err(fail)?)
    } else {
        None
    };
    let mut cmd = tokio::process::Command::new(&cfg.path);
    cmd.args(&cfg.args)
        .env(handshake::MAGIC_COOKIE_KEY, handshake::MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", handshake::PROTOCOL_VERSIONS)
        .env("PLUGIN_MIN_PORT", handshake::MIN_PORT)
        .env("PLUGIN_MAX_PORT", handshake::MAX_PORT)
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(c) = &cert {
        cmd.env("PLUGIN_CLIENT_CERT", &c.pem);
    }
    // Providers built on the legacy SDK only log when TF_LOG is set; pass
    // the provider log level on when only TF_LOG_PROVIDER asked for logs.
    if let Some(level) = cfg.log.level {
        if std::env::var_os("TF_LOG").is_none() {
            cmd.env("TF_LOG", level.name());
        }
    }
    for (k, v) in &cfg.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", cfg.path.display())))?;
    let pid = child.id();
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, log.clone()));
    }
    let Some(out) = child.stdout.take() else {
        return Err(fail("the plugin's stdout is not available".into()));
    };
    let mut out = BufReader::new(out);

    let line = tokio::select! {
        r = read_line_capped(&mut out, MAX_HANDSHAKE_LINE) => match r {
            Ok(Some((l, true))) => String::from_utf8_lossy(&l).into_owned(),
            Ok(Some((_, false))) => {
                let _ = child.start_kill();
                return Err(fail("the plugin's handshake line is too long or incomplete".into()));
            }
            Ok(None) => {
                let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                // Let stderr drain into the log.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let how = match status {
                    Ok(Ok(s)) => format!(" ({s})"),
                    _ => String::new(),
                };
                return Err(fail(with_output(
                    format!("the plugin exited before completing the handshake{how}"),
                    &log,
                )));
            }
            Err(e) => {
                let _ = child.start_kill();
                return Err(fail(format!("reading the plugin's handshake: {e}")));
            }
        },
        _ = tokio::time::sleep(cfg.timeouts.handshake) => {
            let _ = child.start_kill();
            return Err(fail(with_output(
                format!(
                    "timeout while waiting for the plugin to start ({} seconds without a handshake)",
                    cfg.timeouts.handshake.as_secs()
                ),
                &log,
            )));
        }
    };
    let hs = match parse_handshake(&line) {
        Ok(hs) => hs,
        Err(e) => {
            let _ = child.start_kill();
            // Anything printed on stdout that is not a handshake is usually
            // a sign the binary is not a plugin (or was started wrongly).
            return Err(fail(with_output(
                format!("invalid plugin handshake: {e}"),
                &log,
            )));
        }
    };
    tokio::spawn(pump(out, log.clone()));

    let tls_cfg = match (&cert, &hs.server_cert) {
        (Some(c), Some(server)) => Some(Arc::new(
            tls::client_config(c, server.clone()).map_err(&fail)?,
        )),
        (Some(_), None) => None, // plugin predates AutoMTLS: plain gRPC
        (None, _) => None,
    };
    let channel = match connect(hs.address.clone(), tls_cfg, cfg.timeouts.connect).await {
        Ok(c) => c,
        Err(e) => {
            let _ = child.start_kill();
            return Err(fail(e));
        }
    };

    let (kill_tx, kill_rx) = oneshot::channel::<()>();
    let (exit_tx, exit_rx) = watch::channel(None);
    tokio::spawn(async move {
        let status = tokio::select! {
            s = child.wait() => s,
            _ = kill_rx => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let how = match status {
            Ok(s) => s.to_string(),
            Err(e) => format!("wait failed: {e}"),
        };
        let _ = exit_tx.send(Some(how));
    });
    let socket = match &hs.address {
        Address::Unix(p) => Some(PathBuf::from(p)),
        Address::Tcp(_) => None,
    };
    Ok((
        hs,
        channel,
        Process {
            pid,
            kill_tx: Mutex::new(Some(kill_tx)),
            exit_rx,
            socket,
        },
    ))
}

fn with_output(msg: String, log: &PluginLog) -> String {
    let out = log.crash_excerpt();
    if out.is_empty() {
        msg
    } else {
        format!("{msg}\nPlugin output:\n{out}")
    }
}

async fn connect(
    address: Address,
    tls: Option<Arc<rustls::ClientConfig>>,
    limit: Duration,
) -> Result<Channel, String> {
    let what = address.to_string();
    let endpoint = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_timeout(limit)
        .tcp_nodelay(true);
    let connector = Connector { address, tls };
    match tokio::time::timeout(limit, endpoint.connect_with_connector(connector)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!(
            "cannot connect to the plugin at {what}: {}",
            error_chain(&e)
        )),
        Err(_) => Err(format!(
            "timeout connecting to the plugin at {what} ({} seconds)",
            limit.as_secs()
        )),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let cs = c.to_string();
        if !s.contains(&cs) {
            s.push_str(": ");
            s.push_str(&cs);
        }
        cur = c.source();
    }
    s
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Connects to the plugin's socket, with TLS when configured.
#[derive(Clone)]
struct Connector {
    address: Address,
    tls: Option<Arc<rustls::ClientConfig>>,
}

type ConnectFuture = Pin<Box<dyn Future<Output = Result<TokioIo<Box<dyn Io>>, io::Error>> + Send>>;

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Box<dyn Io>>;
    type Error = io::Error;
    type Future = ConnectFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let me = self.clone();
        Box::pin(async move {
            let io: Box<dyn Io> = match &me.address {
                Address::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
                Address::Tcp(a) => {
                    let s = tokio::net::TcpStream::connect(a.as_str()).await?;
                    s.set_nodelay(true)?;
                    Box::new(s)
                }
            };
            let io: Box<dyn Io> = match me.tls {
                None => io,
                Some(cfg) => {
                    let name = rustls::pki_types::ServerName::try_from("localhost")
                        .map_err(io::Error::other)?;
                    let conn = tokio_rustls::TlsConnector::from(cfg);
                    Box::new(conn.connect(name, io).await?)
                }
            };
            Ok(TokioIo::new(io))
        })
    }
}

/// A running plugin to reattach to (one entry of `TF_REATTACH_PROVIDERS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReattachConfig {
    /// Plugin protocol version (5 or 6).
    pub protocol_version: u32,
    /// Where it listens.
    pub address: Address,
    /// Its process id, if given.
    pub pid: Option<u32>,
    /// Whether it runs under a test harness.
    pub test: bool,
}

/// Parses `TF_REATTACH_PROVIDERS`: a JSON object from provider source
/// address to `{"Protocol": "grpc", "ProtocolVersion": 5, "Pid": 123,
/// "Test": true, "Addr": {"Network": "unix", "String": "/tmp/plugin..."}}`.
/// Short addresses (`hashicorp/aws`) are qualified with
/// `registry.terraform.io/`.
pub fn parse_reattach_providers(s: &str) -> Result<BTreeMap<String, ReattachConfig>, String> {
    let v: serde_json::Value =
        serde_json::from_str(s).map_err(|e| format!("invalid TF_REATTACH_PROVIDERS: {e}"))?;
    let obj = v
        .as_object()
        .ok_or("invalid TF_REATTACH_PROVIDERS: not a JSON object")?;
    let mut out = BTreeMap::new();
    for (addr, c) in obj {
        let bad = |m: &str| format!("invalid TF_REATTACH_PROVIDERS entry for {addr}: {m}");
        let protocol = c.get("Protocol").and_then(|p| p.as_str()).unwrap_or("grpc");
        if protocol != "grpc" {
            return Err(bad(&format!("unsupported protocol {protocol:?}")));
        }
        let version = c
            .get("ProtocolVersion")
            .and_then(|p| p.as_u64())
            .unwrap_or(5);
        let a = c.get("Addr").ok_or_else(|| bad("missing Addr"))?;
        let network = a
            .get("Network")
            .and_then(|n| n.as_str())
            .ok_or_else(|| bad("missing Addr.Network"))?;
        let string = a
            .get("String")
            .and_then(|n| n.as_str())
            .ok_or_else(|| bad("missing Addr.String"))?;
        let address = Address::from_parts(network, string).map_err(|e| bad(&e))?;
        let key = if addr.split('/').count() == 2 {
            format!("registry.terraform.io/{addr}")
        } else {
            addr.clone()
        };
        out.insert(
            key,
            ReattachConfig {
                protocol_version: u32::try_from(version).unwrap_or(0),
                address,
                pid: c
                    .get("Pid")
                    .and_then(|p| p.as_u64())
                    .and_then(|p| u32::try_from(p).ok()),
                test: c.get("Test").and_then(|t| t.as_bool()).unwrap_or(false),
            },
        );
    }
    Ok(out)
}

impl Provider for GrpcProvider {
    fn get_schema(&self) -> GetSchemaResponse {
        let mut guard = match self.schema.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(r) = guard.as_ref() {
            return r.clone();
        }
        let (r, answered) = self.fetch_schema();
        // Transport failures are not cached: a later call may succeed.
        if answered {
            *guard = Some(r.clone());
        }
        r
    }

    fn validate_provider_config(&self, config: &Value) -> ValidateProviderConfigResponse {
        let run = || -> Result<ValidateProviderConfigResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = schema.provider.block.implied_type();
            let req = proto::ProviderConfigRequest {
                config: Some(self.encode(config, &ty, "the provider configuration")?),
            };
            let resp: proto::ProviderConfigResponse = self.call(
                "PrepareProviderConfig",
                self.methods.validate_provider_config,
                req,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let prepared_config = match resp.prepared_config.as_ref() {
                Some(dv) if !dv.msgpack.is_empty() || !dv.json.is_empty() => {
                    match self.decode(Some(dv), &ty, "prepared provider configuration") {
                        Ok(v) => v,
                        Err(d) => {
                            diagnostics.extend(d);
                            Value::null(ty)
                        }
                    }
                }
                _ => config.clone(),
            };
            Ok(ValidateProviderConfigResponse {
                prepared_config,
                diagnostics,
            })
        };
        run().unwrap_or_else(|diagnostics| ValidateProviderConfigResponse {
            prepared_config: Value::null_dynamic(),
            diagnostics,
        })
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, type_name)?;
            let req = proto::ValidateConfigRequest {
                type_name: type_name.to_string(),
                config: Some(self.encode(config, &ty, "the resource configuration")?),
            };
            let resp: proto::DiagnosticsResponse = self.call(
                "ValidateResourceTypeConfig",
                self.methods.validate_resource_config,
                req,
                self.timeouts.rpc,
            )?;
            Ok(Diagnostics::from_proto(&resp.diagnostics))
        };
        run().unwrap_or_else(|d| d)
    }

    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.data_source_type(&schema, type_name)?;
            let req = proto::ValidateConfigRequest {
                type_name: type_name.to_string(),
                config: Some(self.encode(config, &ty, "the data source configuration")?),
            };
            let resp: proto::DiagnosticsResponse = self.call(
                "ValidateDataSourceConfig",
                self.methods.validate_data_source_config,
                req,
                self.timeouts.rpc,
            )?;
            Ok(Diagnostics::from_proto(&resp.diagnostics))
        };
        run().unwrap_or_else(|d| d)
    }

    fn upgrade_resource_state(
        &self,
        req: &UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse {
        let run = || -> Result<UpgradeResourceStateResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, &req.type_name)?;
            let preq = proto::UpgradeResourceStateRequest {
                type_name: req.type_name.clone(),
                version: req.version,
                raw_state: Some(proto::RawState {
                    json: req.raw_state_json.clone().unwrap_or_default(),
                    flatmap: req.raw_state_flatmap.clone().unwrap_or_default(),
                }),
            };
            let resp: proto::UpgradeResourceStateResponse = self.call(
                "UpgradeResourceState",
                self.methods.upgrade_resource_state,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let upgraded_state = self
                .decode(resp.upgraded_state.as_ref(), &ty, "upgraded state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(UpgradeResourceStateResponse {
                upgraded_state,
                diagnostics,
            })
        };
        run().unwrap_or_else(|diagnostics| UpgradeResourceStateResponse {
            upgraded_state: Value::null_dynamic(),
            diagnostics,
        })
    }

    fn configure(&self, req: &ConfigureRequest) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let schema = self.schema()?;
            let ty = schema.provider.block.implied_type();
            let preq = proto::ConfigureRequest {
                terraform_version: req.terraform_version.clone(),
                config: Some(self.encode(&req.config, &ty, "the provider configuration")?),
            };
            let resp: proto::DiagnosticsResponse =
                self.call("Configure", self.methods.configure, preq, self.timeouts.rpc)?;
            Ok(Diagnostics::from_proto(&resp.diagnostics))
        };
        run().unwrap_or_else(|d| d)
    }

    fn read_resource(&self, req: &ReadResourceRequest) -> ReadResourceResponse {
        let run = || -> Result<ReadResourceResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, &req.type_name)?;
            let preq = proto::ReadResourceRequest {
                type_name: req.type_name.clone(),
                current_state: Some(self.encode(&req.current_state, &ty, "the current state")?),
                private: req.private.clone(),
                provider_meta: self.meta(&schema, &req.provider_meta)?,
            };
            let resp: proto::ReadResourceResponse = self.call(
                "ReadResource",
                self.methods.read_resource,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let new_state = self
                .decode(resp.new_state.as_ref(), &ty, "new state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(ReadResourceResponse {
                new_state,
                private: resp.private,
                diagnostics,
            })
        };
        run().unwrap_or_else(|diagnostics| ReadResourceResponse {
            new_state: Value::null_dynamic(),
            private: Vec::new(),
            diagnostics,
        })
    }

    fn plan_resource_change(&self, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let run = || -> Result<PlanResourceChangeResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, &req.type_name)?;
            let preq = proto::PlanResourceChangeRequest {
                type_name: req.type_name.clone(),
                prior_state: Some(self.encode(&req.prior_state, &ty, "the prior state")?),
                proposed_new_state: Some(self.encode(
                    &req.proposed_new_state,
                    &ty,
                    "the proposed new state",
                )?),
                config: Some(self.encode(&req.config, &ty, "the configuration")?),
                prior_private: req.prior_private.clone(),
                provider_meta: self.meta(&schema, &req.provider_meta)?,
            };
            let resp: proto::PlanResourceChangeResponse = self.call(
                "PlanResourceChange",
                self.methods.plan_resource_change,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let planned_state = self
                .decode(resp.planned_state.as_ref(), &ty, "planned state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(PlanResourceChangeResponse {
                planned_state,
                requires_replace: resp.requires_replace.iter().map(path_from_proto).collect(),
                planned_private: resp.planned_private,
                diagnostics,
                legacy_type_system: resp.legacy_type_system,
            })
        };
        run().unwrap_or_else(|diagnostics| PlanResourceChangeResponse {
            planned_state: Value::null_dynamic(),
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics,
            legacy_type_system: false,
        })
    }

    fn apply_resource_change(
        &self,
        req: &ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        let run = || -> Result<ApplyResourceChangeResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, &req.type_name)?;
            let preq = proto::ApplyResourceChangeRequest {
                type_name: req.type_name.clone(),
                prior_state: Some(self.encode(&req.prior_state, &ty, "the prior state")?),
                planned_state: Some(self.encode(&req.planned_state, &ty, "the planned state")?),
                config: Some(self.encode(&req.config, &ty, "the configuration")?),
                planned_private: req.planned_private.clone(),
                provider_meta: self.meta(&schema, &req.provider_meta)?,
            };
            let resp: proto::ApplyResourceChangeResponse = self.call(
                "ApplyResourceChange",
                self.methods.apply_resource_change,
                preq,
                self.timeouts.apply,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let new_state = self
                .decode(resp.new_state.as_ref(), &ty, "new state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(ApplyResourceChangeResponse {
                new_state,
                private: resp.private,
                diagnostics,
                legacy_type_system: resp.legacy_type_system,
            })
        };
        run().unwrap_or_else(|diagnostics| ApplyResourceChangeResponse {
            new_state: Value::null_dynamic(),
            private: Vec::new(),
            diagnostics,
            legacy_type_system: false,
        })
    }

    fn import_resource_state(
        &self,
        req: &ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let run = || -> Result<ImportResourceStateResponse, Diagnostics> {
            let schema = self.schema()?;
            self.resource_type(&schema, &req.type_name)?;
            let preq = proto::ImportResourceStateRequest {
                type_name: req.type_name.clone(),
                id: req.id.clone(),
            };
            let resp: proto::ImportResourceStateResponse = self.call(
                "ImportResourceState",
                self.methods.import_resource_state,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let mut imported_resources = Vec::new();
            for ir in &resp.imported_resources {
                let ty = match self.resource_type(&schema, &ir.type_name) {
                    Ok(t) => t,
                    Err(d) => {
                        diagnostics.extend(d);
                        continue;
                    }
                };
                match self.decode(ir.state.as_ref(), &ty, "imported state") {
                    Ok(state) => imported_resources.push(ImportedResource {
                        type_name: ir.type_name.clone(),
                        state,
                        private: ir.private.clone(),
                    }),
                    Err(d) => diagnostics.extend(d),
                }
            }
            Ok(ImportResourceStateResponse {
                imported_resources,
                diagnostics,
            })
        };
        run().unwrap_or_else(|diagnostics| ImportResourceStateResponse {
            imported_resources: Vec::new(),
            diagnostics,
        })
    }

    fn read_data_source(&self, req: &ReadDataSourceRequest) -> ReadDataSourceResponse {
        let run = || -> Result<ReadDataSourceResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.data_source_type(&schema, &req.type_name)?;
            let preq = proto::ReadDataSourceRequest {
                type_name: req.type_name.clone(),
                config: Some(self.encode(&req.config, &ty, "the configuration")?),
                provider_meta: self.meta(&schema, &req.provider_meta)?,
            };
            let resp: proto::ReadDataSourceResponse = self.call(
                "ReadDataSource",
                self.methods.read_data_source,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let state = self
                .decode(resp.state.as_ref(), &ty, "data source state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(ReadDataSourceResponse { state, diagnostics })
        };
        run().unwrap_or_else(|diagnostics| ReadDataSourceResponse {
            state: Value::null_dynamic(),
            diagnostics,
        })
    }

    fn stop(&self) -> Diagnostics {
        let res: Result<proto::StopResponse, Diagnostics> = self.call(
            "Stop",
            self.methods.stop,
            proto::Empty {},
            self.timeouts.stop,
        );
        match res {
            Ok(r) if r.error.is_empty() => Diagnostics::new(),
            Ok(r) => Diagnostics::from_error(
                "Provider failed to stop",
                format!("The provider {} could not stop: {}", self.name, r.error),
            ),
            Err(d) => d,
        }
    }

    fn close(&self) -> Diagnostics {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.shutdown_process();
        }
        Diagnostics::new()
    }

    fn get_metadata(&self) -> GetMetadataResponse {
        let res: Result<proto::GetMetadataResponse, Diagnostics> = self.call(
            "GetMetadata",
            self.methods.get_metadata,
            proto::Empty {},
            self.timeouts.rpc,
        );
        match res {
            Ok(r) => GetMetadataResponse {
                server_capabilities: crate::ServerCapabilities::from_proto(
                    r.server_capabilities.as_ref(),
                ),
                resources: r.resources.into_iter().map(|m| m.type_name).collect(),
                data_sources: r.data_sources.into_iter().map(|m| m.type_name).collect(),
                functions: r.functions.into_iter().map(|m| m.name).collect(),
                diagnostics: Diagnostics::from_proto(&r.diagnostics),
            },
            // Plugins before protocol 5.5/6.5: the same facts from the schema.
            Err(d) if unimplemented(&d) => {
                let r = self.get_schema();
                GetMetadataResponse {
                    server_capabilities: r.schema.server_capabilities,
                    resources: r.schema.resource_schemas.keys().cloned().collect(),
                    data_sources: r.schema.data_source_schemas.keys().cloned().collect(),
                    functions: r.schema.functions.keys().cloned().collect(),
                    diagnostics: r.diagnostics,
                }
            }
            Err(diagnostics) => GetMetadataResponse {
                diagnostics,
                ..GetMetadataResponse::default()
            },
        }
    }

    fn get_functions(&self) -> GetFunctionsResponse {
        let mut guard = match self.functions.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(r) = guard.as_ref() {
            return r.clone();
        }
        // The schema carries the functions (5.5+/6.5+); GetFunctions is for
        // callers that skip the schema. Ask it only when the schema has none.
        let schema = self.get_schema();
        if schema.diagnostics.has_errors() {
            return GetFunctionsResponse {
                functions: Arc::default(),
                diagnostics: schema.diagnostics,
            };
        }
        let r = if !schema.schema.functions.is_empty() {
            GetFunctionsResponse {
                functions: Arc::new(schema.schema.functions.clone()),
                diagnostics: Diagnostics::new(),
            }
        } else {
            let res: Result<proto::GetFunctionsResponse, Diagnostics> = self.call(
                "GetFunctions",
                self.methods.get_functions,
                proto::Empty {},
                self.timeouts.rpc,
            );
            match res {
                Ok(resp) => {
                    let (functions, mut diagnostics) =
                        FunctionSignature::map_from_proto(&resp.functions);
                    diagnostics.extend(Diagnostics::from_proto(&resp.diagnostics));
                    GetFunctionsResponse {
                        functions: Arc::new(functions),
                        diagnostics,
                    }
                }
                Err(d) if unimplemented(&d) => GetFunctionsResponse::default(),
                // Transport failures are not cached.
                Err(diagnostics) => {
                    return GetFunctionsResponse {
                        functions: Arc::default(),
                        diagnostics,
                    }
                }
            }
        };
        *guard = Some(r.clone());
        r
    }

    fn call_function(&self, req: &CallFunctionRequest) -> CallFunctionResponse {
        let run = || -> Result<CallFunctionResponse, Diagnostics> {
            let fns = self.get_functions();
            if fns.diagnostics.has_errors() {
                return Err(fns.diagnostics);
            }
            let Some(sig) = fns.functions.get(&req.name) else {
                return Err(Diagnostics::from_error(
                    "Call to unknown function",
                    format!(
                        "The provider {} does not define a function named {:?}.",
                        self.name, req.name
                    ),
                ));
            };
            let mut arguments = Vec::with_capacity(req.arguments.len());
            for (i, a) in req.arguments.iter().enumerate() {
                let Some(p) = sig.parameter(i) else {
                    return Err(Diagnostics::from_error(
                        "Too many function arguments",
                        format!(
                            "Function {:?} expects only {} argument(s).",
                            req.name,
                            sig.parameters.len()
                        ),
                    ));
                };
                arguments.push(self.encode(a, &p.ty, &format!("argument {:?}", p.name))?);
            }
            let preq = proto::CallFunctionRequest {
                name: req.name.clone(),
                arguments,
            };
            let resp: proto::CallFunctionResponse = self.call(
                "CallFunction",
                self.methods.call_function,
                preq,
                self.timeouts.rpc,
            )?;
            if let Some(e) = resp.error {
                let error = FunctionError {
                    text: e.text,
                    argument: e.function_argument.and_then(|i| usize::try_from(i).ok()),
                };
                let d = error.to_diagnostic(&req.name, Some(sig));
                return Ok(CallFunctionResponse {
                    result: Value::null(sig.return_type.clone()),
                    error: Some(error),
                    diagnostics: Diagnostics(vec![d]),
                });
            }
            let result = self.decode(resp.result.as_ref(), &sig.return_type, "function result")?;
            Ok(CallFunctionResponse {
                result,
                error: None,
                diagnostics: Diagnostics::new(),
            })
        };
        run().unwrap_or_else(CallFunctionResponse::failed)
    }

    fn move_resource_state(&self, req: &MoveResourceStateRequest) -> MoveResourceStateResponse {
        let run = || -> Result<MoveResourceStateResponse, Diagnostics> {
            let schema = self.schema()?;
            let ty = self.resource_type(&schema, &req.target_type_name)?;
            let preq = proto::MoveResourceStateRequest {
                source_provider_address: req.source_provider_address.clone(),
                source_type_name: req.source_type_name.clone(),
                source_schema_version: req.source_schema_version,
                source_state: Some(proto::RawState {
                    json: req.source_state_json.clone(),
                    flatmap: BTreeMap::new(),
                }),
                target_type_name: req.target_type_name.clone(),
                source_private: req.source_private.clone(),
            };
            let resp: proto::MoveResourceStateResponse = self.call(
                "MoveResourceState",
                self.methods.move_resource_state,
                preq,
                self.timeouts.rpc,
            )?;
            let mut diagnostics = Diagnostics::from_proto(&resp.diagnostics);
            let target_state = self
                .decode(resp.target_state.as_ref(), &ty, "moved state")
                .unwrap_or_else(|d| {
                    diagnostics.extend(d);
                    Value::null(ty.clone())
                });
            Ok(MoveResourceStateResponse {
                target_state,
                target_private: resp.target_private,
                diagnostics,
            })
        };
        run().unwrap_or_else(|diagnostics| MoveResourceStateResponse {
            target_state: Value::null_dynamic(),
            target_private: Vec::new(),
            diagnostics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_json() {
        let m = parse_reattach_providers(
            r#"{"hashicorp/null":{"Protocol":"grpc","ProtocolVersion":5,"Pid":42,"Test":true,
                "Addr":{"Network":"unix","String":"/tmp/plugin1"}}}"#,
        )
        .expect("parse");
        let c = m
            .get("registry.terraform.io/hashicorp/null")
            .expect("qualified key");
        assert_eq!(c.protocol_version, 5);
        assert_eq!(c.address, Address::Unix("/tmp/plugin1".into()));
        assert_eq!(c.pid, Some(42));
        assert!(parse_reattach_providers("[]").is_err());
        assert!(parse_reattach_providers(r#"{"a/b":{"Addr":{}}}"#).is_err());
    }

    /// A server whose certificate is not the one announced is refused.
    #[test]
    fn tls_refuses_other_certificate() {
        let dir = std::env::temp_dir().join(format!("terrane-plugin-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let sock = dir.join("tls.sock");
        let _ = std::fs::remove_file(&sock);
        let rt = runtime("test").expect("runtime");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let server_cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));
        let sock2 = sock.clone();
        let res = rt.block_on(async move {
            let listener = tokio::net::UnixListener::bind(&sock2).expect("bind");
            tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    let _ = acceptor.accept(s).await;
                }
            });
            let client = tls::ClientCert::generate().expect("client cert");
            // Pin a different certificate than the server's.
            let mut other = cert.der().to_vec();
            if let Some(b) = other.last_mut() {
                *b ^= 0xff;
            }
            let cfg = tls::client_config(&client, other).expect("client config");
            connect(
                Address::Unix(sock2.to_string_lossy().into_owned()),
                Some(Arc::new(cfg)),
                Duration::from_secs(3),
            )
            .await
        });
        let _ = std::fs::remove_file(&sock);
        let _ = std::fs::remove_dir(&dir);
        let e = match res {
            Ok(_) => panic!("a wrong server certificate must be refused"),
            Err(e) => e,
        };
        eprintln!("{e}");
        assert!(e.contains("certificate other than"), "{e}");
    }

    #[test]
    fn missing_binary_is_an_error() {
        let cfg = PluginConfig::new("example/missing", "/nonexistent/terraform-provider-x");
        let e = GrpcProvider::start(cfg).err().expect("must fail");
        assert!(e.message.contains("cannot start"), "{e}");
    }
}
