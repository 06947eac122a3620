//! OpenPGP signature checks against signatures made by GnuPG: binary and
//! armored, binary and text mode, by a primary key and by a signing
//! subkey; altered data and foreign keys are refused.

mod common;

use common::GpgSigner;
use terrane_install::openpgp::{parse_public_keys, verify_detached};

#[test]
fn gnupg_signatures_verify() {
    let Some(signer) = GpgSigner::new() else {
        return;
    };
    let data = b"0123abcd  terraform-provider-x_1.0.0_linux_amd64.zip\n";
    let keys = parse_public_keys(signer.public_key_armor.as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    let primary = keys[0].fingerprint.clone();
    assert_eq!(primary.len(), 40);
    assert_eq!(keys[0].primary_fingerprint, primary);

    let file = signer.file(data);
    for mode in [
        &["--detach-sign"][..],
        &["--detach-sign", "--armor"],
        &["--detach-sign", "--textmode"],
    ] {
        let mut args = vec!["--yes", "--output", "-"];
        args.extend_from_slice(mode);
        args.push(&file);
        let sig = signer.gpg(&args);
        let key = verify_detached(&keys, data, &sig).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(key.fingerprint, primary);
        assert!(
            verify_detached(&keys, b"other content\n", &sig).is_err(),
            "{mode:?}"
        );
    }

    // A signing subkey signs; the primary key's fingerprint is reported.
    signer.gpg(&[
        "--passphrase",
        "",
        "--quick-add-key",
        &primary,
        "rsa2048",
        "sign",
        "never",
    ]);
    let armor = signer.gpg(&["--armor", "--export", "test@example.com"]);
    let keys = parse_public_keys(&armor).unwrap();
    assert_eq!(keys.len(), 2);
    let sig = signer.gpg(&["--yes", "--detach-sign", "--output", "-", &file]);
    let key = verify_detached(&keys, data, &sig).unwrap();
    assert_ne!(
        key.fingerprint, primary,
        "gpg signs with the newest signing subkey"
    );
    assert_eq!(key.primary_fingerprint, primary);

    // A key that did not make the signature.
    let Some(other) = GpgSigner::new() else {
        return;
    };
    let foreign = parse_public_keys(other.public_key_armor.as_bytes()).unwrap();
    assert_eq!(
        verify_detached(&foreign, data, &sig).unwrap_err(),
        "the signature was not made by any of the given keys"
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for bad in [
        &b""[..],
        b"\x00",
        b"\xc2\xff\xff",
        b"-----BEGIN PGP SIGNATURE-----\n\n!!!\n-----END PGP SIGNATURE-----\n",
        b"\x88\x05\x04\x00\x01\x08",
    ] {
        assert!(verify_detached(&[], b"x", bad).is_err());
        let _ = parse_public_keys(bad);
    }
}

/// The fingerprint terrane recognises as HashiCorp's is that of the release
/// key Terraform 1.0.3 carries in its binary (read from the peer binary at
/// test time; terrane itself embeds only the fingerprint).
#[test]
fn hashicorp_fingerprint_matches_the_key_in_terraform() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let binary = std::fs::read(peer.join("bin/terraform")).unwrap();
    let begin = b"-----BEGIN PGP PUBLIC KEY BLOCK-----";
    let end = b"-----END PGP PUBLIC KEY BLOCK-----";
    let mut fingerprints = Vec::new();
    let mut from = 0;
    while let Some(start) = find(&binary[from..], begin).map(|i| from + i) {
        let Some(stop) = find(&binary[start..], end).map(|i| start + i + end.len()) else {
            break;
        };
        for key in parse_public_keys(&binary[start..stop]).unwrap() {
            fingerprints.push(key.primary_fingerprint);
        }
        from = stop;
    }
    assert!(
        fingerprints
            .iter()
            .any(|f| f == terrane_install::openpgp::HASHICORP_FINGERPRINT),
        "{fingerprints:?}"
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
