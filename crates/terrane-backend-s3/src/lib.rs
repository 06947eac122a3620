//! The `s3` state backend, compatible with Terraform 1.0.3's (and the
//! `use_lockfile` locking of Terraform 1.10).
//!
//! * The default workspace's state is the object `key` in `bucket`;
//!   workspace `W`'s is `<workspace_key_prefix>/W/<key>` (prefix `env:`
//!   by default). Workspaces are listed by that prefix.
//! * Uploads replace the object (a new version in a versioned bucket; old
//!   versions are never removed), with SSE (`encrypt`, `kms_key_id`,
//!   `sse_customer_key`) and a canned `acl` as configured.
//! * Locking and the state digest: see [`client`].
//!
//! Built on the AWS SDK for Rust with rustls on ring; each backend owns a
//! current-thread tokio runtime, so its API is blocking.

mod aws;
pub mod client;
pub mod settings;

use std::sync::Arc;

use terrane_state::backend::{
    Backend, BackendConfig, BackendError, BackendType, RemoteState, RetryPolicy, StateMgr,
};

pub use client::S3Client;
pub use settings::{Settings, SCHEMA};

/// The `s3` backend type.
pub const BACKEND: BackendType = BackendType {
    name: "s3",
    schema: SCHEMA,
    configure,
};

/// [`BACKEND`] under the name the CLI's registry uses.
pub const BACKEND_TYPE: BackendType = BACKEND;

fn configure(config: &BackendConfig) -> Result<Box<dyn Backend>, BackendError> {
    Ok(Box::new(S3Backend::new(Settings::from_config(config)?)?))
}

/// A configured s3 backend.
pub struct S3Backend {
    aws: Arc<aws::Aws>,
    settings: Arc<Settings>,
}

impl S3Backend {
    /// Connects with `settings` (nothing is requested until used, unless
    /// credentials are validated).
    pub fn new(settings: Settings) -> Result<S3Backend, BackendError> {
        let aws = aws::Aws::connect(&settings)?;
        Ok(S3Backend {
            aws: Arc::new(aws),
            settings: Arc::new(settings),
        })
    }

    /// The decoded configuration.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The remote client of a workspace's state object.
    pub fn client(&self, workspace: &str) -> S3Client {
        S3Client {
            aws: self.aws.clone(),
            settings: self.settings.clone(),
            object_key: self.settings.state_key(workspace),
            consistency_timeout: client::CONSISTENCY_TIMEOUT,
        }
    }

    /// [`client`](Self::client) with a shorter wait for a digest match
    /// (tests of the mismatch error).
    pub fn client_with_consistency_timeout(
        &self,
        workspace: &str,
        timeout: std::time::Duration,
    ) -> S3Client {
        S3Client {
            consistency_timeout: timeout,
            ..self.client(workspace)
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.settings.max_retries + 1,
            ..RetryPolicy::default()
        }
    }

    fn list_objects(&self) -> Result<Vec<String>, BackendError> {
        let bucket = self.settings.bucket.clone();
        let prefix = self.settings.list_prefix();
        let s3 = self.aws.s3.clone();
        self.aws.block_on(async move {
            let mut keys = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut req = s3.list_objects_v2().bucket(&bucket);
                if !prefix.is_empty() {
                    req = req.prefix(&prefix);
                }
                if let Some(t) = &token {
                    req = req.continuation_token(t);
                }
                let out = req.send().await.map_err(|e| {
                    aws::sdk_error(&format!("failed to list the objects in s3://{bucket}"), &e)
                })?;
                keys.extend(
                    out.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
                match out.next_continuation_token() {
                    Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => break,
                }
            }
            Ok(keys)
        })
    }
}

impl Backend for S3Backend {
    fn workspaces(&mut self) -> Result<Vec<String>, BackendError> {
        let mut names: Vec<String> = self
            .list_objects()?
            .iter()
            .filter_map(|k| self.settings.workspace_of(k))
            .filter(|n| n != "default")
            .collect();
        names.sort();
        names.dedup();
        names.insert(0, "default".to_string());
        Ok(names)
    }

    fn delete_workspace(&mut self, name: &str) -> Result<(), BackendError> {
        if name == "default" || name.is_empty() {
            return Err(BackendError::new("can't delete the default workspace"));
        }
        let mut client = self.client(name);
        terrane_state::backend::RemoteClient::delete(&mut client)
    }

    fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError> {
        let client = self.client(workspace);
        let location = client.lock_path();
        Ok(Box::new(
            RemoteState::new(Box::new(client), location).with_retry(self.retry_policy()),
        ))
    }
}
