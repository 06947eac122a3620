//! The AWS SDK clients behind the backend, on a current-thread tokio
//! runtime owned here so that callers stay synchronous.

use std::future::Future;
use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_http_client::tls;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use terrane_state::backend::BackendError;

use crate::settings::Settings;

/// The runtime and the service clients, shared by every workspace's client.
pub(crate) struct Aws {
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: Option<aws_sdk_dynamodb::Client>,
}

impl Aws {
    /// Builds the clients for `settings` (credentials are resolved lazily
    /// unless they are to be validated).
    pub fn connect(settings: &Settings) -> Result<Aws, BackendError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| BackendError::new(format!("cannot start the AWS client runtime: {e}")))?;
        let (s3, dynamodb) = block_on(&runtime, clients(settings))?;
        Ok(Aws {
            runtime: Some(runtime),
            s3,
            dynamodb,
        })
    }

    /// Runs `future` to completion on this backend's runtime.
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        match &self.runtime {
            Some(runtime) => block_on(runtime, future),
            None => unreachable!("the runtime is only taken on drop"),
        }
    }
}

impl Drop for Aws {
    fn drop(&mut self) {
        // Without waiting: a blocking shutdown would panic if the last
        // owner is dropped inside some other runtime's task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `future` on `runtime`, also when called from inside some other
/// tokio runtime (where blocking directly would panic): then from a
/// thread of its own.
fn block_on<F>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(
        |scope| match scope.spawn(|| runtime.block_on(future)).join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    )
}

async fn clients(
    settings: &Settings,
) -> Result<(aws_sdk_s3::Client, Option<aws_sdk_dynamodb::Client>), BackendError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let region = Region::new(settings.region.clone());
    let profile_files = settings.shared_credentials_file.as_ref().map(|path| {
        EnvConfigFiles::builder()
            .include_default_config_file(true)
            .with_file(EnvConfigFileKind::Credentials, expand_home(path))
            .build()
    });
    // Retries are `RemoteState`'s job (with `max_retries`), so the SDK
    // makes one attempt; timeouts keep a dead endpoint from hanging us.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(120))
        .build();
    let provider_config = ProviderConfig::without_region()
        .with_region(Some(region.clone()))
        .with_http_client(http.clone())
        .with_behavior_version(Some(BehaviorVersion::latest()))
        .with_timeout_config(timeouts.clone());

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .http_client(http.clone())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .credentials_provider(credentials_chain(
            settings,
            &provider_config,
            profile_files.clone(),
        ));
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    if let Some(files) = profile_files {
        loader = loader.profile_files(files);
    }
    if let Some(e) = &settings.sts_endpoint {
        // Only STS (assume role) uses the loader's endpoint: s3 and
        // dynamodb get theirs below.
        loader = loader.endpoint_url(e);
    }
    let mut base = loader.load().await;

    if let Some(role) = &settings.assume_role {
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
            .region(region.clone())
            .configure(&base);
        if let Some(n) = &role.session_name {
            builder = builder.session_name(n);
        }
        if let Some(x) = &role.external_id {
            builder = builder.external_id(x);
        }
        if let Some(p) = &role.policy {
            builder = builder.policy(p);
        }
        if !role.policy_arns.is_empty() {
            builder = builder.policy_arns(role.policy_arns.clone());
        }
        if let Some(d) = role.duration_seconds {
            builder = builder.session_length(Duration::from_secs(d));
        }
        if !role.tags.is_empty() {
            builder = builder.tags(role.tags.clone());
        }
        let provider = builder.build().await;
        base = base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }

    if !settings.skip_credentials_validation {
        // Terraform asks STS who the caller is; resolving the credentials
        // catches the common case (none found) without another service.
        if let Some(provider) = base.credentials_provider() {
            provider.provide_credentials().await.map_err(|e| {
                BackendError::new(format!(
                    "No valid credential sources found for the s3 backend: {}.\n\nSet access_key and secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in the shared credentials file.",
                    DisplayErrorContext(&e)
                ))
            })?;
        }
    }

    let mut s3 = aws_sdk_s3::config::Builder::from(&base)
        .force_path_style(settings.path_style)
        // Plain PUTs as Terraform sends them: S3-compatible stores (and
        // older moto) reject the chunked trailing checksums newer SDKs add.
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired);
    s3.set_endpoint_url(settings.s3_endpoint.clone());
    let s3 = aws_sdk_s3::Client::from_conf(s3.build());
    let dynamodb = settings.dynamodb_table.as_ref().map(|_| {
        let mut conf = aws_sdk_dynamodb::config::Builder::from(&base);
        conf.set_endpoint_url(settings.dynamodb_endpoint.clone());
        let conf = conf.build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    });
    Ok((s3, dynamodb))
}

/// Static keys, then the environment, the shared files (with `profile`),
/// web identity, the container endpoint and, unless
/// `skip_metadata_api_check`, the instance metadata service.
fn credentials_chain(
    settings: &Settings,
    provider_config: &ProviderConfig,
    profile_files: Option<EnvConfigFiles>,
) -> CredentialsProviderChain {
    let mut profile =
        aws_config::profile::ProfileFileCredentialsProvider::builder().configure(provider_config);
    if let Some(p) = &settings.profile {
        profile = profile.profile_name(p);
    }
    if let Some(files) = profile_files {
        profile = profile.profile_files(files);
    }
    let mut chain = match (&settings.access_key, &settings.secret_key) {
        (Some(access), Some(secret)) => CredentialsProviderChain::first_try(
            "StaticConfiguration",
            Credentials::new(
                access.clone(),
                secret.clone(),
                settings.token.clone(),
                None,
                "terrane-s3-backend",
            ),
        )
        .or_else("Environment", EnvironmentVariableCredentialsProvider::new()),
        _ => CredentialsProviderChain::first_try(
            "Environment",
            EnvironmentVariableCredentialsProvider::new(),
        ),
    };
    chain = chain
        .or_else("Profile", profile.build())
        .or_else(
            "WebIdentityToken",
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .configure(provider_config)
                .build(),
        )
        .or_else(
            "EcsContainer",
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(provider_config)
                .build(),
        );
    if !settings.skip_metadata_api_check {
        chain = chain.or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(provider_config)
                .build(),
        );
    }
    chain
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

/// An SDK error as a backend error: `what` failed, with the service's code
/// and message; transient for connection failures, timeouts, throttling
/// and 5xx responses.
pub(crate) fn sdk_error<E, R>(
    what: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HasStatus,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            BackendError::transient(format!("{what}: {}", DisplayErrorContext(err)))
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let code = service.err().code().unwrap_or("");
            let message = service.err().message().unwrap_or("");
            let text = match (code.is_empty(), message.is_empty()) {
                (false, false) => format!("{what}: {code}: {message}\n\tstatus code: {status}"),
                (false, true) => format!("{what}: {code}\n\tstatus code: {status}"),
                _ => format!("{what}: status code: {status}"),
            };
            let throttled = matches!(
                code,
                "Throttling"
                    | "ThrottlingException"
                    | "SlowDown"
                    | "RequestTimeout"
                    | "RequestLimitExceeded"
                    | "ProvisionedThroughputExceededException"
                    | "InternalError"
            );
            if status >= 500 || status == 429 || throttled {
                BackendError::transient(text)
            } else {
                BackendError::new(text)
            }
        }
        _ => BackendError::new(format!("{what}: {}", DisplayErrorContext(err))),
    }
}

/// The HTTP status of a raw response.
pub(crate) trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocking_from_inside_another_runtime_does_not_panic() {
        let ours = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let theirs = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let answer = theirs.block_on(async { super::block_on(&ours, async { 41 + 1 }) });
        assert_eq!(answer, 42);
    }
}
