//! go-plugin's handshake: the environment contract and the line a plugin
//! prints on stdout once it listens.

use std::fmt;

use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

/// Terraform's magic cookie variable.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The protocol versions this client speaks, as go-plugin passes them in
/// `PLUGIN_PROTOCOL_VERSIONS`.
pub const PROTOCOL_VERSIONS: &str = "5,6";
/// `PLUGIN_MIN_PORT` (for plugins that listen on TCP).
pub const MIN_PORT: &str = "10000";
/// `PLUGIN_MAX_PORT`.
pub const MAX_PORT: &str = "25000";

/// Where the plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A Unix domain socket path.
    Unix(String),
    /// A TCP `host:port`.
    Tcp(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{p}"),
            Address::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

impl Address {
    /// From go's `net.Addr` network name and address string.
    pub fn from_parts(network: &str, addr: &str) -> Result<Address, String> {
        match network {
            "unix" => Ok(Address::Unix(addr.to_string())),
            "tcp" | "tcp4" | "tcp6" => Ok(Address::Tcp(addr.to_string())),
            other => Err(format!("unsupported network type {other:?}")),
        }
    }
}

/// A parsed handshake line
/// `CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDR|PROTOCOL|SERVER-CERT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The plugin protocol version (5 or 6).
    pub protocol_version: u32,
    /// Where to connect.
    pub address: Address,
    /// The plugin's certificate (DER) when it runs AutoMTLS.
    pub server_cert: Option<Vec<u8>>,
}

/// Parses and checks a handshake line. Errors are phrased for a user.
pub fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let line = line.trim();
    let parts: Vec<&str> = line.split('|').collect();
    if parts.len() < 4 {
        return Err(format!(
            "unrecognized handshake line {:?} (expected CORE|APP|NETWORK|ADDR|PROTOCOL[|CERT])",
            truncate(line, 200)
        ));
    }
    if parts[0] != "1" {
        return Err(format!(
            "incompatible core plugin protocol version {:?} (this client speaks 1)",
            parts[0]
        ));
    }
    let protocol_version: u32 = parts[1]
        .parse()
        .map_err(|_| format!("invalid plugin protocol version {:?}", parts[1]))?;
    let protocol = parts.get(4).copied().unwrap_or("netrpc");
    if protocol_version != 5 && protocol_version != 6 {
        return Err(format!(
            "the plugin speaks protocol version {protocol_version}; this client supports 5 and 6 \
             (providers built for Terraform 0.11 and earlier are not supported)"
        ));
    }
    if protocol != "grpc" {
        return Err(format!(
            "the plugin uses the {protocol:?} transport; only grpc is supported"
        ));
    }
    let address = Address::from_parts(parts[2], parts[3])?;
    let server_cert = match parts.get(5).map(|s| s.trim()) {
        Some(c) if !c.is_empty() => Some(decode_cert(c)?),
        _ => None,
    };
    Ok(Handshake {
        protocol_version,
        address,
        server_cert,
    })
}

fn decode_cert(s: &str) -> Result<Vec<u8>, String> {
    // go-plugin writes base64.RawStdEncoding (no padding); accept padding too.
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine
        .decode(s)
        .map_err(|e| format!("invalid server certificate in handshake: {e}"))
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unix_with_cert() {
        let h = parse_handshake("1|5|unix|/tmp/plugin1|grpc|AQID\n").expect("ok");
        assert_eq!(h.protocol_version, 5);
        assert_eq!(h.address, Address::Unix("/tmp/plugin1".into()));
        assert_eq!(h.server_cert, Some(vec![1, 2, 3]));
        let h = parse_handshake("1|6|tcp|127.0.0.1:10001|grpc|").expect("ok");
        assert_eq!(h.address, Address::Tcp("127.0.0.1:10001".into()));
        assert_eq!(h.server_cert, None);
        // unpadded (RawStdEncoding) of 4 bytes
        let h = parse_handshake("1|5|unix|/x|grpc|AQIDBA").expect("ok");
        assert_eq!(h.server_cert, Some(vec![1, 2, 3, 4]));
    }

    #[test]
    fn rejects_bad_lines() {
        for (line, want) in [
            ("hello world", "unrecognized handshake"),
            ("2|5|unix|/x|grpc", "core plugin protocol"),
            ("1|4|unix|/x|netrpc", "protocol version 4"),
            ("1|5|unix|/x|netrpc", "transport"),
            ("1|5|udp|/x|grpc", "network"),
            ("1|5|unix|/x|grpc|!!!", "certificate"),
        ] {
            let e = parse_handshake(line).expect_err(line);
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
