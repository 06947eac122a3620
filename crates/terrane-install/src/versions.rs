//! Versions and version constraints, with Terraform's rules for providers
//! and registry modules.
//!
//! A version is `MAJOR.MINOR.PATCH` with an optional `-prerelease` and
//! `+metadata`. A constraint string is a comma-separated list of
//! `OP VERSION` terms (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`; no operator
//! means `=`), where a version in a constraint may omit trailing parts.
//!
//! Prerelease versions are only ever selected by an exact (`=`) term naming
//! them; every other term only admits released versions, even when its own
//! boundary is a prerelease (`>= 2.0.0-beta` admits `2.0.0` and `2.1.0`).

use std::cmp::Ordering;
use std::fmt;

/// A semantic version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// The part after `-`, empty for a release.
    pub prerelease: String,
    /// The part after `+`, empty when absent; ignored when comparing.
    pub metadata: String,
}

impl Version {
    pub fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            prerelease: String::new(),
            metadata: String::new(),
        }
    }

    /// Parses a full version (`1.2.3`, `1.2.3-beta1`, `v1.2.3`). Registry
    /// version lists sometimes carry a leading `v`, which is accepted. A
    /// version with fewer than three parts is accepted too (missing parts are
    /// zero), as Terraform's version parser does.
    pub fn parse(text: &str) -> Result<Version, String> {
        let (version, _segments) = parse_partial(text.strip_prefix('v').unwrap_or(text))?;
        Ok(version)
    }

    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }

    /// The version without metadata, for equality as Terraform compares.
    fn same_precedence(&self, other: &Version) -> bool {
        (self.major, self.minor, self.patch) == (other.major, other.minor, other.patch)
            && compare_prerelease(&self.prerelease, &other.prerelease) == Ordering::Equal
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.prerelease.is_empty() {
            write!(f, "-{}", self.prerelease)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Version, String> {
        Version::parse(s)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// Semantic version precedence: numbers, then a release above any of its
    /// prereleases, then prerelease identifiers one by one (numeric ones
    /// numerically and below alphanumeric ones). Metadata does not count,
    /// except as a final tie-break so that the order is total.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_prerelease(&self.prerelease, &other.prerelease))
            .then_with(|| self.metadata.cmp(&other.metadata))
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Parses `1`, `1.2`, `1.2.3` with optional `-pre` and `+meta`; returns the
/// version (missing parts zero) and how many numeric parts were written.
fn parse_partial(text: &str) -> Result<(Version, usize), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a version number is required".to_string());
    }
    let (rest, metadata) = match text.split_once('+') {
        Some((r, m)) => (r, m),
        None => (text, ""),
    };
    let (numbers, prerelease) = match rest.split_once('-') {
        Some((n, p)) => (n, p),
        None => (rest, ""),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.len() > 3 {
        return Err(format!(
            "invalid specification {text:?}: too many numbered portions; only three are allowed (major, minor, patch)"
        ));
    }
    let mut nums = [0u64; 3];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid version {text:?}"));
        }
        nums[i] = part
            .parse()
            .map_err(|_| format!("invalid version {text:?}: number too large"))?;
    }
    let valid_ident = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    if rest.contains('-') && !valid_ident(prerelease) {
        return Err(format!("invalid prerelease in version {text:?}"));
    }
    if text.contains('+') && !valid_ident(metadata) {
        return Err(format!("invalid metadata in version {text:?}"));
    }
    Ok((
        Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            prerelease: prerelease.to_string(),
            metadata: metadata.to_string(),
        },
        parts.len(),
    ))
}

/// A constraint operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    /// `~>`: only the rightmost written part may increase.
    Pessimistic,
}

impl Operator {
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Pessimistic => "~>",
        }
    }
}

/// One `OP VERSION` term.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Constraint {
    pub operator: Operator,
    pub version: Version,
    /// How many numeric parts were written (1 to 3); matters for `~>`.
    pub segments: usize,
}

impl Constraint {
    /// Parses one term such as `>= 1.2` or `~>1`.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let t = text.trim();
        let (operator, rest) = [
            ("~>", Operator::Pessimistic),
            (">=", Operator::GreaterOrEqual),
            ("<=", Operator::LessOrEqual),
            ("!=", Operator::NotEqual),
            ("=", Operator::Equal),
            (">", Operator::Greater),
            ("<", Operator::Less),
        ]
        .iter()
        .find_map(|(sym, op)| t.strip_prefix(sym).map(|r| (*op, r)))
        .unwrap_or((Operator::Equal, t));
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Err(format!(
                "invalid specification {t:?}: a version number is required"
            ));
        }
        if rest.contains(char::is_whitespace) {
            return Err(format!("invalid specification {t:?}"));
        }
        let (version, segments) = parse_partial(rest).map_err(|e| {
            if e.contains("too many numbered portions") {
                format!(
                    "invalid specification {t:?}: too many numbered portions; only three are allowed (major, minor, patch)"
                )
            } else {
                format!("invalid specification {t:?}")
            }
        })?;
        Ok(Constraint {
            operator,
            version,
            segments,
        })
    }

    /// Whether `v` meets this term, ignoring the prerelease rule (see
    /// [`Constraints::allows`]).
    fn admits(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.operator {
            Operator::Equal => v.same_precedence(c),
            Operator::NotEqual => !v.same_precedence(c),
            Operator::Greater => v > c && !v.same_precedence(c),
            Operator::GreaterOrEqual => v >= c || v.same_precedence(c),
            Operator::Less => v < c && !v.same_precedence(c),
            Operator::LessOrEqual => v <= c || v.same_precedence(c),
            Operator::Pessimistic => {
                if v < c && !v.same_precedence(c) {
                    return false;
                }
                // The upper bound: bump the second-to-last written part.
                let upper = match self.segments {
                    0 | 1 => Version::new(c.major + 1, 0, 0),
                    2 => Version::new(c.major + 1, 0, 0),
                    _ => Version::new(c.major, c.minor + 1, 0),
                };
                let upper = Version {
                    prerelease: String::new(),
                    ..upper
                };
                // Below the bump, and below its prereleases as well.
                (v.major, v.minor, v.patch) < (upper.major, upper.minor, upper.patch)
            }
        }
    }

    /// How Terraform writes the term in the lock file and in messages: the
    /// operator (none for `=`) and the version with all three parts, except
    /// that `~>` keeps the parts written (at least two).
    pub fn canonical(&self) -> String {
        let v = &self.version;
        let mut version = if self.operator == Operator::Pessimistic && self.segments < 3 {
            format!("{}.{}", v.major, v.minor)
        } else {
            format!("{}.{}.{}", v.major, v.minor, v.patch)
        };
        if !v.prerelease.is_empty() {
            version.push('-');
            version.push_str(&v.prerelease);
        }
        if !v.metadata.is_empty() {
            version.push('+');
            version.push_str(&v.metadata);
        }
        match self.operator {
            Operator::Equal => version,
            op => format!("{} {}", op.symbol(), version),
        }
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// A set of terms that must all hold. Empty means "any released version".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Constraints {
    pub terms: Vec<Constraint>,
}

impl Constraints {
    /// No constraint at all.
    pub fn any() -> Constraints {
        Constraints::default()
    }

    /// Parses a comma-separated constraint string such as `">= 1.2, < 2"`.
    /// An empty or blank string means no constraint.
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut terms = Vec::new();
        if text.trim().is_empty() {
            return Ok(Constraints { terms });
        }
        for part in text.split(',') {
            terms.push(Constraint::parse(part)?);
        }
        Ok(Constraints { terms })
    }

    /// A single exact-version constraint.
    pub fn exactly(version: &Version) -> Constraints {
        Constraints {
            terms: vec![Constraint {
                operator: Operator::Equal,
                version: version.clone(),
                segments: 3,
            }],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Adds the terms of `other` (constraints from several modules on one
    /// provider all apply).
    pub fn merge(&mut self, other: &Constraints) {
        self.terms.extend(other.terms.iter().cloned());
    }

    /// Whether `v` is acceptable: every term admits it, and a prerelease is
    /// only acceptable when an `=` term names exactly it.
    pub fn allows(&self, v: &Version) -> bool {
        if v.is_prerelease() {
            let named = self
                .terms
                .iter()
                .any(|t| t.operator == Operator::Equal && t.version.same_precedence(v));
            if !named {
                return false;
            }
        }
        self.terms.iter().all(|t| t.admits(v))
    }

    /// The newest acceptable version among `available`.
    pub fn newest<'a>(&self, available: impl IntoIterator<Item = &'a Version>) -> Option<Version> {
        available
            .into_iter()
            .filter(|v| self.allows(v))
            .max()
            .cloned()
    }

    /// Terraform's normalized form, as recorded in the lock file's
    /// `constraints`: terms deduplicated and sorted by their version (then
    /// operator), each written as [`Constraint::canonical`].
    pub fn canonical(&self) -> String {
        let mut terms: Vec<&Constraint> = self.terms.iter().collect();
        terms.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then_with(|| a.operator.symbol().cmp(b.operator.symbol()))
                .then_with(|| a.canonical().cmp(&b.canonical()))
        });
        let mut out: Vec<String> = Vec::new();
        for t in terms {
            let s = t.canonical();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out.join(", ")
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl std::str::FromStr for Constraints {
    type Err = String;
    fn from_str(s: &str) -> Result<Constraints, String> {
        Constraints::parse(s)
    }
}
