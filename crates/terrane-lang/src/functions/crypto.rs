//! Hash and crypto functions.

use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use terrane_value::{Type, Value};

use super::encoding::{b64, b64_decode};
use super::{
    arg_err, call_err, num_arg, str_arg, t_string, to_int, FnResult, FunctionContext,
    FunctionError, Param, Spec,
};

fn s(name: &'static str) -> Param {
    Param::new(name, Type::String)
}

fn hex(b: &[u8]) -> String {
    let mut o = String::with_capacity(b.len() * 2);
    for x in b {
        o.push_str(&format!("{x:02x}"));
    }
    o
}

#[derive(Clone, Copy)]
enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

fn digest(algo: Algo, data: &[u8]) -> Vec<u8> {
    match algo {
        Algo::Md5 => Md5::digest(data).to_vec(),
        Algo::Sha1 => Sha1::digest(data).to_vec(),
        Algo::Sha256 => Sha256::digest(data).to_vec(),
        Algo::Sha512 => Sha512::digest(data).to_vec(),
    }
}

macro_rules! hash_spec {
    ($algo:expr, $b64:expr) => {
        Spec::new(vec![s("str")], t_string, |a, _, _| {
            let d = digest($algo, str_arg(a, 0).as_bytes());
            Ok(Value::string(if $b64 { b64().encode(d) } else { hex(&d) }))
        })
    };
}

macro_rules! file_hash_spec {
    ($algo:expr, $b64:expr) => {
        Spec::new(vec![s("path")], t_string, |a, _, ctx| {
            let data = super::filesystem::read_file_raw(ctx, str_arg(a, 0))?;
            let d = digest($algo, &data);
            Ok(Value::string(if $b64 { b64().encode(d) } else { hex(&d) }))
        })
    };
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "md5" => hash_spec!(Algo::Md5, false),
        "sha1" => hash_spec!(Algo::Sha1, false),
        "sha256" => hash_spec!(Algo::Sha256, false),
        "sha512" => hash_spec!(Algo::Sha512, false),
        "base64sha256" => hash_spec!(Algo::Sha256, true),
        "base64sha512" => hash_spec!(Algo::Sha512, true),
        "filemd5" => file_hash_spec!(Algo::Md5, false),
        "filesha1" => file_hash_spec!(Algo::Sha1, false),
        "filesha256" => file_hash_spec!(Algo::Sha256, false),
        "filesha512" => file_hash_spec!(Algo::Sha512, false),
        "filebase64sha256" => file_hash_spec!(Algo::Sha256, true),
        "filebase64sha512" => file_hash_spec!(Algo::Sha512, true),
        "bcrypt" => Spec::new(vec![s("str")], t_string, bcrypt_fn)
            .variadic(Param::new("cost", Type::Number)),
        "rsadecrypt" => Spec::new(vec![s("ciphertext"), s("privatekey")], t_string, rsadecrypt),
        "uuid" => Spec::new(vec![], t_string, |_, _, _| {
            Ok(Value::string(uuid::Uuid::new_v4().hyphenated().to_string()))
        }),
        "uuidv5" => Spec::new(vec![s("namespace"), s("name")], t_string, uuidv5),
        _ => return None,
    })
}

/// Highest bcrypt cost computed here: each step doubles the work, and
/// anything above this takes many seconds.
const MAX_BCRYPT_COST: i64 = 16;

fn bcrypt_fn(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    if a.len() > 2 {
        return call_err("bcrypt() takes no more than two arguments");
    }
    let mut cost: i64 = 10;
    if a.len() == 2 {
        cost = to_int(&num_arg(a, 1)).map_err(FunctionError::call)?;
    }
    if cost > 31 {
        return call_err(format!(
            "error occured generating password crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
        ));
    }
    if cost < 4 {
        cost = 10;
    }
    if cost > MAX_BCRYPT_COST {
        return call_err(format!(
            "error occured generating password: cost {cost} is above the maximum of {MAX_BCRYPT_COST} supported by terrane"
        ));
    }
    let pw = str_arg(a, 0).as_bytes();
    let pw = &pw[..pw.len().min(72)];
    let h = bcrypt::hash_with_result(pw, cost as u32)
        .map_err(|e| FunctionError::call(format!("error occured generating password {e}")))?;
    Ok(Value::string(h.format_for_version(bcrypt::Version::TwoA)))
}

fn rsadecrypt(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let ct = str_arg(a, 0);
    let key = str_arg(a, 1);
    let Ok(data) = b64_decode(ct) else {
        return arg_err(
            0,
            format!(
                "failed to decode input {}: cipher text must be base64-encoded",
                super::format::go_quote(ct)
            ),
        );
    };
    let trimmed = key.trim();
    let pk = if trimmed.contains("-----BEGIN RSA PRIVATE KEY-----") {
        rsa::RsaPrivateKey::from_pkcs1_pem(trimmed)
            .map_err(|_| FunctionError::arg(1, "invalid ASN1 data in the given private key"))?
    } else if trimmed.contains("-----BEGIN PRIVATE KEY-----") {
        rsa::RsaPrivateKey::from_pkcs8_pem(trimmed)
            .map_err(|_| FunctionError::arg(1, "invalid ASN1 data in the given private key"))?
    } else if trimmed.contains("-----BEGIN") {
        return arg_err(1, "invalid private key: ssh: unsupported key type");
    } else {
        return arg_err(1, "invalid private key: ssh: no key found");
    };
    match pk.decrypt(rsa::Pkcs1v15Encrypt, &data) {
        Ok(out) => match String::from_utf8(out) {
            Ok(s) => Ok(Value::string(s)),
            Err(e) => Ok(Value::string(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
        },
        Err(_) => call_err("failed to decrypt: crypto/rsa: decryption error"),
    }
}

fn uuidv5(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let ns = str_arg(a, 0);
    let namespace = match ns {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => match uuid::Uuid::parse_str(other) {
            Ok(u) if matches!(other.len(), 32 | 36 | 38 | 45) => u,
            _ => {
                let why = if matches!(other.len(), 32 | 36 | 38 | 45) {
                    "invalid UUID format".to_string()
                } else {
                    format!("invalid UUID length: {}", other.len())
                };
                return call_err(format!(
                    "uuidv5() doesn't support namespace {other} ({why})"
                ));
            }
        },
    };
    let u = uuid::Uuid::new_v5(&namespace, str_arg(a, 1).as_bytes());
    Ok(Value::string(u.hyphenated().to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{call, FunctionContext};
    use terrane_value::{format_console, Value};

    fn run(name: &str, args: Vec<Value>) -> String {
        match call(name, args, &FunctionContext::default()) {
            Ok(v) => format_console(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn hashes() {
        let st = Value::string;
        assert_eq!(
            run("md5", vec![st("")]),
            "\"d41d8cd98f00b204e9800998ecf8427e\""
        );
        assert_eq!(
            run("sha1", vec![st("db")]),
            "\"0352a8acc949c7df21fec16e566ba9a74e797a97\""
        );
        assert_eq!(
            run("base64sha256", vec![st("quote\"d")]),
            "\"oxuH3P87Sz5vUwybo9bAXIAPJ+u5F+6oZWpdqshI3C8=\""
        );
        assert_eq!(
            run("uuidv5", vec![st("dns"), st("www.terraform.io")]),
            "\"a5008fae-b28c-5ba5-96cd-82b4c53552d6\""
        );
        assert_eq!(
            run("uuidv5", vec![st("bogus"), st("x")]),
            "ERR uuidv5() doesn't support namespace bogus (invalid UUID length: 5)"
        );
        let b = run("bcrypt", vec![st("hello"), Value::from_i64(4)]);
        assert!(b.starts_with("\"$2a$04$"), "{b}");
        assert_eq!(
            run("bcrypt", vec![st("hello"), Value::from_i64(32)]),
            "ERR error occured generating password crypto/bcrypt: cost 32 is outside allowed range (4,31)"
        );
    }
}
