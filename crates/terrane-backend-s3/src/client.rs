//! One workspace's state object in S3, with Terraform's locking records:
//!
//! * DynamoDB (`dynamodb_table`, Terraform 1.0.3): the lock is the item
//!   `LockID = "<bucket>/<object key>"` whose `Info` is the lock info JSON,
//!   put only if absent; after each state upload the item
//!   `LockID = "<bucket>/<object key>-md5"` gets the state's MD5 in
//!   `Digest`, which readers check (S3 was eventually consistent).
//! * The S3 lock file (`use_lockfile`, Terraform 1.10): the object
//!   `<object key>.tflock` holding the lock info JSON, created with
//!   `If-None-Match: *`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption};
use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use terrane_state::backend::{BackendError, RemoteClient};
use terrane_state::lock::{LockError, LockInfo};

use crate::aws::{sdk_error, Aws};
use crate::settings::Settings;

/// How long a read waits for the stored object to match the digest
/// DynamoDB records, and how often it looks again (Terraform's values).
pub(crate) const CONSISTENCY_TIMEOUT: Duration = Duration::from_secs(10);
const CONSISTENCY_POLL: Duration = Duration::from_secs(2);

/// The [`RemoteClient`] of one state object.
pub struct S3Client {
    pub(crate) aws: Arc<Aws>,
    pub(crate) settings: Arc<Settings>,
    /// The state object's key.
    pub(crate) object_key: String,
    /// How long `get` waits for a digest match.
    pub(crate) consistency_timeout: Duration,
}

impl S3Client {
    /// `<bucket>/<object key>`: the lock item's ID and the lock info's Path.
    pub fn lock_path(&self) -> String {
        format!("{}/{}", self.settings.bucket, self.object_key)
    }

    fn lockfile_key(&self) -> String {
        format!("{}.tflock", self.object_key)
    }

    fn table(&self) -> Option<(&aws_sdk_dynamodb::Client, &str)> {
        match (&self.aws.dynamodb, &self.settings.dynamodb_table) {
            (Some(c), Some(t)) => Some((c, t.as_str())),
            _ => None,
        }
    }

    fn sse_customer(&self) -> Option<(String, String)> {
        let key = self.settings.sse_customer_key.as_ref()?;
        if !self.settings.encrypt {
            return None;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        Some((b64.encode(key), b64.encode(Md5::digest(key))))
    }

    /// The object's bytes; `None` when it does not exist.
    fn fetch_object(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let mut req = self
            .aws
            .s3
            .get_object()
            .bucket(&self.settings.bucket)
            .key(key);
        if let Some((k, md5)) = self.sse_customer() {
            req = req
                .sse_customer_algorithm("AES256")
                .sse_customer_key(k)
                .sse_customer_key_md5(md5);
        }
        let what = format!("failed to read s3://{}/{key}", self.settings.bucket);
        self.aws.block_on(async {
            match req.send().await {
                Ok(out) => match out.body.collect().await {
                    Ok(data) => Ok(Some(data.into_bytes().to_vec())),
                    Err(e) => Err(BackendError::transient(format!("{what}: {e}"))),
                },
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                Err(e) if missing_object(&e) => Ok(None),
                Err(e) => Err(sdk_error(&what, &e)),
            }
        })
    }

    fn put_object(&self, key: &str, data: &[u8], only_if_absent: bool) -> Result<(), PutError> {
        let mut req = self
            .aws
            .s3
            .put_object()
            .bucket(&self.settings.bucket)
            .key(key)
            .content_type("application/json")
            .content_length(data.len() as i64)
            .body(ByteStream::from(data.to_vec()));
        if self.settings.encrypt {
            if let Some(kms) = &self.settings.kms_key_id {
                req = req
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(kms);
            } else if let Some((k, md5)) = self.sse_customer() {
                req = req
                    .sse_customer_algorithm("AES256")
                    .sse_customer_key(k)
                    .sse_customer_key_md5(md5);
            } else {
                req = req.server_side_encryption(ServerSideEncryption::Aes256);
            }
        }
        if let Some(acl) = &self.settings.acl {
            req = req.acl(ObjectCannedAcl::from(acl.as_str()));
        }
        if only_if_absent {
            req = req.if_none_match("*");
        }
        let what = format!("failed to upload s3://{}/{key}", self.settings.bucket);
        self.aws.block_on(async {
            match req.send().await {
                Ok(_) => Ok(()),
                // 412: the object exists; 409: a concurrent conditional
                // write won.
                Err(e)
                    if only_if_absent
                        && e.raw_response()
                            .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) =>
                {
                    Err(PutError::Exists(
                        e.as_service_error()
                            .map(|s| service_words(s.code(), s.message()))
                            .unwrap_or_else(|| "PreconditionFailed".to_string()),
                    ))
                }
                Err(e) => Err(PutError::Failed(sdk_error(&what, &e))),
            }
        })
    }

    fn delete_object(&self, key: &str) -> Result<(), BackendError> {
        let req = self
            .aws
            .s3
            .delete_object()
            .bucket(&self.settings.bucket)
            .key(key);
        let what = format!("failed to delete s3://{}/{key}", self.settings.bucket);
        self.aws.block_on(async {
            match req.send().await {
                Ok(_) => Ok(()),
                Err(e) if missing_object(&e) => Ok(()),
                Err(e) => Err(sdk_error(&what, &e)),
            }
        })
    }

    /// The digest DynamoDB records for this state (hex MD5), if any.
    fn stored_digest(&self) -> Result<Option<String>, BackendError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(None);
        };
        let req = ddb
            .get_item()
            .table_name(table)
            .key(
                "LockID",
                AttributeValue::S(format!("{}-md5", self.lock_path())),
            )
            .consistent_read(true)
            .projection_expression("LockID, Digest");
        self.aws.block_on(async {
            let out = req
                .send()
                .await
                .map_err(|e| sdk_error("failed to read the state digest from DynamoDB", &e))?;
            Ok(out
                .item
                .and_then(|item| match item.get("Digest") {
                    Some(AttributeValue::S(s)) => Some(s.clone()),
                    _ => None,
                })
                .filter(|s| !s.is_empty()))
        })
    }

    fn put_digest(&self, digest: &str) -> Result<(), BackendError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(());
        };
        let req = ddb
            .put_item()
            .table_name(table)
            .item(
                "LockID",
                AttributeValue::S(format!("{}-md5", self.lock_path())),
            )
            .item("Digest", AttributeValue::S(digest.to_string()));
        self.aws.block_on(async {
            req.send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("failed to store the state digest in DynamoDB", &e))
        })
    }

    fn delete_digest(&self) -> Result<(), BackendError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(());
        };
        let req = ddb.delete_item().table_name(table).key(
            "LockID",
            AttributeValue::S(format!("{}-md5", self.lock_path())),
        );
        self.aws.block_on(async {
            req.send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("failed to delete the state digest from DynamoDB", &e))
        })
    }

    /// The lock info in the DynamoDB lock item, if there is one.
    fn dynamodb_lock_info(&self) -> Result<Option<LockInfo>, BackendError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(None);
        };
        let req = ddb
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(self.lock_path()))
            .consistent_read(true)
            .projection_expression("LockID, Info");
        self.aws.block_on(async {
            let out = req
                .send()
                .await
                .map_err(|e| sdk_error("failed to read the lock from DynamoDB", &e))?;
            Ok(out.item.and_then(|item| match item.get("Info") {
                Some(AttributeValue::S(s)) => LockInfo::parse(s.as_bytes()),
                _ => None,
            }))
        })
    }

    fn lock_dynamodb(&self, info: &LockInfo) -> Result<(), LockError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(());
        };
        let req = ddb
            .put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(self.lock_path()))
            .item("Info", AttributeValue::S(info.to_json()))
            .condition_expression("attribute_not_exists(LockID)");
        let result = self.aws.block_on(async { req.send().await });
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                // Terraform shows the service's words over the holder's info.
                let message = e
                    .as_service_error()
                    .map(|s| service_words(s.code(), s.message()))
                    .unwrap_or_default();
                let holder = self.dynamodb_lock_info().ok().flatten();
                Err(LockError::Busy {
                    message,
                    info: holder.map(Box::new),
                })
            }
            Err(e) => Err(self.lock_io(sdk_error("failed to lock the state in DynamoDB", &e))),
        }
    }

    fn unlock_dynamodb(&self, id: &str) -> Result<(), LockError> {
        let Some((ddb, table)) = self.table() else {
            return Ok(());
        };
        let held = self.dynamodb_lock_info().map_err(|e| self.lock_io(e))?;
        match held {
            None => return Err(LockError::NotLocked),
            Some(h) if h.id != id => {
                return Err(LockError::IdMismatch {
                    given: id.to_string(),
                    existing: h.id,
                })
            }
            Some(_) => {}
        }
        let req = ddb
            .delete_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(self.lock_path()));
        self.aws
            .block_on(async { req.send().await })
            .map(|_| ())
            .map_err(|e| self.lock_io(sdk_error("failed to unlock the state in DynamoDB", &e)))
    }

    fn lockfile_info(&self) -> Result<Option<LockInfo>, BackendError> {
        Ok(self
            .fetch_object(&self.lockfile_key())?
            .and_then(|b| LockInfo::parse(&b)))
    }

    fn lock_lockfile(&self, info: &LockInfo) -> Result<(), LockError> {
        if !self.settings.use_lockfile {
            return Ok(());
        }
        match self.put_object(&self.lockfile_key(), info.to_json().as_bytes(), true) {
            Ok(()) => Ok(()),
            Err(PutError::Exists(message)) => Err(LockError::Busy {
                message,
                info: self.lockfile_info().ok().flatten().map(Box::new),
            }),
            Err(PutError::Failed(e)) => Err(self.lock_io(e)),
        }
    }

    fn unlock_lockfile(&self, id: &str) -> Result<(), LockError> {
        if !self.settings.use_lockfile {
            return Ok(());
        }
        match self.lockfile_info().map_err(|e| self.lock_io(e))? {
            None => Err(LockError::NotLocked),
            Some(h) if h.id != id => Err(LockError::IdMismatch {
                given: id.to_string(),
                existing: h.id,
            }),
            Some(_) => self
                .delete_object(&self.lockfile_key())
                .map_err(|e| self.lock_io(e)),
        }
    }

    fn lock_io(&self, e: BackendError) -> LockError {
        LockError::Failed(e.message)
    }
}

enum PutError {
    /// A conditional put found the object already there (the service's
    /// words).
    Exists(String),
    Failed(BackendError),
}

impl RemoteClient for S3Client {
    fn get(&mut self) -> Result<Option<Vec<u8>>, BackendError> {
        let deadline = Instant::now() + self.consistency_timeout;
        loop {
            let data = self.fetch_object(&self.object_key)?;
            let Some(expected) = self.stored_digest()? else {
                return Ok(data);
            };
            let actual = data
                .as_deref()
                .map(|d| hex(&Md5::digest(d)))
                .unwrap_or_default();
            if actual == expected {
                return Ok(data);
            }
            if Instant::now() >= deadline {
                return Err(BackendError::new(format!(
                    "the state in s3://{}/{} does not match the digest recorded in DynamoDB table {:?}.\n\nS3 may still be processing an earlier upload: wait a minute and try again. If this persists and neither S3 nor DynamoDB has an outage, check the stored state by hand and set the Digest of item \"{}-md5\" to {:?}, the MD5 of the object as it is now.",
                    self.settings.bucket,
                    self.object_key,
                    self.settings.dynamodb_table.as_deref().unwrap_or_default(),
                    self.lock_path(),
                    actual,
                )));
            }
            std::thread::sleep(CONSISTENCY_POLL.min(deadline - Instant::now()));
        }
    }

    fn put(&mut self, data: &[u8]) -> Result<(), BackendError> {
        match self.put_object(&self.object_key, data, false) {
            Ok(()) => {}
            Err(PutError::Failed(e)) => return Err(e),
            Err(PutError::Exists(_)) => {
                return Err(BackendError::new("unexpected conditional put failure"))
            }
        }
        // Without the digest the next read would wait and then fail, so a
        // failure here fails the write.
        self.put_digest(&hex(&Md5::digest(data)))
    }

    fn delete(&mut self) -> Result<(), BackendError> {
        self.delete_object(&self.object_key)?;
        self.delete_digest()
    }

    fn lock(&mut self, info: &LockInfo) -> Result<String, LockError> {
        let mut info = info.clone();
        info.path = self.lock_path();
        // Both kinds when both are configured, as Terraform 1.10: the lock
        // file first, released again if the table refuses.
        self.lock_lockfile(&info)?;
        if let Err(e) = self.lock_dynamodb(&info) {
            if self.settings.use_lockfile {
                let _ = self.unlock_lockfile(&info.id);
            }
            return Err(e);
        }
        Ok(info.id)
    }

    fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        let table = self.unlock_dynamodb(id);
        let file = self.unlock_lockfile(id);
        table.and(file)
    }
}

/// A 404 that is about the object, not the bucket.
fn missing_object<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
    R: crate::aws::HasStatus,
{
    e.raw_response().is_some_and(|r| r.status_code() == 404)
        && e.as_service_error()
            .and_then(|s| s.code())
            .is_none_or(|code| code != "NoSuchBucket")
}

/// `Code: message`, as the AWS SDK for Go prints a service error.
fn service_words(code: Option<&str>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
        (Some(c), _) => c.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => "the lock is held".to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
