//! go-plugin's AutoMTLS, client side.
//!
//! The client makes an ephemeral self-signed certificate and hands it to the
//! plugin (PEM, in `PLUGIN_CLIENT_CERT`); the plugin answers with its own
//! self-signed certificate in the handshake line. Each side then trusts
//! exactly the other's certificate.
//!
//! go-plugin's certificates use ECDSA P-521 keys, which the `ring` backend
//! of rustls cannot verify; the server's handshake signatures under P-521
//! are checked with the pure-Rust `p521` crate instead (everything else
//! goes through rustls/ring).

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer,
    PrivatePkcs8KeyDer, ServerName, SignatureVerificationAlgorithm, UnixTime,
};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// An ephemeral client certificate for AutoMTLS.
pub struct ClientCert {
    /// PEM encoding, for `PLUGIN_CLIENT_CERT`.
    pub pem: String,
    der: CertificateDer<'static>,
    key_pkcs8: Vec<u8>,
}

impl ClientCert {
    /// Generates a fresh ECDSA P-256 certificate shaped like go-plugin's
    /// (CN and SAN `localhost`, client and server auth usages), except that
    /// it is an end-entity certificate: go-plugin marks its own as a CA,
    /// which Go servers accept (they trust the exact certificate) but
    /// rustls-based plugin servers reject ("CaUsedAsEndEntity").
    pub fn generate() -> Result<ClientCert, String> {
        use rcgen::{
            CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| format!("generating the client key: {e}"))?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(|e| format!("client certificate parameters: {e}"))?;
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("signing the client certificate: {e}"))?;
        Ok(ClientCert {
            pem: cert.pem(),
            der: cert.der().clone(),
            key_pkcs8: key.serialize_der(),
        })
    }
}

/// rustls client configuration trusting exactly `server_cert_der` and
/// presenting `client` for client authentication, speaking HTTP/2.
pub fn client_config(
    client: &ClientCert,
    server_cert_der: Vec<u8>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedServerCert {
        cert: server_cert_der,
    });
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key_pkcs8.clone()));
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![client.der.clone()], key)
        .map_err(|e| format!("TLS client certificate: {e}"))?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// Accepts exactly one certificate (byte for byte), and verifies handshake
/// signatures against it.
#[derive(Debug)]
struct PinnedServerCert {
    cert: Vec<u8>,
}

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the plugin presented a certificate other than the one in its handshake".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        algorithms().supported_schemes()
    }
}

/// ECDSA P-521 with SHA-512, verified by the `p521` crate.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

static P521: EcdsaP521Sha512 = EcdsaP521Sha512;

/// ring's algorithms plus P-521/SHA-512 (listed first, so that a TLS 1.2
/// server picks it for its P-521 key).
fn algorithms() -> &'static WebPkiSupportedAlgorithms {
    static ALGS: OnceLock<WebPkiSupportedAlgorithms> = OnceLock::new();
    ALGS.get_or_init(|| {
        let base = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = vec![&P521];
        all.extend_from_slice(base.all);
        let p521_only: &'static [&'static dyn SignatureVerificationAlgorithm] =
            Box::leak(Box::new([
                &P521 as &'static dyn SignatureVerificationAlgorithm
            ]));
        let mut mapping: Vec<(
            SignatureScheme,
            &'static [&'static dyn SignatureVerificationAlgorithm],
        )> = vec![(SignatureScheme::ECDSA_NISTP521_SHA512, p521_only)];
        mapping.extend(
            base.mapping
                .iter()
                .filter(|(s, _)| *s != SignatureScheme::ECDSA_NISTP521_SHA512)
                .copied(),
        );
        WebPkiSupportedAlgorithms {
            all: Box::leak(all.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_cert_is_pem_and_config_builds() {
        let c = ClientCert::generate().expect("generate");
        assert!(c.pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let cfg = client_config(&c, vec![1, 2, 3]).expect("config");
        assert_eq!(cfg.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(algorithms()
            .supported_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn client_cert_passes_a_rustls_server_verifier() {
        // What a rustls-based plugin server does with PLUGIN_CLIENT_CERT:
        // trust exactly that certificate and verify the one presented.
        let c = ClientCert::generate().expect("generate");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(c.der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier");
        let res = verifier.verify_client_cert(&c.der, &[], UnixTime::now());
        assert!(res.is_ok(), "{res:?}");
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
            .collect()
    }

    #[test]
    fn p521_signature_verifies() {
        // A P-521 key and a SHA-512 signature of "hello", made with openssl.
        let point = hex("0400e78b51aefcbd25eeb4683158332162ed4a5d3e1c4114ce60ccc0b2672b8a52cec34bb5358c0c89928a0fd7269f08063a968263b207512318fd3d5635da720d91e70156ae8eca1c362d94ca29ab1089136f6de39dc6801d0ffe28468e769e92c34cc1dab7aeccf6f036ab8ec2849d7ca2ca7eb5f0c8b8b5ecb8d63dfb10d84100442424");
        let sig = hex("3081870241319dfc71b3e1b30dd055dc6cd243628ba34f9a770f14079887759ca42ee76baa2fe1c8b33278c92cb0f18e049fde825fa7019ca5b62b46277832294fb1df5ec6d80242009ff5519356c4a5c502056d49725be2ced3f60ba1d61bb910697b33e391a30e0356e6bd0750a288da1349d817e208890d8d1ad3e78fc1d4138576c53ee35d5a7069");
        assert!(P521.verify_signature(&point, b"hello", &sig).is_ok());
        assert!(P521.verify_signature(&point, b"hellO", &sig).is_err());
        assert!(P521.verify_signature(&point[1..], b"hello", &sig).is_err());
    }
}
