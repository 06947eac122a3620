//! Encoding functions: base64, gzip, CSV, JSON, YAML, URL, text encodings.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine;
use terrane_value::{Type, Value};

use super::{
    arg_err, call_err, str_arg, t_string, FnResult, FunctionContext, FunctionError, Param, Spec,
};

fn s(name: &'static str) -> Param {
    Param::new(name, Type::String)
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "base64encode" => Spec::new(vec![s("str")], t_string, |a, _, _| {
            Ok(Value::string(b64().encode(str_arg(a, 0))))
        }),
        "base64decode" => Spec::new(vec![s("str")], t_string, base64decode),
        "base64gzip" => Spec::new(vec![s("str")], t_string, base64gzip),
        "csvdecode" => Spec::computed(vec![s("str")], csv_type, csvdecode),
        "jsonencode" => Spec::new(
            vec![Param::new("val", Type::Dynamic).null().dynamic()],
            t_string,
            jsonencode,
        ),
        "jsondecode" => Spec::computed(vec![s("str")], jsondecode_type, jsondecode),
        "yamlencode" => Spec::new(
            vec![Param::new("value", Type::Dynamic).null().dynamic()],
            t_string,
            yamlencode,
        ),
        "yamldecode" => Spec::computed(vec![s("src")], yamldecode_type, yamldecode),
        "urlencode" => Spec::new(vec![s("str")], t_string, urlencode),
        "textencodebase64" => {
            Spec::new(vec![s("string"), s("encoding")], t_string, textencodebase64)
        }
        "textdecodebase64" => {
            Spec::new(vec![s("source"), s("encoding")], t_string, textdecodebase64)
        }
        _ => return None,
    })
}

/// Go's `base64.StdEncoding`: padded, lenient about trailing bits.
pub(crate) fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    )
}

/// Decodes as Go's `StdEncoding.DecodeString` (which ignores `\r` and `\n`).
pub(crate) fn b64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if s.contains(['\r', '\n']) {
        let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        b64().decode(clean)
    } else {
        b64().decode(s)
    }
}

fn base64decode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    let bytes = b64_decode(s)
        .map_err(|_| FunctionError::call(format!("failed to decode base64 data '{s}'")))?;
    match String::from_utf8(bytes) {
        Ok(t) => Ok(Value::string(t)),
        Err(_) => call_err("the result of decoding the provided string is not valid UTF-8"),
    }
}

/// gzip framing as Go's `compress/gzip` writes it (no name, zero mtime,
/// OS "unknown"), with the deflate stream sync-flushed before closing.
fn base64gzip(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let data = str_arg(a, 0).as_bytes();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // Compressed data followed by a sync flush (an empty stored block),
    // then an empty final stored block, as Go's writer produces on
    // Flush and Close.
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)
        .and_then(|_| enc.flush())
        .map_err(|e| FunctionError::call(e.to_string()))?;
    let deflated = enc.get_ref().clone();
    out.extend_from_slice(&deflated);
    if !deflated.ends_with(&[0, 0, 0xff, 0xff]) {
        out.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
    }
    out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(Value::string(b64().encode(out)))
}

// ----- CSV (Go's encoding/csv rules) -----

struct CsvError {
    line: usize,
    msg: &'static str,
}

/// Parses CSV as Go's `encoding/csv` reader with default settings: empty
/// lines skipped, `"` quoting with `""` escapes, CRLF normalised, every
/// record with as many fields as the first.
fn parse_csv(src: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut line = 1;
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut want: Option<usize> = None;
    while i < chars.len() {
        // skip empty lines
        if chars[i] == '\n' {
            i += 1;
            line += 1;
            continue;
        }
        if chars[i] == '\r' && chars.get(i + 1) == Some(&'\n') {
            i += 2;
            line += 1;
            continue;
        }
        let rec_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.get(i) == Some(&'"') {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(CsvError {
                                line: line + 1,
                                msg: "extraneous or missing \" in quoted-field",
                            })
                        }
                        Some('"') => {
                            if chars.get(i + 1) == Some(&'"') {
                                field.push('"');
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some('\r') if chars.get(i + 1) == Some(&'\n') => {
                            field.push('\n');
                            i += 2;
                            line += 1;
                        }
                        Some('\n') => {
                            field.push('\n');
                            i += 1;
                            line += 1;
                        }
                        Some(&c) => {
                            field.push(c);
                            i += 1;
                        }
                    }
                }
                match chars.get(i) {
                    None | Some(',') | Some('\n') => {}
                    Some('\r') if chars.get(i + 1) == Some(&'\n') => {}
                    Some(_) => {
                        return Err(CsvError {
                            line,
                            msg: "extraneous or missing \" in quoted-field",
                        })
                    }
                }
            } else {
                while let Some(&c) = chars.get(i) {
                    if c == ',' || c == '\n' || (c == '\r' && chars.get(i + 1) == Some(&'\n')) {
                        break;
                    }
                    if c == '"' {
                        return Err(CsvError {
                            line,
                            msg: "bare \" in non-quoted-field",
                        });
                    }
                    field.push(c);
                    i += 1;
                }
            }
            fields.push(field);
            match chars.get(i) {
                Some(',') => {
                    i += 1;
                }
                Some('\r') => {
                    i += 2;
                    line += 1;
                    break;
                }
                Some('\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        match want {
            None => want = Some(fields.len()),
            Some(n) if n != fields.len() => {
                return Err(CsvError {
                    line: rec_line,
                    msg: "wrong number of fields",
                })
            }
            _ => {}
        }
        records.push(fields);
    }
    Ok(records)
}

fn csv_err(e: CsvError) -> FunctionError {
    FunctionError::call(format!("CSV parse error on line {}: {}", e.line, e.msg))
}

fn csv_type(a: &[Value]) -> Result<Type, FunctionError> {
    let Some(src) = a[0].as_str() else {
        return Ok(Type::Dynamic);
    };
    let recs = parse_csv(src).map_err(csv_err)?;
    let Some(header) = recs.first() else {
        return call_err("missing header line");
    };
    let mut attrs = BTreeMap::new();
    for h in header {
        if attrs.insert(h.clone(), Type::String).is_some() {
            return call_err(format!(
                "duplicate column name {}",
                super::format::go_quote(h)
            ));
        }
    }
    Ok(Type::list(Type::object(attrs)))
}

fn csvdecode(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let recs = parse_csv(str_arg(a, 0)).map_err(csv_err)?;
    let header = &recs[0];
    let rows: Vec<Value> = recs[1..]
        .iter()
        .map(|r| {
            Value::object(
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(Value::string))
                    .collect(),
            )
        })
        .collect();
    Ok(Value::list(
        ret.element_type().cloned().unwrap_or(Type::Dynamic),
        rows,
    ))
}

// ----- JSON and YAML -----

fn jsonencode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    if a[0].is_null() {
        return Ok(Value::string("null"));
    }
    super::json::encode(&a[0])
        .map(Value::string)
        .map_err(|e| FunctionError::call(e.to_string()))
}

fn jsondecode_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].as_str() {
        Some(s) => super::json::decode(s)
            .map(|v| v.ty().clone())
            .map_err(FunctionError::call),
        None => Ok(Type::Dynamic),
    }
}

fn jsondecode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    super::json::decode(str_arg(a, 0)).map_err(FunctionError::call)
}

fn yamlencode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    super::yaml::encode(&a[0])
        .map(Value::string)
        .map_err(FunctionError::call)
}

fn yamldecode_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].as_str() {
        Some(s) => super::yaml::decode(s)
            .map(|v| v.ty().clone())
            .map_err(FunctionError::call),
        None => Ok(Type::Dynamic),
    }
}

fn yamldecode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let v = super::yaml::decode(str_arg(a, 0)).map_err(FunctionError::call)?;
    if v.is_null() && v.ty().is_dynamic() {
        // Terraform 1.0.3 returns an unknown value for a null document.
        return Ok(Value::unknown_dynamic());
    }
    Ok(v)
}

// ----- URL and text encodings -----

fn urlencode(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut out = String::new();
    for b in str_arg(a, 0).bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::string(out))
}

#[derive(Clone, Copy)]
enum TextEnc {
    Utf8,
    Utf16 { le: bool, bom: bool },
    Latin1,
    Ascii,
    Other(&'static encoding_rs::Encoding),
}

/// Looks up an IANA encoding name or alias (case-insensitive); returns the
/// encoding and its canonical name.
fn lookup_encoding(name: &str) -> Option<(TextEnc, String)> {
    let l = name.to_ascii_lowercase();
    let r = match l.as_str() {
        "utf-8" | "csutf8" => (TextEnc::Utf8, "UTF-8".to_string()),
        "utf-16" | "csutf16" => (
            TextEnc::Utf16 {
                le: false,
                bom: true,
            },
            "UTF-16".to_string(),
        ),
        "utf-16le" | "csutf16le" => (
            TextEnc::Utf16 {
                le: true,
                bom: false,
            },
            "UTF-16LE".to_string(),
        ),
        "utf-16be" | "csutf16be" => (
            TextEnc::Utf16 {
                le: false,
                bom: false,
            },
            "UTF-16BE".to_string(),
        ),
        "iso-8859-1" | "iso_8859-1:1987" | "iso-ir-100" | "iso_8859-1" | "latin1" | "l1"
        | "ibm819" | "cp819" | "csisolatin1" => (TextEnc::Latin1, "ISO_8859-1:1987".to_string()),
        "us-ascii" | "iso646-us" | "us" | "ibm367" | "cp367" | "csascii" | "ansi_x3.4-1968"
        | "iso-ir-6" | "ansi_x3.4-1986" | "iso_646.irv:1991" => {
            (TextEnc::Ascii, "US-ASCII".to_string())
        }
        _ => {
            let e = encoding_rs::Encoding::for_label_no_replacement(l.as_bytes())?;
            if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE || e == encoding_rs::UTF_8 {
                return None;
            }
            // labels WHATWG knows but Terraform's IANA index does not
            if matches!(
                l.as_str(),
                "gb2312" | "x-gbk" | "utf8" | "unicode-1-1-utf-8"
            ) {
                return None;
            }
            // WHATWG folds many non-IANA labels (e.g. "ascii") into windows-1252
            if e == encoding_rs::WINDOWS_1252
                && !matches!(l.as_str(), "windows-1252" | "cswindows1252")
            {
                return None;
            }
            let name = match e.name() {
                "EUC-JP" => "Extended_UNIX_Code_Packed_Format_for_Japanese",
                n => n,
            };
            (TextEnc::Other(e), name.to_string())
        }
    };
    Some(r)
}

fn textencodebase64(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    let name = str_arg(a, 1);
    let Some((enc, canon)) = lookup_encoding(name) else {
        return arg_err(
            1,
            format!("\"{name}\" is not a supported IANA encoding name or alias in this Terraform version"),
        );
    };
    let bad = || {
        arg_err(
            0,
            format!("the given string contains characters that cannot be represented in {canon}"),
        )
    };
    let bytes: Vec<u8> = match enc {
        TextEnc::Utf8 => s.as_bytes().to_vec(),
        TextEnc::Utf16 { le, bom } => {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(&[0xfe, 0xff]);
            }
            for u in s.encode_utf16() {
                if le {
                    out.extend_from_slice(&u.to_le_bytes());
                } else {
                    out.extend_from_slice(&u.to_be_bytes());
                }
            }
            out
        }
        TextEnc::Latin1 | TextEnc::Ascii => {
            let max = if matches!(enc, TextEnc::Latin1) {
                0xff
            } else {
                0x7f
            };
            let mut out = Vec::new();
            for c in s.chars() {
                if c as u32 > max {
                    return bad();
                }
                out.push(c as u32 as u8);
            }
            out
        }
        TextEnc::Other(e) => {
            let (bytes, _, had_errors) = e.encode(s);
            if had_errors {
                return bad();
            }
            bytes.into_owned()
        }
    };
    Ok(Value::string(b64().encode(bytes)))
}

fn textdecodebase64(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let src = str_arg(a, 0);
    let name = str_arg(a, 1);
    let Some((enc, canon)) = lookup_encoding(name) else {
        return arg_err(
            1,
            format!("\"{name}\" is not a supported IANA encoding name or alias in this Terraform version"),
        );
    };
    let bytes = match b64_decode(src) {
        Ok(b) => b,
        Err(e) => {
            let off = match e {
                base64::DecodeError::InvalidByte(o, _) => o,
                base64::DecodeError::InvalidLastSymbol(o, _) => o,
                // an incomplete final quantum is reported at its start
                _ => src.trim_end_matches('=').len() / 4 * 4,
            };
            return arg_err(
                0,
                format!("the given value is has an invalid base64 symbol at offset {off}"),
            );
        }
    };
    let bad = || {
        arg_err(
            0,
            format!("the given string contains symbols that are not defined for {canon}"),
        )
    };
    let text = match enc {
        TextEnc::Utf8 => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return bad(),
        },
        TextEnc::Utf16 { .. } if bytes.len() % 2 != 0 => return bad(),
        TextEnc::Utf16 { le, bom } => {
            let mut b: &[u8] = &bytes;
            let mut le = le;
            if bom && b.len() >= 2 {
                if b[0] == 0xff && b[1] == 0xfe {
                    le = true;
                    b = &b[2..];
                } else if b[0] == 0xfe && b[1] == 0xff {
                    b = &b[2..];
                }
            }
            let units: Vec<u16> = b
                .chunks(2)
                .map(|c| {
                    let pair = [c[0], c.get(1).copied().unwrap_or(0)];
                    if le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        TextEnc::Latin1 => bytes.iter().map(|&b| b as char).collect(),
        TextEnc::Ascii => {
            if bytes.iter().any(|&b| b > 0x7f) {
                return bad();
            }
            bytes.iter().map(|&b| b as char).collect()
        }
        TextEnc::Other(e) => {
            // bytes windows-1252 leaves undefined (WHATWG maps them to C1 controls)
            if e == encoding_rs::WINDOWS_1252
                && bytes
                    .iter()
                    .any(|b| matches!(b, 0x81 | 0x8d | 0x8f | 0x90 | 0x9d))
            {
                return bad();
            }
            let (t, had_errors) = e.decode_without_bom_handling(&bytes);
            if had_errors {
                return bad();
            }
            t.into_owned()
        }
    };
    if text.contains('\u{fffd}') {
        return bad();
    }
    Ok(Value::string(text))
}
