//! Colour markup as Terraform's UI uses it: `[green]`, `[bold]`, `[reset]`
//! ... tags in the text, turned into ANSI escapes (or removed) one string at
//! a time. Every string that contained at least one known tag gets a final
//! reset when colour is on, which is where Terraform's doubled `ESC[0m`
//! sequences come from.

/// The ANSI code of a known tag name.
fn code(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "reset" => "0",
        "bold" => "1",
        "dim" => "2",
        "underline" => "4",
        "red" => "31",
        "green" => "32",
        "yellow" => "33",
        "blue" => "34",
        "magenta" => "35",
        "cyan" => "36",
        "light_gray" => "37",
        "dark_gray" => "90",
        "light_red" => "91",
        "light_green" => "92",
        "light_yellow" => "93",
        _ => return None,
    })
}

fn is_tag_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// Expands the tags of `s`: escapes when `color` is on, nothing when off.
/// Text in brackets that is not a known tag (`[0]`, `["a"]`) stays.
pub fn colorize(s: &str, color: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 16);
    let mut colored = false;
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let mut j = i + 1;
            while j < bytes.len() && is_tag_char(bytes[j]) {
                j += 1;
            }
            if j > i + 1 && j < bytes.len() && bytes[j] == b']' {
                if let Some(c) = code(&s[i + 1..j]) {
                    out.push_str(&s[last..i]);
                    colored = true;
                    if color {
                        out.push_str("\x1b[");
                        out.push_str(c);
                        out.push('m');
                    }
                    last = j + 1;
                }
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    if colored && color {
        out.push_str("\x1b[0m");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::colorize;

    #[test]
    fn tags_and_final_reset() {
        assert_eq!(
            colorize("[green]+[reset] ", true),
            "\x1b[32m+\x1b[0m \x1b[0m"
        );
        assert_eq!(colorize("[green]+[reset] ", false), "+ ");
        assert_eq!(colorize("a[0] [x]", true), "a[0] [x]");
        assert_eq!(colorize("[bold]", true), "\x1b[1m\x1b[0m");
    }
}
