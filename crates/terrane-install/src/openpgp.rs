//! Just enough OpenPGP (RFC 4880) to check a registry's signature over its
//! `SHA256SUMS` document: transferable public keys (RSA primary keys and
//! subkeys, version 4) and detached version 4 signatures, armored or
//! binary. The RSA arithmetic is ring's.
//!
//! Other key algorithms (DSA, ECDSA, EdDSA) are recognised and skipped, so
//! a signature made with one of them is reported as unverifiable rather than
//! accepted.

use base64::Engine;

/// The fingerprint of HashiCorp's release signing key, whose signatures
/// Terraform reports as "signed by HashiCorp".
pub const HASHICORP_FINGERPRINT: &str = "C874011F0AB405110D02105534365D9472D7468F";

/// One RSA key (a primary key or a subkey) of a transferable public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// Upper-case hex of the v4 fingerprint.
    pub fingerprint: String,
    /// The fingerprint of the primary key this key belongs to (its own for
    /// a primary key).
    pub primary_fingerprint: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl PublicKey {
    /// The 64-bit key id: the low 8 bytes of the fingerprint.
    pub fn key_id(&self) -> String {
        self.fingerprint[self.fingerprint.len().saturating_sub(16)..].to_string()
    }
}

/// A parsed detached signature.
#[derive(Clone, Debug)]
struct Signature {
    sig_type: u8,
    hash_algorithm: u8,
    /// The signature packet from its version byte through the hashed
    /// subpackets: what the hash covers after the data.
    hashed_part: Vec<u8>,
    /// The RSA signature value.
    value: Vec<u8>,
}

/// Reads armored (`-----BEGIN PGP ...`) or binary OpenPGP data.
fn dearmor(data: &[u8]) -> Result<Vec<u8>, String> {
    let text = match std::str::from_utf8(data) {
        Ok(t) if t.trim_start().starts_with("-----BEGIN PGP") => t,
        _ => return Ok(data.to_vec()),
    };
    let mut body = String::new();
    let mut in_body = false;
    let mut in_headers = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("-----BEGIN PGP") {
            in_headers = true;
            continue;
        }
        if line.starts_with("-----END PGP") {
            break;
        }
        if in_headers {
            // Armor headers (`Version: ...`) end at the first blank line.
            if line.is_empty() {
                in_headers = false;
                in_body = true;
            } else if !line.contains(": ") {
                in_headers = false;
                in_body = true;
                body.push_str(line);
            }
            continue;
        }
        if in_body {
            // The CRC-24 checksum line starts with '='; the signature
            // check below makes it redundant.
            if line.starts_with('=') {
                continue;
            }
            body.push_str(line);
        }
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| format!("invalid armored OpenPGP data: {e}"))
}

/// Splits OpenPGP data into `(tag, body)` packets.
fn packets(data: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let mut out = Vec::new();
    let mut i = 0usize;
    let truncated = || "truncated OpenPGP packet".to_string();
    while i < data.len() {
        let header = data[i];
        if header & 0x80 == 0 {
            return Err("invalid OpenPGP packet header".to_string());
        }
        i += 1;
        let (tag, len) = if header & 0x40 != 0 {
            let tag = header & 0x3f;
            let first = *data.get(i).ok_or_else(truncated)? as usize;
            i += 1;
            let len = match first {
                0..=191 => first,
                192..=223 => {
                    let second = *data.get(i).ok_or_else(truncated)? as usize;
                    i += 1;
                    ((first - 192) << 8) + second + 192
                }
                255 => {
                    let b = data.get(i..i + 4).ok_or_else(truncated)?;
                    i += 4;
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
                }
                _ => return Err("partial-length OpenPGP packets are not supported".to_string()),
            };
            (tag, len)
        } else {
            let tag = (header >> 2) & 0x0f;
            let len = match header & 0x03 {
                0 => {
                    let b = *data.get(i).ok_or_else(truncated)? as usize;
                    i += 1;
                    b
                }
                1 => {
                    let b = data.get(i..i + 2).ok_or_else(truncated)?;
                    i += 2;
                    u16::from_be_bytes([b[0], b[1]]) as usize
                }
                2 => {
                    let b = data.get(i..i + 4).ok_or_else(truncated)?;
                    i += 4;
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
                }
                _ => data.len() - i,
            };
            (tag, len)
        };
        let end = i
            .checked_add(len)
            .filter(|e| *e <= data.len())
            .ok_or_else(truncated)?;
        out.push((tag, &data[i..end]));
        i = end;
    }
    Ok(out)
}

/// Reads one multiprecision integer at `*pos`.
fn mpi(body: &[u8], pos: &mut usize) -> Result<Vec<u8>, String> {
    let b = body
        .get(*pos..*pos + 2)
        .ok_or_else(|| "truncated OpenPGP integer".to_string())?;
    let bits = u16::from_be_bytes([b[0], b[1]]) as usize;
    let bytes = bits.div_ceil(8);
    let start = *pos + 2;
    let value = body
        .get(start..start + bytes)
        .ok_or_else(|| "truncated OpenPGP integer".to_string())?;
    *pos = start + bytes;
    // Strip leading zero bytes (ring wants minimal big-endian integers).
    let first = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    Ok(value[first..].to_vec())
}

fn fingerprint(body: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&[0x99]);
    ctx.update(&(body.len() as u16).to_be_bytes());
    ctx.update(body);
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The RSA keys (primary and subkeys) in armored or binary key material.
pub fn parse_public_keys(data: &[u8]) -> Result<Vec<PublicKey>, String> {
    let raw = dearmor(data)?;
    let mut keys = Vec::new();
    let mut primary = String::new();
    for (tag, body) in packets(&raw)? {
        if tag != 6 && tag != 14 {
            continue;
        }
        if body.len() > u16::MAX as usize || body.first() != Some(&4) || body.len() < 6 {
            // Only version 4 keys exist in practice.
            continue;
        }
        let fpr = fingerprint(body);
        if tag == 6 {
            primary = fpr.clone();
        }
        let algorithm = body[5];
        if !matches!(algorithm, 1 | 3) {
            continue;
        }
        let mut pos = 6;
        let n = mpi(body, &mut pos)?;
        let e = mpi(body, &mut pos)?;
        keys.push(PublicKey {
            fingerprint: fpr,
            primary_fingerprint: primary.clone(),
            n,
            e,
        });
    }
    Ok(keys)
}

fn parse_signature(data: &[u8]) -> Result<Signature, String> {
    let raw = dearmor(data)?;
    let (_, body) = packets(&raw)?
        .into_iter()
        .find(|(tag, _)| *tag == 2)
        .ok_or_else(|| "no signature packet found".to_string())?;
    if body.first() != Some(&4) {
        return Err("only version 4 signatures are supported".to_string());
    }
    let truncated = || "truncated signature packet".to_string();
    let sig_type = *body.get(1).ok_or_else(truncated)?;
    let public_algorithm = *body.get(2).ok_or_else(truncated)?;
    let hash_algorithm = *body.get(3).ok_or_else(truncated)?;
    let hashed_len = body.get(4..6).ok_or_else(truncated)?;
    let hashed_len = u16::from_be_bytes([hashed_len[0], hashed_len[1]]) as usize;
    let hashed_end = 6 + hashed_len;
    let hashed_part = body.get(..hashed_end).ok_or_else(truncated)?.to_vec();
    let unhashed_len = body.get(hashed_end..hashed_end + 2).ok_or_else(truncated)?;
    let unhashed_len = u16::from_be_bytes([unhashed_len[0], unhashed_len[1]]) as usize;
    // Skip the unhashed subpackets and the two quick-check bytes.
    let mut pos = hashed_end + 2 + unhashed_len + 2;
    if !matches!(public_algorithm, 1 | 3) {
        return Err(format!(
            "signatures with public-key algorithm {public_algorithm} are not supported (only RSA)"
        ));
    }
    let value = mpi(body, &mut pos)?;
    Ok(Signature {
        sig_type,
        hash_algorithm,
        hashed_part,
        value,
    })
}

/// Checks a detached signature over `data` against `keys`; returns the key
/// that made it.
pub fn verify_detached<'k>(
    keys: &'k [PublicKey],
    data: &[u8],
    signature: &[u8],
) -> Result<&'k PublicKey, String> {
    let sig = parse_signature(signature)?;
    let params: &'static ring::signature::RsaParameters = match sig.hash_algorithm {
        2 => &ring::signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        8 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        9 => &ring::signature::RSA_PKCS1_2048_8192_SHA384,
        10 => &ring::signature::RSA_PKCS1_2048_8192_SHA512,
        other => return Err(format!("unsupported signature hash algorithm {other}")),
    };
    // The signed message: the document (text signatures use CRLF line
    // ends), the hashed part of the packet, then the v4 trailer.
    let mut message = match sig.sig_type {
        0x00 => data.to_vec(),
        0x01 => canonical_text(data),
        other => return Err(format!("unexpected signature type {other:#04x}")),
    };
    message.extend_from_slice(&sig.hashed_part);
    message.extend_from_slice(&[0x04, 0xff]);
    message.extend_from_slice(&(sig.hashed_part.len() as u32).to_be_bytes());
    for key in keys {
        // The signature value is as long as the modulus, left-padded.
        let mut value = vec![0u8; key.n.len().saturating_sub(sig.value.len())];
        value.extend_from_slice(&sig.value);
        let components = ring::signature::RsaPublicKeyComponents {
            n: key.n.as_slice(),
            e: key.e.as_slice(),
        };
        let ok = components.verify(params, &message, &value);
        if ok.is_ok() {
            return Ok(key);
        }
    }
    Err("the signature was not made by any of the given keys".to_string())
}

fn canonical_text(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}
