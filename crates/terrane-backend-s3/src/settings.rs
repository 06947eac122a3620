//! The `backend "s3"` arguments: the schema (Terraform 1.0.3's, plus the
//! `endpoints`, `use_path_style` and `use_lockfile` forms of later
//! versions) and their decoding into [`Settings`], with defaults from the
//! environment as Terraform takes them.

use std::collections::BTreeMap;

use base64::Engine as _;
use terrane_state::backend::{BackendConfig, BackendError, ConfigAttr, ConfigType};

const fn attr(name: &'static str, ty: ConfigType) -> ConfigAttr {
    ConfigAttr {
        name,
        ty,
        required: false,
        sensitive: false,
    }
}

const fn required(name: &'static str) -> ConfigAttr {
    ConfigAttr {
        name,
        ty: ConfigType::String,
        required: true,
        sensitive: false,
    }
}

const fn secret(name: &'static str) -> ConfigAttr {
    ConfigAttr {
        name,
        ty: ConfigType::String,
        required: false,
        sensitive: true,
    }
}

use ConfigType::{Bool, ListOfString, MapOfString, Number, String as Str};

/// The arguments, sorted by name as Terraform records them in
/// `.terraform/terraform.tfstate`. `region` is required by Terraform but
/// may come from `AWS_REGION`/`AWS_DEFAULT_REGION`, so the backend checks
/// it itself.
pub const SCHEMA: &[ConfigAttr] = &[
    secret("access_key"),
    attr("acl", Str),
    attr("assume_role_duration_seconds", Number),
    attr("assume_role_policy", Str),
    attr("assume_role_policy_arns", ListOfString),
    attr("assume_role_tags", MapOfString),
    attr("assume_role_transitive_tag_keys", ListOfString),
    required("bucket"),
    attr("dynamodb_endpoint", Str),
    attr("dynamodb_table", Str),
    attr("encrypt", Bool),
    attr("endpoint", Str),
    // Terraform 1.6+: `endpoints = { s3 = "...", dynamodb = "...", ... }`.
    attr("endpoints", MapOfString),
    attr("external_id", Str),
    attr("force_path_style", Bool),
    attr("iam_endpoint", Str),
    required("key"),
    attr("kms_key_id", Str),
    attr("lock_table", Str),
    attr("max_retries", Number),
    attr("profile", Str),
    attr("region", Str),
    attr("role_arn", Str),
    secret("secret_key"),
    attr("session_name", Str),
    attr("shared_credentials_file", Str),
    attr("skip_credentials_validation", Bool),
    attr("skip_metadata_api_check", Bool),
    attr("skip_region_validation", Bool),
    secret("sse_customer_key"),
    attr("sts_endpoint", Str),
    secret("token"),
    // Terraform 1.10+: the S3-native lock file.
    attr("use_lockfile", Bool),
    // Terraform 1.6+ spelling of `force_path_style`.
    attr("use_path_style", Bool),
    attr("workspace_key_prefix", Str),
];

/// The decoded configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub bucket: String,
    pub key: String,
    pub region: String,
    pub workspace_key_prefix: String,
    pub s3_endpoint: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub path_style: bool,
    pub encrypt: bool,
    pub acl: Option<String>,
    pub kms_key_id: Option<String>,
    /// The raw 32-byte SSE-C key.
    pub sse_customer_key: Option<Vec<u8>>,
    pub dynamodb_table: Option<String>,
    pub use_lockfile: bool,
    pub max_retries: u32,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub profile: Option<String>,
    pub shared_credentials_file: Option<String>,
    pub skip_credentials_validation: bool,
    pub skip_metadata_api_check: bool,
    pub assume_role: Option<AssumeRole>,
}

/// `role_arn` and its companions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
    pub duration_seconds: Option<u64>,
    pub tags: BTreeMap<String, String>,
}

fn invalid(name: &str, detail: impl std::fmt::Display) -> BackendError {
    BackendError::new(format!("Invalid s3 backend argument \"{name}\": {detail}"))
}

/// Reads the process environment; a seam for tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

struct Reader<'a> {
    config: &'a BackendConfig,
    env: EnvLookup<'a>,
}

impl Reader<'_> {
    fn string(&self, name: &str) -> Result<Option<String>, BackendError> {
        match self.config.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(serde_json::Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(invalid(name, "a string is required.")),
        }
    }

    /// The argument, else the first of `vars` that is set and not empty.
    fn string_or_env(&self, name: &str, vars: &[&str]) -> Result<Option<String>, BackendError> {
        if let Some(v) = self.string(name)? {
            return Ok(Some(v));
        }
        Ok(vars
            .iter()
            .filter_map(|v| (self.env)(v))
            .find(|v| !v.is_empty()))
    }

    fn nonempty(&self, name: &str, vars: &[&str]) -> Result<Option<String>, BackendError> {
        Ok(self.string_or_env(name, vars)?.filter(|s| !s.is_empty()))
    }

    fn boolean(&self, name: &str) -> Result<bool, BackendError> {
        match self.config.get(name) {
            None | Some(serde_json::Value::Null) => Ok(false),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            // `-backend-config=encrypt=true` arrives as text.
            Some(serde_json::Value::String(s)) => match s.as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(invalid(name, format!("a bool is required, not {s:?}."))),
            },
            Some(_) => Err(invalid(name, "a bool is required.")),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u64>, BackendError> {
        let parse = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| invalid(name, format!("a whole number is required, not {s:?}.")))
        };
        match self.config.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Number(n)) => parse(&n.to_string()).map(Some),
            Some(serde_json::Value::String(s)) => parse(s).map(Some),
            Some(_) => Err(invalid(name, "a number is required.")),
        }
    }

    fn list(&self, name: &str) -> Result<Vec<String>, BackendError> {
        match self.config.get(name) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(name, "a list of strings is required.")),
                })
                .collect(),
            Some(_) => Err(invalid(name, "a list of strings is required.")),
        }
    }

    fn map(&self, name: &str) -> Result<BTreeMap<String, String>, BackendError> {
        match self.config.get(name) {
            None | Some(serde_json::Value::Null) => Ok(BTreeMap::new()),
            Some(serde_json::Value::Object(items)) => items
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(invalid(name, "a map of strings is required.")),
                })
                .collect(),
            Some(_) => Err(invalid(name, "a map of strings is required.")),
        }
    }
}

/// The service names `endpoints` accepts (Terraform 1.6's object type has
/// these among others; only s3, dynamodb and sts are used here).
const ENDPOINT_SERVICES: &[&str] = &["dynamodb", "iam", "s3", "sso", "sts"];

impl Settings {
    /// Decodes and validates `config`, taking defaults from the process
    /// environment.
    pub fn from_config(config: &BackendConfig) -> Result<Settings, BackendError> {
        let env = |name: &str| std::env::var(name).ok();
        Settings::from_config_with_env(config, &env)
    }

    /// [`from_config`](Self::from_config) with the environment given.
    pub fn from_config_with_env(
        config: &BackendConfig,
        env: EnvLookup<'_>,
    ) -> Result<Settings, BackendError> {
        let r = Reader { config, env };
        let bucket = r
            .nonempty("bucket", &[])?
            .ok_or_else(|| invalid("bucket", "the bucket name is required."))?;
        let key = r
            .nonempty("key", &[])?
            .ok_or_else(|| invalid("key", "the state object key is required."))?;
        if key.starts_with('/') || key.ends_with('/') {
            return Err(invalid("key", "the key must not start or end with \"/\"."));
        }
        if key.contains("//") {
            return Err(invalid("key", "the key must not contain \"//\"."));
        }
        let region = r
            .nonempty("region", &["AWS_REGION", "AWS_DEFAULT_REGION"])?
            .ok_or_else(|| {
                invalid(
                    "region",
                    "the AWS region is required: set \"region\" in the backend configuration or AWS_REGION in the environment.",
                )
            })?;
        let workspace_key_prefix = r
            .string("workspace_key_prefix")?
            .unwrap_or_else(|| "env:".to_string());
        if workspace_key_prefix.starts_with('/') || workspace_key_prefix.ends_with('/') {
            return Err(invalid(
                "workspace_key_prefix",
                "the prefix must not start or end with \"/\".",
            ));
        }

        let endpoints = r.map("endpoints")?;
        if let Some(unknown) = endpoints
            .keys()
            .find(|k| !ENDPOINT_SERVICES.contains(&k.as_str()))
        {
            return Err(invalid(
                "endpoints",
                format!(
                    "unknown service {unknown:?}; the services are {}.",
                    ENDPOINT_SERVICES.join(", ")
                ),
            ));
        }
        let endpoint = |service: &str, legacy: &str, vars: &[&str]| match endpoints
            .get(service)
            .filter(|s| !s.is_empty())
        {
            Some(e) => Ok(Some(e.clone())),
            None => r.nonempty(legacy, vars),
        };
        let s3_endpoint = endpoint(
            "s3",
            "endpoint",
            &["AWS_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3"],
        )?;
        let dynamodb_endpoint = endpoint(
            "dynamodb",
            "dynamodb_endpoint",
            &["AWS_DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB"],
        )?;
        let sts_endpoint = endpoint(
            "sts",
            "sts_endpoint",
            &["AWS_STS_ENDPOINT", "AWS_ENDPOINT_URL_STS"],
        )?;

        let kms_key_id = r.nonempty("kms_key_id", &[])?;
        let sse_customer_key = match r.nonempty("sse_customer_key", &["AWS_SSE_CUSTOMER_KEY"])? {
            None => None,
            Some(encoded) => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(encoded.as_bytes())
                    .ok()
                    .filter(|k| k.len() == 32 && encoded.len() == 44)
                    .ok_or_else(|| {
                        invalid(
                            "sse_customer_key",
                            "the key must be 256 bits, base64-encoded (44 characters).",
                        )
                    })?;
                Some(raw)
            }
        };
        if kms_key_id.is_some() && sse_customer_key.is_some() {
            return Err(BackendError::new(
                "Invalid s3 backend configuration: only one of \"kms_key_id\" and \"sse_customer_key\" can be set.",
            ));
        }

        // `lock_table` is the deprecated name of `dynamodb_table`.
        let dynamodb_table = match r.nonempty("dynamodb_table", &[])? {
            Some(t) => Some(t),
            None => r.nonempty("lock_table", &[])?,
        };
        let max_retries = r.number("max_retries")?.unwrap_or(5).min(100) as u32;

        let assume_role = match r.nonempty("role_arn", &[])? {
            None => None,
            Some(role_arn) => Some(AssumeRole {
                role_arn,
                session_name: r.nonempty("session_name", &[])?,
                external_id: r.nonempty("external_id", &[])?,
                policy: r.nonempty("assume_role_policy", &[])?,
                policy_arns: r.list("assume_role_policy_arns")?,
                duration_seconds: r.number("assume_role_duration_seconds")?,
                tags: r.map("assume_role_tags")?,
            }),
        };

        Ok(Settings {
            bucket,
            key,
            region,
            workspace_key_prefix,
            s3_endpoint,
            dynamodb_endpoint,
            sts_endpoint,
            path_style: r.boolean("force_path_style")? || r.boolean("use_path_style")?,
            encrypt: r.boolean("encrypt")?,
            acl: r.nonempty("acl", &[])?,
            kms_key_id,
            sse_customer_key,
            dynamodb_table,
            use_lockfile: r.boolean("use_lockfile")?,
            max_retries,
            access_key: r.nonempty("access_key", &[])?,
            secret_key: r.nonempty("secret_key", &[])?,
            token: r.nonempty("token", &[])?,
            profile: r.nonempty("profile", &[])?,
            shared_credentials_file: r.nonempty("shared_credentials_file", &[])?,
            skip_credentials_validation: r.boolean("skip_credentials_validation")?,
            skip_metadata_api_check: r.boolean("skip_metadata_api_check")?,
            assume_role,
        })
    }

    /// The object key of a workspace's state: `key` for the default
    /// workspace, else `<workspace_key_prefix>/<name>/<key>`.
    pub fn state_key(&self, workspace: &str) -> String {
        if workspace == "default" {
            self.key.clone()
        } else if self.workspace_key_prefix.is_empty() {
            format!("{workspace}/{}", self.key)
        } else {
            format!("{}/{workspace}/{}", self.workspace_key_prefix, self.key)
        }
    }

    /// The prefix to list workspaces under.
    pub fn list_prefix(&self) -> String {
        if self.workspace_key_prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.workspace_key_prefix)
        }
    }

    /// The workspace whose state `object_key` is, if it is one
    /// (`<prefix>/<name>/<key>` exactly).
    pub fn workspace_of(&self, object_key: &str) -> Option<String> {
        let rest = object_key.strip_prefix(&self.list_prefix())?;
        let (name, tail) = rest.split_once('/')?;
        (tail == self.key && !name.is_empty()).then(|| name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, serde_json::Value)]) -> BackendConfig {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_and_layout() {
        let c = config(&[
            ("bucket", "b".into()),
            ("key", "path/to/terraform.tfstate".into()),
            ("region", "us-east-1".into()),
        ]);
        let s = Settings::from_config_with_env(&c, &no_env).expect("valid");
        assert_eq!(s.workspace_key_prefix, "env:");
        assert_eq!(s.max_retries, 5);
        assert_eq!(s.state_key("default"), "path/to/terraform.tfstate");
        assert_eq!(s.state_key("dev"), "env:/dev/path/to/terraform.tfstate");
        assert_eq!(
            s.workspace_of("env:/dev/path/to/terraform.tfstate")
                .as_deref(),
            Some("dev")
        );
        assert_eq!(s.workspace_of("env:/dev/other.tfstate"), None);
        assert_eq!(s.workspace_of("env:/a/b/path/to/terraform.tfstate"), None);
    }

    #[test]
    fn region_from_environment_and_new_endpoint_forms() {
        let c = config(&[
            ("bucket", "b".into()),
            ("key", "k".into()),
            ("workspace_key_prefix", "".into()),
            (
                "endpoints",
                serde_json::json!({"s3": "http://127.0.0.1:1", "dynamodb": "http://127.0.0.1:2"}),
            ),
            ("use_path_style", true.into()),
            ("use_lockfile", "true".into()),
        ]);
        let env = |n: &str| (n == "AWS_DEFAULT_REGION").then(|| "eu-west-1".to_string());
        let s = Settings::from_config_with_env(&c, &env).expect("valid");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.s3_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(s.dynamodb_endpoint.as_deref(), Some("http://127.0.0.1:2"));
        assert!(s.path_style && s.use_lockfile);
        assert_eq!(s.state_key("w"), "w/k");
        assert_eq!(s.workspace_of("w/k").as_deref(), Some("w"));
    }

    #[test]
    fn invalid_values_are_reported_by_argument() {
        let base = [("bucket", "b".into()), ("region", "r".into())];
        let err = |extra: Vec<(&str, serde_json::Value)>| {
            let mut pairs = base.to_vec();
            pairs.extend(extra);
            Settings::from_config_with_env(&config(&pairs), &no_env)
                .expect_err("invalid")
                .message
        };
        assert_eq!(
            err(vec![("key", "/k".into())]),
            "Invalid s3 backend argument \"key\": the key must not start or end with \"/\"."
        );
        assert_eq!(
            err(vec![("key", "k".into()), ("encrypt", "yes".into())]),
            "Invalid s3 backend argument \"encrypt\": a bool is required, not \"yes\"."
        );
        assert!(err(vec![
            ("key", "k".into()),
            ("sse_customer_key", "short".into())
        ])
        .contains("44 characters"));
        assert!(err(vec![]).contains("\"key\": the state object key is required"));
    }
}
