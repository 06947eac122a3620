//! RFC 3339 timestamps and Go-style durations, without a date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant with the UTC offset it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ts {
    /// Seconds since the Unix epoch.
    pub unix: i64,
    /// Offset from UTC in seconds.
    pub offset: i32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (any month/day
/// overflow is carried: month 13 is January of the next year).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = y + (m - 1).div_euclid(12);
    let m = (m - 1).rem_euclid(12) + 1;
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468 + (d - 1)
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// Broken-down local time: year, month, day, hour, minute, second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Ts {
    /// Now, in UTC, truncated to the second.
    pub fn now() -> Ts {
        let unix = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        };
        Ts { unix, offset: 0 }
    }

    /// The local (offset-adjusted) date and time.
    pub fn civil(&self) -> Civil {
        let local = self.unix + self.offset as i64;
        let days = local.div_euclid(86400);
        let secs = local.rem_euclid(86400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }

    /// Parses RFC 3339 (`2006-01-02T15:04:05Z`, optional fraction, `±hh:mm`
    /// offset). Fractions of a second are dropped.
    pub fn parse(s: &str) -> Option<Ts> {
        let b = s.as_bytes();
        if b.len() < 20 || !s.is_ascii() {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            if !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let dim = days_from_civil(year, month + 1, 1) - days_from_civil(year, month, 1);
        if day < 1 || day > dim {
            return None;
        }
        let mut i = 19;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let offset = match b.get(i) {
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
            Some(c @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let h = num(i + 1..i + 3)?;
                let m = num(i + 4..i + 6)?;
                if h > 23 || m > 59 {
                    return None;
                }
                let o = (h * 3600 + m * 60) as i32;
                if *c == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        let local = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
        Some(Ts {
            unix: local - offset as i64,
            offset,
        })
    }

    /// Formats as Go's `time.RFC3339` (no fraction; `Z` for UTC).
    pub fn format(&self) -> String {
        let c = self.civil();
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        if self.offset == 0 {
            s.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let o = self.offset.abs();
            s.push_str(&format!("{sign}{:02}:{:02}", o / 3600, o % 3600 / 60));
        }
        s
    }

    /// Go's `AddDate`: adds years, months and days to the local date,
    /// normalising overflow (January 31 plus one month is March 2 or 3).
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> Ts {
        let c = self.civil();
        let d = days_from_civil(c.year + years, c.month + months, c.day + days);
        let local = d * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
        Ts {
            unix: local - self.offset as i64,
            offset: self.offset,
        }
    }

    /// Adds seconds.
    pub fn add_secs(&self, secs: i64) -> Ts {
        Ts {
            unix: self.unix.saturating_add(secs),
            offset: self.offset,
        }
    }
}

/// Parses a Go duration string (`"30s"`, `"1h30m"`, `"1.5h"`, `"300ms"`).
/// Negative durations are rejected (a sleep cannot be negative).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("time: invalid duration {s:?}");
    let mut rest = s;
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    } else if rest.starts_with('-') {
        return Err(format!("time: negative duration {s:?}"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration {s:?}"))?;
        let (n, r) = rest.split_at(n_end);
        if n.is_empty() || n == "." {
            return Err(bad());
        }
        let v: f64 = n.parse().map_err(|_| bad())?;
        let u_end = r
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(r.len());
        let (unit, r2) = r.split_at(u_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            _ => return Err(format!("time: unknown unit {unit:?} in duration {s:?}")),
        };
        total += v * scale;
        rest = r2;
    }
    if !total.is_finite() || total > 9.2e9 {
        return Err(format!("time: invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Ts::parse("2020-02-29T23:59:58Z").unwrap();
        assert_eq!(t.unix, 1583020798);
        assert_eq!(t.format(), "2020-02-29T23:59:58Z");
        let t = Ts::parse("2021-01-01T01:02:03.456+05:30").unwrap();
        assert_eq!(t.format(), "2021-01-01T01:02:03+05:30");
        assert_eq!(t.civil().hour, 1);
        assert_eq!(t.unix, 1609443123);
        assert!(Ts::parse("2021-02-30T00:00:00Z").is_none());
        assert!(Ts::parse("2021-01-01 00:00:00Z").is_none());
        assert!(Ts::parse("2021-01-01T00:00:00").is_none());
        assert_eq!(
            Ts::parse("2021-01-31T00:00:00Z")
                .unwrap()
                .add_date(0, 1, 0)
                .format(),
            "2021-03-03T00:00:00Z"
        );
        assert_eq!(
            Ts::parse("2021-12-15T00:00:00Z")
                .unwrap()
                .add_date(1, 1, 20)
                .format(),
            "2023-02-04T00:00:00Z"
        );
        assert_eq!(Ts::parse("1969-12-31T23:59:59Z").unwrap().unix, -1);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
