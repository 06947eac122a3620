//! Date and time functions: RFC 3339 timestamps with Go's parsing rules
//! and Terraform's error wording, `formatdate` layouts and Go durations.

use terrane_value::{Type, Value};

use super::format::go_quote;
use super::{
    arg_err, str_arg, t_number, t_string, FnResult, FunctionContext, FunctionError, Param, Spec,
};

pub(crate) fn spec(name: &str) -> Option<Spec> {
    let s = |n: &'static str| Param::new(n, Type::String);
    Some(match name {
        "formatdate" => Spec::new(vec![s("format"), s("time")], t_string, formatdate),
        "timeadd" => Spec::new(vec![s("timestamp"), s("duration")], t_string, timeadd),
        "timecmp" => Spec::new(vec![s("timestamp_a"), s("timestamp_b")], t_number, timecmp),
        "timestamp" => Spec::new(vec![], t_string, |_, _, _| Ok(Value::string(now()))),
        "plantimestamp" => Spec::new(vec![], t_string, |_, _, _| Ok(Value::string(now()))),
        _ => return None,
    })
}

/// An instant with the UTC offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Time {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Offset from UTC in seconds.
    pub offset: i32,
}

fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(&Time {
        secs: d.as_secs() as i64,
        nanos: 0,
        offset: 0,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day count since 1970-01-01: (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn ts_err(msg: impl std::fmt::Display) -> String {
    format!("not a valid RFC3339 timestamp: {msg}")
}

/// Parses Go's `time.RFC3339` layout (`2006-01-02T15:04:05Z07:00`, with
/// optional fractional seconds) and words errors as Terraform does.
pub(crate) fn parse_rfc3339(s: &str) -> Result<Time, String> {
    let mut v = s;
    let cannot =
        |rest: &str, what: &str| ts_err(format!("cannot use {} as {what}", go_quote(rest)));
    let end_before = |what: &str| ts_err(format!("end of string before {what}"));
    // fixed-width number
    fn num(v: &str, n: usize) -> Option<(i64, &str)> {
        let b = v.as_bytes();
        if b.len() < n || !b[..n].iter().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((v[..n].parse().ok()?, &v[n..]))
    }
    let lit = |v: &str, c: &str| -> Result<(), String> {
        if v.is_empty() {
            Err(ts_err(format!(
                "end of string where {} is expected",
                go_quote(c)
            )))
        } else {
            Err(ts_err(format!(
                "found {} where {} is expected",
                go_quote(v),
                go_quote(c)
            )))
        }
    };
    // year
    if v.len() < 4 {
        return Err(if v.is_empty() {
            end_before("year")
        } else {
            cannot(v, "year")
        });
    }
    let Some((year, r)) = num(v, 4) else {
        return Err(cannot(v, "year"));
    };
    v = r;
    let field = |v: &mut &str, sep: &str, what: &str, lo: i64, hi: i64| -> Result<i64, String> {
        if !sep.is_empty() {
            match v.strip_prefix(sep) {
                Some(r) => *v = r,
                None => {
                    if sep == "T" {
                        return Err(ts_err("missing required time introducer 'T'"));
                    }
                    lit(v, sep)?;
                }
            }
        }
        if v.is_empty() {
            return Err(end_before(what));
        }
        let Some((n, r)) = num(v, 2) else {
            return Err(cannot(v, what));
        };
        if n < lo || n > hi {
            return Err(cannot(r, what));
        }
        *v = r;
        Ok(n)
    };
    let month = field(&mut v, "-", "month", 1, 12)?;
    let day = field(&mut v, "-", "day of month", 1, 31)?;
    let hour = field(&mut v, "T", "hour", 0, 23)?;
    let minute = field(&mut v, ":", "minute", 0, 59)?;
    let second = field(&mut v, ":", "second", 0, 59)?;
    let mut nanos: u32 = 0;
    if let Some(r) = v.strip_prefix('.').or_else(|| v.strip_prefix(',')) {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let frac = &r[..digits];
            let mut n: u64 = 0;
            for (i, c) in frac.bytes().enumerate() {
                if i < 9 {
                    n = n * 10 + (c - b'0') as u64;
                }
            }
            for _ in digits.min(9)..9 {
                n *= 10;
            }
            nanos = n as u32;
            v = &r[digits..];
        }
    }
    // zone
    let offset: i32 = if let Some(r) = v.strip_prefix('Z') {
        v = r;
        0
    } else {
        if v.is_empty() {
            return Err(end_before("UTC offset"));
        }
        let b = v.as_bytes();
        if b.len() < 6 || (b[0] != b'+' && b[0] != b'-') || b[3] != b':' {
            return Err(cannot(v, "UTC offset"));
        }
        let (Some((hh, _)), Some((mm, _))) = (num(&v[1..3], 2), num(&v[4..6], 2)) else {
            return Err(cannot(v, "UTC offset"));
        };
        if hh > 24 || mm > 60 {
            return Err(cannot(&v[6..], "UTC offset"));
        }
        let o = (hh * 3600 + mm * 60) as i32;
        let o = if b[0] == b'-' { -o } else { o };
        v = &v[6..];
        o
    };
    if !v.is_empty() {
        return Err(cannot(v, "timestamp segment"));
    }
    if day > days_in_month(year, month) {
        return Err(ts_err("day out of range"));
    }
    let days = days_from_civil(year, month, day);
    let local = days * 86400 + hour * 3600 + minute * 60 + second;
    Ok(Time {
        secs: local - offset as i64,
        nanos,
        offset,
    })
}

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
}

fn local_parts(t: &Time) -> Parts {
    let local = t.secs + t.offset as i64;
    let days = local.div_euclid(86400);
    let sod = local.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod % 3600 / 60,
        second: sod % 60,
        // 1970-01-01 was a Thursday (4)
        weekday: (days + 4).rem_euclid(7),
    }
}

fn offset_text(offset: i32, colon: bool, z_for_utc: bool) -> String {
    if offset == 0 && z_for_utc {
        return "Z".into();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    if colon {
        format!("{sign}{:02}:{:02}", o / 3600, o % 3600 / 60)
    } else {
        format!("{sign}{:02}{:02}", o / 3600, o % 3600 / 60)
    }
}

fn year_text(y: i64, width: usize) -> String {
    if y < 0 {
        format!("-{:0width$}", -y)
    } else {
        format!("{y:0width$}")
    }
}

/// `2006-01-02T15:04:05Z07:00` (whole seconds).
pub(crate) fn format_rfc3339(t: &Time) -> String {
    let p = local_parts(t);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        year_text(p.year, 4),
        p.month,
        p.day,
        p.hour,
        p.minute,
        p.second,
        offset_text(t.offset, true, true)
    )
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn formatdate(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let fmt = str_arg(a, 0);
    let t = parse_rfc3339(str_arg(a, 1)).map_err(|e| FunctionError::arg(1, e))?;
    let p = local_parts(&t);
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let verb_err = |tok: &str, why: &str| -> FnResult {
        if why.is_empty() {
            arg_err(0, format!("invalid date format verb {}", go_quote(tok)))
        } else {
            arg_err(
                0,
                format!("invalid date format verb {}: {why}", go_quote(tok)),
            )
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => return arg_err(0, "unterminated literal '"),
                    Some('\'') => {
                        if chars.get(i + 1) == Some(&'\'') {
                            out.push('\'');
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&ch) => {
                        out.push(ch);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == c {
            i += 1;
        }
        let n = i - start;
        let tok: String = chars[start..i].iter().collect();
        let h12 = match p.hour % 12 {
            0 => 12,
            h => h,
        };
        match (c, n) {
            ('Y', 2) => out.push_str(&format!("{:02}", p.year.rem_euclid(100))),
            ('Y', 4) => out.push_str(&year_text(p.year, 4)),
            ('Y', _) => return verb_err(&tok, "year must either be \"YY\" or \"YYYY\""),
            ('M', 1) => out.push_str(&p.month.to_string()),
            ('M', 2) => out.push_str(&format!("{:02}", p.month)),
            ('M', 3) => out.push_str(&MONTHS[(p.month - 1) as usize][..3]),
            ('M', 4) => out.push_str(MONTHS[(p.month - 1) as usize]),
            ('M', _) => return verb_err(&tok, "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""),
            ('D', 1) => out.push_str(&p.day.to_string()),
            ('D', 2) => out.push_str(&format!("{:02}", p.day)),
            ('D', _) => return verb_err(&tok, "day of month must either be \"D\" or \"DD\""),
            ('E', 3) => out.push_str(&DAYS[p.weekday as usize][..3]),
            ('E', 4) => out.push_str(DAYS[p.weekday as usize]),
            ('E', _) => return verb_err(&tok, "day of week must either be \"EEE\" or \"EEEE\""),
            ('h', 1) => out.push_str(&p.hour.to_string()),
            ('h', 2) => out.push_str(&format!("{:02}", p.hour)),
            ('h', _) => return verb_err(&tok, "24-hour must either be \"h\" or \"hh\""),
            ('H', 1) => out.push_str(&h12.to_string()),
            ('H', 2) => out.push_str(&format!("{h12:02}")),
            ('H', _) => return verb_err(&tok, "12-hour must either be \"H\" or \"HH\""),
            ('A', 2) => out.push_str(if p.hour < 12 { "AM" } else { "PM" }),
            ('A', _) => return verb_err(&tok, "must be \"AA\""),
            ('a', 2) => out.push_str(if p.hour < 12 { "am" } else { "pm" }),
            ('a', _) => return verb_err(&tok, "must be \"aa\""),
            ('m', 1) => out.push_str(&p.minute.to_string()),
            ('m', 2) => out.push_str(&format!("{:02}", p.minute)),
            ('m', _) => return verb_err(&tok, "minute must either be \"m\" or \"mm\""),
            ('s', 1) => out.push_str(&p.second.to_string()),
            ('s', 2) => out.push_str(&format!("{:02}", p.second)),
            ('s', _) => return verb_err(&tok, "second must either be \"s\" or \"ss\""),
            ('Z', 1) => out.push_str(&offset_text(t.offset, true, true)),
            ('Z', 3) => {
                if t.offset == 0 {
                    out.push_str("UTC");
                } else {
                    out.push_str(&offset_text(t.offset, false, false));
                }
            }
            ('Z', 4) => out.push_str(&offset_text(t.offset, false, false)),
            ('Z', 5) => out.push_str(&offset_text(t.offset, true, false)),
            ('Z', _) => return verb_err(&tok, "timezone must be Z, ZZZZ, or ZZZZZ"),
            _ => return verb_err(&tok, ""),
        }
    }
    Ok(Value::string(out))
}

/// Parses a Go duration (`time.ParseDuration`) into nanoseconds.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &b[..int_len] {
            v = v
                .checked_mul(10)
                .and_then(|x| x.checked_add((c - b'0') as u64))
                .filter(|x| *x <= i64::MAX as u64)
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let pre = int_len > 0;
        let mut post = false;
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        if let Some(r) = s.strip_prefix('.') {
            s = r;
            let fb = s.as_bytes();
            let flen = fb.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &fb[..flen] {
                if overflow {
                    continue;
                }
                match f
                    .checked_mul(10)
                    .and_then(|x| x.checked_add((c - b'0') as u64))
                {
                    Some(x) if x <= i64::MAX as u64 => {
                        f = x;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            post = flen > 0;
            s = &s[flen..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let ulen = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        if ulen == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let u = &s[..ulen];
        s = &s[ulen..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(u),
                    go_quote(orig)
                ))
            }
        };
        if v > (i64::MAX as u64) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > i64::MAX as u64 {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(v)
            .filter(|x| *x <= i64::MAX as u64)
            .ok_or_else(invalid)?;
    }
    Ok(if neg { -(total as i64) } else { total as i64 })
}

fn timeadd(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let t = parse_rfc3339(str_arg(a, 0)).map_err(FunctionError::call)?;
    let d = parse_duration(str_arg(a, 1)).map_err(FunctionError::call)?;
    let total = t.secs as i128 * 1_000_000_000 + t.nanos as i128 + d as i128;
    let secs = total.div_euclid(1_000_000_000) as i64;
    let nanos = total.rem_euclid(1_000_000_000) as u32;
    Ok(Value::string(format_rfc3339(&Time {
        secs,
        nanos,
        offset: t.offset,
    })))
}

fn timecmp(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let x = parse_rfc3339(str_arg(a, 0)).map_err(|e| FunctionError::arg(0, e))?;
    let y = parse_rfc3339(str_arg(a, 1)).map_err(|e| FunctionError::arg(1, e))?;
    let r = (x.secs, x.nanos).cmp(&(y.secs, y.nanos)) as i64;
    Ok(Value::from_i64(r))
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
    fn dates() {
        let st = Value::string;
        let cases = [
            ("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z", "\"02 Jan 2018 23:12 UTC\""),
            ("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z", "\"Tuesday, 02-Jan-18 23:12:01 UTC\""),
            ("H:m:s", "2018-01-02T03:04:05Z", "\"3:4:5\""),
            ("ZZZZ ZZZZZ Z", "2018-01-02T03:04:05+05:30", "\"+0530 +05:30 +05:30\""),
            ("D/M/YY h:m aa", "1999-12-31T23:59:59+01:00", "\"31/12/99 23:59 pm\""),
            ("'it''s' YYYY", "2018-01-02T03:04:05Z", "\"it's 2018\""),
            ("HH AA h", "2018-01-02T00:04:05Z", "\"12 AM 0\""),
            ("YYYY", "not a date", "ERR argument 1: not a valid RFC3339 timestamp: cannot use \"not a date\" as year"),
            ("YYYY", "2018-13-02T03:04:05Z", "ERR argument 1: not a valid RFC3339 timestamp: cannot use \"-02T03:04:05Z\" as month"),
            ("YYYY", "2018-02-30T03:04:05Z", "ERR argument 1: not a valid RFC3339 timestamp: day out of range"),
            ("YYYY", "2018-02-03T03:04:05", "ERR argument 1: not a valid RFC3339 timestamp: end of string before UTC offset"),
            ("YYYY", "2018/02", "ERR argument 1: not a valid RFC3339 timestamp: found \"/02\" where \"-\" is expected"),
            ("YYYY", "2018-02-03T03:04:60Z", "ERR argument 1: not a valid RFC3339 timestamp: cannot use \"Z\" as second"),
            ("Q", "2018-01-02T03:04:05Z", "ERR argument 0: invalid date format verb \"Q\""),
        ];
        for (f, t, want) in cases {
            assert_eq!(run("formatdate", vec![st(f), st(t)]), want, "{f} {t}");
        }
        let adds = [
            ("2017-11-22T00:00:00Z", "-1h30m", "\"2017-11-21T22:30:00Z\""),
            ("2017-11-22T00:00:00Z", "1.5h", "\"2017-11-22T01:30:00Z\""),
            (
                "2017-11-22T00:00:00+02:00",
                "1h",
                "\"2017-11-22T01:00:00+02:00\"",
            ),
            ("2016-02-28T23:59:59Z", "1s", "\"2016-02-29T00:00:00Z\""),
            ("2020-02-29T12:34:56Z", "1.5s", "\"2020-02-29T12:34:57Z\""),
            ("9999-12-31T23:59:59Z", "1s", "\"10000-01-01T00:00:00Z\""),
            (
                "2017-11-22",
                "1h",
                "ERR not a valid RFC3339 timestamp: missing required time introducer 'T'",
            ),
            (
                "2018-02-03T03:04:05Z",
                "1",
                "ERR time: missing unit in duration \"1\"",
            ),
            (
                "2018-02-03T03:04:05Z",
                "1x",
                "ERR time: unknown unit \"x\" in duration \"1x\"",
            ),
            (
                "2018-02-03T03:04:05Z",
                "99999999999h",
                "ERR time: invalid duration \"99999999999h\"",
            ),
        ];
        for (t, d, want) in adds {
            assert_eq!(run("timeadd", vec![st(t), st(d)]), want, "{t} {d}");
        }
    }
}
