//! `terraform-provider-terranetest`: a protocol-6 provider plugin for
//! terrane's tests and benchmarks (see README.md).
//!
//! go-plugin contract: started with `TF_PLUGIN_MAGIC_COOKIE` and
//! `PLUGIN_PROTOCOL_VERSIONS`, it listens on a Unix socket, prints
//! `1|6|unix|PATH|grpc|CERT` on stdout and serves gRPC over HTTP/2 until
//! the client calls `plugin.GRPCController/Shutdown` or kills it. With
//! `PLUGIN_CLIENT_CERT` set it uses AutoMTLS (see [`tls`]), otherwise plain
//! HTTP/2 and an empty CERT field.

mod provider;
mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use terrane_plugin::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use terrane_plugin::proto;

use crate::provider::TestProvider;

type HttpResponse = http::Response<tonic::body::Body>;

/// The provider's address in debug mode's reattach line.
const ADDRESS: &str = "registry.terraform.io/terrane/terranetest";

fn main() -> ExitCode {
    // `-debug`: serve for TF_REATTACH_PROVIDERS (plain HTTP/2, no cookie),
    // like providers built on terraform-plugin-go.
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "-debug" || a == "--debug");
    if !debug && std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "This binary is a plugin. These are not meant to be executed directly.\n\
             Please execute the program that consumes these plugins, which will\n\
             load any plugins automatically"
        );
        return ExitCode::from(1);
    }
    let versions = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    if !debug && !versions.split(',').any(|v| v.trim() == "6") {
        eprintln!(
            "terraform-provider-terranetest speaks plugin protocol 6 only; \
             the client offered {versions:?}"
        );
        return ExitCode::from(1);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(serve(debug)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-terranetest: {e}");
            ExitCode::from(1)
        }
    }
}

fn socket_path() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "terranetest-plugin-{}-{nanos}.sock",
        std::process::id()
    ))
}

async fn serve(debug: bool) -> Result<(), String> {
    let tls = if debug { None } else { tls::from_env()? };
    let path = socket_path();
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    if debug {
        let reattach = format!(
            "{{\"{ADDRESS}\":{{\"Protocol\":\"grpc\",\"ProtocolVersion\":6,\"Pid\":{},\"Test\":true,\"Addr\":{{\"Network\":\"unix\",\"String\":\"{}\"}}}}}}",
            std::process::id(),
            path.display()
        );
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS \
             environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'"
        )
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write the reattach line: {e}"))?;
    } else {
        let cert = tls.as_ref().map_or("", |t| t.cert_base64.as_str());
        let mut out = std::io::stdout().lock();
        writeln!(out, "1|6|unix|{}|grpc|{cert}", path.display())
            .and_then(|_| out.flush())
            .map_err(|e| format!("cannot write the handshake: {e}"))?;
    }
    let provider = Arc::new(TestProvider::new());
    let (shutdown_tx, mut shutdown_rx) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let provider = provider.clone();
                let shutdown_tx = shutdown_tx.clone();
                let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        route(provider.clone(), shutdown_tx.clone(), req)
                    });
                    let http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                    match acceptor {
                        None => {
                            let _ = http2.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(acceptor) => {
                            // A client that fails the handshake just loses its connection.
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http2.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    }
                });
            }
            _ = shutdown_rx.recv() => break,
        }
    }
    // Let the Shutdown answer reach the client before the process ends.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn route(
    p: Arc<TestProvider>,
    shutdown: tokio::sync::mpsc::Sender<()>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<HttpResponse, Infallible> {
    let path = req.uri().path().to_owned();
    let rpc = path.strip_prefix("/tfplugin6.Provider/").unwrap_or("");
    let resp = match rpc {
        "GetMetadata" => unary(req, move |_: proto::Empty| async move { p.get_metadata() }).await,
        "GetProviderSchema" => {
            unary(req, move |_: proto::Empty| async move {
                p.get_provider_schema()
            })
            .await
        }
        "ValidateProviderConfig" => {
            unary(req, move |_: proto::ProviderConfigRequest| async move {
                proto::ProviderConfigResponse::default()
            })
            .await
        }
        "ValidateResourceConfig" => {
            unary(req, move |r: proto::ValidateConfigRequest| async move {
                p.validate_resource_config(r)
            })
            .await
        }
        "ValidateDataResourceConfig" => {
            unary(req, move |r: proto::ValidateConfigRequest| async move {
                p.unknown_data_source(&r.type_name)
            })
            .await
        }
        "UpgradeResourceState" => unary(
            req,
            move |r: proto::UpgradeResourceStateRequest| async move { p.upgrade_resource_state(r) },
        )
        .await,
        "ConfigureProvider" => {
            unary(req, move |_: proto::ConfigureRequest| async move {
                proto::DiagnosticsResponse::default()
            })
            .await
        }
        "ReadResource" => {
            unary(req, move |r: proto::ReadResourceRequest| async move {
                proto::ReadResourceResponse {
                    new_state: r.current_state,
                    diagnostics: Vec::new(),
                    private: r.private,
                }
            })
            .await
        }
        "PlanResourceChange" => {
            unary(req, move |r: proto::PlanResourceChangeRequest| async move {
                let delay = p.plan_delay(&r);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                p.plan_resource_change(r)
            })
            .await
        }
        "ApplyResourceChange" => unary(
            req,
            move |r: proto::ApplyResourceChangeRequest| async move { p.apply_resource_change(r) },
        )
        .await,
        "ImportResourceState" => unary(
            req,
            move |r: proto::ImportResourceStateRequest| async move { p.import_resource_state(r) },
        )
        .await,
        "MoveResourceState" => {
            unary(req, move |r: proto::MoveResourceStateRequest| async move {
                p.move_resource_state(r)
            })
            .await
        }
        "ReadDataSource" => {
            unary(req, move |r: proto::ReadDataSourceRequest| async move {
                proto::ReadDataSourceResponse {
                    state: None,
                    diagnostics: p.unknown_data_source(&r.type_name).diagnostics,
                }
            })
            .await
        }
        "GetFunctions" => {
            unary(req, move |_: proto::Empty| async move {
                proto::GetFunctionsResponse {
                    functions: p.functions(),
                    diagnostics: Vec::new(),
                }
            })
            .await
        }
        "CallFunction" => {
            unary(req, move |r: proto::CallFunctionRequest| async move {
                p.call_function(r)
            })
            .await
        }
        "StopProvider" => {
            unary(req, move |_: proto::Empty| async move {
                proto::StopResponse::default()
            })
            .await
        }
        _ if path == proto::CONTROLLER_SHUTDOWN => {
            unary(req, move |_: proto::Empty| async move {
                let _ = shutdown.try_send(());
                proto::Empty {}
            })
            .await
        }
        _ => tonic::Status::unimplemented(format!("unknown method {path}")).into_http(),
    };
    Ok(resp)
}

/// Serves one unary call with `handler`.
async fn unary<Req, Res, F, Fut>(
    req: http::Request<hyper::body::Incoming>,
    handler: F,
) -> HttpResponse
where
    Req: prost::Message + Default + Send + 'static,
    Res: prost::Message + Send + 'static,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Res> + Send + 'static,
{
    let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<Res, Req>::default())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    grpc.unary(Handler(Some(handler)), req).await
}

/// A single-use gRPC service around a handler function.
struct Handler<F>(Option<F>);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<Req, Res, F, Fut> tower_service::Service<tonic::Request<Req>> for Handler<F>
where
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Res> + Send + 'static,
    Res: Send + 'static,
{
    type Response = tonic::Response<Res>;
    type Error = tonic::Status;
    type Future = BoxFuture<Result<tonic::Response<Res>, tonic::Status>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), tonic::Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: tonic::Request<Req>) -> Self::Future {
        match self.0.take() {
            Some(f) => {
                let fut = f(req.into_inner());
                Box::pin(async move { Ok(tonic::Response::new(fut.await)) })
            }
            None => Box::pin(async { Err(tonic::Status::internal("handler called twice")) }),
        }
    }
}
