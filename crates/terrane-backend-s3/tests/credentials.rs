//! Where the s3 backend's credentials come from: a shared credentials file
//! and profile, an assumed role (STS on moto), and the error when there are
//! none. moto checks no signatures, so these show that the credentials are
//! found and used, not that AWS would accept them.

mod common;

use common::{config, moto_available, start_moto};
use terrane_backend_s3::{S3Backend, Settings};
use terrane_state::backend::RemoteClient;

fn without_keys(
    mut c: terrane_state::backend::BackendConfig,
) -> terrane_state::backend::BackendConfig {
    c.remove("access_key");
    c.remove("secret_key");
    c.insert("skip_credentials_validation".into(), false.into());
    c
}

fn env_has_keys() -> bool {
    std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
}

#[test]
fn a_profile_in_a_shared_credentials_file() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("profiles", false);
    let dir = std::env::temp_dir().join(format!("terrane-s3-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("credentials");
    std::fs::write(
        &file,
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = c\n",
    )
    .expect("write credentials");

    let mut c = without_keys(config(&moto, "profiles", &[]));
    c.insert(
        "shared_credentials_file".into(),
        file.display().to_string().into(),
    );
    c.insert("profile".into(), "ci".into());
    let b =
        S3Backend::new(Settings::from_config(&c).expect("settings")).expect("credentials found");
    let mut client = b.client("default");
    client.put(b"{}\n").expect("put");
    assert_eq!(client.get().expect("get").as_deref(), Some(&b"{}\n"[..]));

    if !env_has_keys() {
        // A profile the file does not have: no credentials anywhere.
        c.insert("profile".into(), "missing".into());
        let err = S3Backend::new(Settings::from_config(&c).expect("settings"))
            .err()
            .expect("no credentials");
        assert!(
            err.message
                .starts_with("No valid credential sources found for the s3 backend"),
            "{}",
            err.message
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_assumed_role() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("roles", false);
    let mut c = config(&moto, "roles", &[]);
    c.insert("skip_credentials_validation".into(), false.into());
    c.insert(
        "role_arn".into(),
        "arn:aws:iam::123456789012:role/terrane-state".into(),
    );
    c.insert("session_name".into(), "terrane-test".into());
    c.insert("external_id".into(), "ext".into());
    c.insert("assume_role_duration_seconds".into(), 900.into());
    // Validation resolves the credentials, which asks STS (moto) for the role.
    let b = S3Backend::new(Settings::from_config(&c).expect("settings")).expect("role assumed");
    let mut client = b.client("default");
    client
        .put(b"{}\n")
        .expect("put with the role's credentials");

    // Without an STS to ask, assuming the role fails at configuration.
    let port = common::free_port();
    c.insert(
        "sts_endpoint".into(),
        format!("http://127.0.0.1:{port}").into(),
    );
    let err = S3Backend::new(Settings::from_config(&c).expect("settings"))
        .err()
        .expect("no STS");
    assert!(
        err.message.starts_with("No valid credential sources found"),
        "{}",
        err.message
    );
}
