//! A moto_server on loopback for the s3 backend tests, and the few raw
//! requests the tests make behind the backend's back (creating the bucket
//! and table, reading what was stored). moto checks no signatures, only
//! the service named in the Authorization header's scope.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use terrane_backend_s3::{S3Backend, Settings};
use terrane_state::backend::BackendConfig;
use terrane_testkit::{MotoServer, MotoThreading};

#[allow(unused_imports)] // free_port is for some test binaries only
pub use terrane_testkit::{free_port, moto_available};

/// A single-threaded moto_server (the lock tests need a linearizable
/// store) with the raw requests the tests make; killed on drop.
pub struct Moto {
    _server: MotoServer,
    pub port: u16,
}

pub fn start_moto() -> Moto {
    let server = MotoServer::spawn(MotoThreading::SingleThreaded);
    Moto {
        port: server.port(),
        _server: server,
    }
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One HTTP/1.1 request; returns (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        service: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nX-Amz-Date: 20260101T000000Z\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send");
        stream.write_all(body).expect("send body");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read response");
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// The whole response (status line and headers included) of a request
    /// without a body.
    pub fn raw_request(&self, method: &str, path: &str, service: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n",
            self.port
        );
        stream.write_all(head.as_bytes()).expect("send");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    pub fn create_bucket(&self, bucket: &str, versioned: bool) {
        let (status, body) = self.request("PUT", &format!("/{bucket}"), "s3", &[], b"");
        assert_eq!(status, 200, "create bucket: {body}");
        if versioned {
            let xml = b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>";
            let (status, body) =
                self.request("PUT", &format!("/{bucket}?versioning"), "s3", &[], xml);
            assert_eq!(status, 200, "enable versioning: {body}");
        }
    }

    pub fn dynamodb(&self, action: &str, json: &str) -> (u16, String) {
        self.request(
            "POST",
            "/",
            "dynamodb",
            &[
                ("X-Amz-Target", &format!("DynamoDB_20120810.{action}")),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            json.as_bytes(),
        )
    }

    /// A lock table as Terraform documents it: hash key `LockID` (string).
    pub fn create_lock_table(&self, table: &str) {
        let (status, body) = self.dynamodb(
            "CreateTable",
            &format!(
                r#"{{"TableName":"{table}","KeySchema":[{{"AttributeName":"LockID","KeyType":"HASH"}}],"AttributeDefinitions":[{{"AttributeName":"LockID","AttributeType":"S"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
            ),
        );
        assert_eq!(status, 200, "create table: {body}");
    }

    /// The item `LockID = id` as DynamoDB JSON, or "" when absent.
    pub fn get_item(&self, table: &str, id: &str) -> String {
        let (status, body) = self.dynamodb(
            "GetItem",
            &format!(
                r#"{{"TableName":"{table}","Key":{{"LockID":{{"S":{}}}}},"ConsistentRead":true}}"#,
                serde_json::Value::String(id.to_string())
            ),
        );
        assert_eq!(status, 200, "get item: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v.get("Item").map(|i| i.to_string()).unwrap_or_default()
    }

    pub fn get_object(&self, bucket: &str, key: &str) -> (u16, String) {
        self.request("GET", &format!("/{bucket}/{key}"), "s3", &[], b"")
    }

    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let (status, text) = self.request("PUT", &format!("/{bucket}/{key}"), "s3", &[], body);
        assert_eq!(status, 200, "put object: {text}");
    }

    /// The number of versions (delete markers not counted) of `key`.
    pub fn version_count(&self, bucket: &str, key: &str) -> usize {
        let (status, body) = self.request(
            "GET",
            &format!("/{bucket}?versions&prefix={key}"),
            "s3",
            &[],
            b"",
        );
        assert_eq!(status, 200, "list versions: {body}");
        body.matches("<Version>").count()
    }
}

/// A backend configuration against `moto` with fake credentials.
pub fn config(moto: &Moto, bucket: &str, extra: &[(&str, serde_json::Value)]) -> BackendConfig {
    let mut c = BackendConfig::new();
    for (k, v) in [
        ("bucket", bucket.into()),
        ("key", "path/to/terraform.tfstate".into()),
        ("region", "us-east-1".into()),
        ("endpoint", moto.endpoint().into()),
        ("dynamodb_endpoint", moto.endpoint().into()),
        ("sts_endpoint", moto.endpoint().into()),
        ("force_path_style", true.into()),
        ("access_key", "AKIATEST".into()),
        ("secret_key", "secret".into()),
        ("skip_credentials_validation", true.into()),
        ("skip_metadata_api_check", true.into()),
        ("skip_region_validation", true.into()),
    ] {
        c.insert(k.to_string(), v);
    }
    for (k, v) in extra {
        c.insert(k.to_string(), v.clone());
    }
    c
}

pub fn backend(config: &BackendConfig) -> S3Backend {
    let settings = Settings::from_config(config).expect("valid settings");
    S3Backend::new(settings).expect("backend")
}
