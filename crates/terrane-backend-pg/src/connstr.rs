//! `conn_str` as Terraform's PostgreSQL driver (lib/pq) reads it.
//!
//! Two forms are accepted, as lib/pq does:
//! * a URL: `postgres://user:password@host:port/dbname?key=value&...`
//!   (`postgresql://` too; parts percent-decoded; query keys as below);
//! * key/value pairs: `host=localhost port=5432 user=me dbname='my db'`
//!   (values optionally single-quoted, `\` escaping inside quotes).
//!
//! Missing keys come from lib/pq's environment variables (`PGHOST`,
//! `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`,
//! `PGAPPNAME`, `PGCONNECT_TIMEOUT`), then its defaults: host `localhost`,
//! port 5432, the current OS user, `sslmode=require`. A host starting with
//! `/` is a Unix socket directory. Keys lib/pq does not interpret are sent
//! to the server as run-time parameters (`search_path=...`), as lib/pq does.
//!
//! The string is parsed here rather than by `postgres::Config::from_str`,
//! which differs from lib/pq: it rejects unknown keys, knows no
//! `verify-ca`/`verify-full`/`sslrootcert`, reads no `PG*` variables, has
//! no default host or user, and treats a missing `sslmode` as `prefer`
//! (lib/pq: `require`).

use std::time::Duration;

use postgres::config::SslMode;

/// How the connection is secured (lib/pq's `sslmode` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// `disable`: plain TCP.
    Disable,
    /// `require` (the default): encrypted, the certificate not verified.
    Require,
    /// `verify-ca`: encrypted, the certificate chain verified.
    VerifyCa,
    /// `verify-full`: encrypted, chain and host name verified.
    VerifyFull,
}

/// A parsed connection string: the client configuration and the TLS mode.
#[derive(Debug, Clone)]
pub struct ConnParams {
    /// The client configuration (host, port, user, database, parameters).
    pub config: postgres::Config,
    /// The `sslmode`.
    pub tls: Tls,
    /// `sslrootcert`: a PEM file of CA certificates to verify against.
    pub root_cert: Option<String>,
}

/// Parses `conn_str` with the environment read through `env`.
pub fn parse(conn_str: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnParams, String> {
    let trimmed = conn_str.trim();
    let pairs = if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        parse_url(trimmed)?
    } else {
        parse_key_values(trimmed)?
    };
    build(pairs, env)
}

/// Key/value pairs in order; a later key overrides an earlier one.
type Pairs = Vec<(String, String)>;

fn parse_url(url: &str) -> Result<Pairs, String> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("invalid connection URL {url:?}"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i + 1..]),
        None => (before_query, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let mut pairs = Pairs::new();
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            pairs.push(("user".into(), percent_decode(user)?));
        }
        if let Some(p) = password {
            pairs.push(("password".into(), percent_decode(p)?));
        }
    }
    let (host, port) = split_host_port(hostport)?;
    if !host.is_empty() {
        pairs.push(("host".into(), percent_decode(&host)?));
    }
    if let Some(port) = port {
        pairs.push(("port".into(), port));
    }
    if !path.is_empty() {
        pairs.push(("dbname".into(), percent_decode(path)?));
    }
    for item in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        pairs.push((
            percent_decode(&k.replace('+', " "))?,
            percent_decode(&v.replace('+', " "))?,
        ));
    }
    Ok(pairs)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(hostport: &str) -> Result<(String, Option<String>), String> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("invalid host {hostport:?} in the connection URL"))?;
        let port = after.strip_prefix(':').map(str::to_string);
        return Ok((host.to_string(), port.filter(|p| !p.is_empty())));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            Ok((h.to_string(), Some(p.to_string()).filter(|p| !p.is_empty())))
        }
        _ => Ok((hostport.to_string(), None)),
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid escape {:?} in the connection URL", &s[i..]))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the connection URL is not valid UTF-8".to_string())
}

fn parse_key_values(s: &str) -> Result<Pairs, String> {
    let mut pairs = Pairs::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "missing \"=\" after {key:?} in connection info string"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err("unterminated quoted string in connection info string".into())
                    }
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => {
                            return Err(
                                "unterminated quoted string in connection info string".into()
                            )
                        }
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// The environment variables lib/pq reads, and the key each sets.
const ENV_KEYS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
];

/// Keys lib/pq interprets itself (the rest go to the server).
const DRIVER_KEYS: &[&str] = &[
    "host",
    "port",
    "dbname",
    "user",
    "password",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslinline",
    "sslsni",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "options",
    "krbsrvname",
    "krbspn",
    "binary_parameters",
    "disable_prepared_binary_result",
];

fn build(pairs: Pairs, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnParams, String> {
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| match settings.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v,
        None => settings.push((k.to_string(), v)),
    };
    for (var, key) in ENV_KEYS {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            set(key, v);
        }
    }
    for (k, v) in pairs {
        set(&k, v);
    }
    let get = |k: &str| {
        settings
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };

    let mut config = postgres::Config::new();
    let host = get("host").filter(|h| !h.is_empty()).unwrap_or("localhost");
    if host.starts_with('/') {
        config.host_path(host);
    } else {
        config.host(host);
    }
    let port = match get("port").filter(|p| !p.is_empty()) {
        None => 5432,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port {p:?} in the connection string"))?,
    };
    config.port(port);
    let user = match get("user").filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => env("USER")
            .or_else(|| env("LOGNAME"))
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                "the connection string names no user and the current user is unknown".to_string()
            })?,
    };
    config.user(&user);
    if let Some(p) = get("password") {
        config.password(p);
    }
    if let Some(d) = get("dbname").filter(|d| !d.is_empty()) {
        config.dbname(d);
    }
    if let Some(a) = get("application_name").or_else(|| get("fallback_application_name")) {
        config.application_name(a);
    }
    // lib/pq has no connect timeout by default; a firewall that drops
    // packets would make us wait for the kernel's, minutes. 30 s is far
    // above any working connection.
    let timeout = match get("connect_timeout").filter(|t| !t.is_empty()) {
        None => Duration::from_secs(30),
        Some(t) => match t.parse::<u64>() {
            Ok(0) => Duration::from_secs(30),
            Ok(s) => Duration::from_secs(s),
            Err(_) => return Err(format!("invalid connect_timeout {t:?}")),
        },
    };
    config.connect_timeout(timeout);
    // Detect a vanished server within a minute instead of the kernel's
    // two hours, so a dead connection is an error, not a hang.
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(15));
    config.keepalives_interval(Duration::from_secs(5));
    config.keepalives_retries(6);
    config.tcp_user_timeout(Duration::from_secs(60));

    let mut tls = match get("sslmode").unwrap_or("require") {
        "disable" => Tls::Disable,
        "" | "require" => Tls::Require,
        "verify-ca" => Tls::VerifyCa,
        "verify-full" => Tls::VerifyFull,
        other => {
            return Err(format!(
                "unsupported sslmode {other:?}; only \"require\" (default), \"verify-full\", \"verify-ca\", and \"disable\" supported"
            ))
        }
    };
    // A Unix socket is never encrypted (the server refuses SSL there).
    if host.starts_with('/') {
        tls = Tls::Disable;
    }
    config.ssl_mode(if tls == Tls::Disable {
        SslMode::Disable
    } else {
        SslMode::Require
    });

    let mut options = get("options").unwrap_or("").to_string();
    for (k, v) in &settings {
        if DRIVER_KEYS.contains(&k.as_str()) {
            continue;
        }
        if !options.is_empty() {
            options.push(' ');
        }
        options.push_str("-c ");
        options.push_str(&escape_option(&format!("{k}={v}")));
    }
    if !options.is_empty() {
        config.options(&options);
    }
    Ok(ConnParams {
        config,
        tls,
        root_cert: get("sslrootcert").map(str::to_string),
    })
}

/// The server splits `options` on spaces; `\` escapes.
fn escape_option(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == ' ' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres::config::Host;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn hosts(c: &postgres::Config) -> Vec<String> {
        c.get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(s) => s.clone(),
                Host::Unix(p) => p.display().to_string(),
            })
            .collect()
    }

    #[test]
    fn url_form() {
        let p = parse(
            "postgres://al%40ice:p%3Ass@db.example:6543/my%20db?sslmode=disable&search_path=x",
            &no_env,
        )
        .expect("parses");
        assert_eq!(hosts(&p.config), ["db.example"]);
        assert_eq!(p.config.get_ports(), [6543]);
        assert_eq!(p.config.get_user(), Some("al@ice"));
        assert_eq!(p.config.get_password(), Some(&b"p:ss"[..]));
        assert_eq!(p.config.get_dbname(), Some("my db"));
        assert_eq!(p.tls, Tls::Disable);
        assert_eq!(p.config.get_options(), Some("-c search_path=x"));
    }

    #[test]
    fn key_value_form_with_quotes_and_unix_socket() {
        let p = parse(
            "host=/tmp/sock port = 5433 user=bob dbname='a \\'b\\' c' sslmode=verify-full application_name=t",
            &no_env,
        )
        .expect("parses");
        assert_eq!(hosts(&p.config), ["/tmp/sock"]);
        assert_eq!(p.config.get_ports(), [5433]);
        assert_eq!(p.config.get_dbname(), Some("a 'b' c"));
        assert_eq!(p.tls, Tls::Disable, "never TLS over a Unix socket");
        assert_eq!(p.config.get_application_name(), Some("t"));
    }

    #[test]
    fn defaults_come_from_the_environment_then_lib_pq() {
        let env = |k: &str| match k {
            "PGPORT" => Some("7777".to_string()),
            "USER" => Some("osuser".to_string()),
            _ => None,
        };
        let p = parse("postgres:///", &env).expect("parses");
        assert_eq!(hosts(&p.config), ["localhost"]);
        assert_eq!(p.config.get_ports(), [7777]);
        assert_eq!(p.config.get_user(), Some("osuser"));
        assert_eq!(p.tls, Tls::Require);
        let p = parse("postgres://[::1]:5999/d?sslmode=disable", &env).expect("v6");
        assert_eq!(hosts(&p.config), ["::1"]);
        assert_eq!(p.config.get_ports(), [5999]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "host",
            "host='open",
            "postgres://h:notaport/d",
            "postgres://h/%zz",
            "sslmode=prefer user=x",
            "user=x connect_timeout=soon",
        ] {
            assert!(parse(bad, &no_env).is_err(), "{bad} should be refused");
        }
    }
}
