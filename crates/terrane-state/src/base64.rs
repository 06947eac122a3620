//! Standard base64 with padding, as Go's `[]byte` JSON fields use it.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes with the standard alphabet and `=` padding.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a' + 26)),
        b'0'..=b'9' => Some(u32::from(c - b'0' + 52)),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes; on error returns the byte offset Go's decoder reports as
/// "illegal base64 data at input byte N" (line breaks are skipped, as Go
/// does).
pub fn decode(text: &str) -> Result<Vec<u8>, usize> {
    let input: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b != b'\n' && *b != b'\r')
        .collect();
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut i = 0;
    while i < input.len() {
        let quantum = &input[i..(i + 4).min(input.len())];
        let mut n = 0u32;
        let mut len = 0;
        for (j, &(pos, c)) in quantum.iter().enumerate() {
            if c == b'=' {
                // Padding: only in the last two places of the last quantum.
                if j < 2 || i + 4 != input.len() || (j == 2 && quantum[3].1 != b'=') {
                    return Err(pos);
                }
                break;
            }
            match value(c) {
                Some(v) => {
                    n |= v << (18 - 6 * j);
                    len += 1;
                }
                None => return Err(pos),
            }
        }
        if quantum.len() < 4 {
            // Missing padding.
            return Err(text.len());
        }
        let bytes = n.to_be_bytes();
        match len {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return Err(quantum[len].0),
        }
        i += 4;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in ["", "n", "nu", "nul", "null", "{\"x\":1}"] {
            let e = encode(s.as_bytes());
            assert_eq!(decode(&e), Ok(s.as_bytes().to_vec()), "{e}");
        }
        assert_eq!(encode(b"null"), "bnVsbA==");
        assert_eq!(decode("!!"), Err(0));
        assert_eq!(decode("bnV$"), Err(3));
    }
}
