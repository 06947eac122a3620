//! The `pg` backend: states stored in PostgreSQL, in the layout Terraform
//! 1.0.3's pg backend uses, so both tools share one database.
//!
//! Layout (observed from Terraform 1.0.3 with `log_statement=all`):
//! * schema `terraform_remote_state` (`schema_name`), created unless
//!   `skip_schema_creation` (and only when `information_schema` does not
//!   list it, so a user without `CREATE` on the database can still use an
//!   existing one);
//! * sequence `public.global_states_id_seq` (bigint) shared by every
//!   schema, so state ids are unique in the database (the lock keys below
//!   depend on that), and table `<schema>.states (id bigint primary key
//!   default nextval(...), name text unique, data text)`, unless
//!   `skip_table_creation`;
//! * unique index `states_by_name` on `name`, unless `skip_index_creation`;
//! * one row per workspace; `default` is the default workspace.
//!
//! Locking: session-level advisory locks. A workspace whose row exists is
//! locked with the key `id` of the row; taking it also takes key `-1` for
//! the moment (released at once), so a lock cannot be taken while someone
//! is creating a workspace. A workspace with no row yet is locked with key
//! `-1` alone ("locked for workspace creation"). The lock belongs to the
//! connection: it is released when the holder unlocks, closes the
//! connection or dies. The messages are Terraform's.
//!
//! Every backend value shares one connection (as Terraform's does), so a
//! process never blocks itself. When the connection drops while a lock is
//! held, the next operation reconnects and takes the lock again before
//! doing anything, or fails if someone else has it now.

mod connstr;
mod tls;

use std::sync::{Arc, Mutex, MutexGuard};

use postgres::error::SqlState;
use terrane_state::backend::{config_bool, config_string};
use terrane_state::{
    Backend, BackendConfig, BackendError, BackendType, ConfigAttr, ConfigType, LockError, LockInfo,
    RemoteClient, RemoteState, State, StateMgr,
};

pub use connstr::{ConnParams, Tls};

/// The default schema name.
pub const DEFAULT_SCHEMA_NAME: &str = "terraform_remote_state";

/// The lock key of workspace creation (and of a workspace with no row).
const CREATION_LOCK_KEY: i64 = -1;

/// Terraform 1.0.3's pg schema, in the order `.terraform/terraform.tfstate`
/// records it. `conn_str` is not marked required: `PG_CONN_STR` may supply
/// it (the check is in [`configure`]).
pub const SCHEMA: &[ConfigAttr] = &[
    ConfigAttr {
        name: "conn_str",
        ty: ConfigType::String,
        required: false,
        sensitive: false,
    },
    ConfigAttr {
        name: "schema_name",
        ty: ConfigType::String,
        required: false,
        sensitive: false,
    },
    ConfigAttr {
        name: "skip_index_creation",
        ty: ConfigType::Bool,
        required: false,
        sensitive: false,
    },
    ConfigAttr {
        name: "skip_schema_creation",
        ty: ConfigType::Bool,
        required: false,
        sensitive: false,
    },
    ConfigAttr {
        name: "skip_table_creation",
        ty: ConfigType::Bool,
        required: false,
        sensitive: false,
    },
];

/// The `pg` backend type.
pub const BACKEND: BackendType = BackendType {
    name: "pg",
    schema: SCHEMA,
    configure,
};

/// The pg backend's settings after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// The connection string (URL or key/value pairs).
    pub conn_str: String,
    /// The schema holding the `states` table.
    pub schema_name: String,
    /// The schema must exist already.
    pub skip_schema_creation: bool,
    /// The table (and its sequence) must exist already.
    pub skip_table_creation: bool,
    /// The index must exist already.
    pub skip_index_creation: bool,
}

impl PgSettings {
    /// The settings from a merged configuration; arguments not set come
    /// from `env` (`PG_CONN_STR`, `PG_SCHEMA_NAME`,
    /// `PG_SKIP_SCHEMA_CREATION`, `PG_SKIP_TABLE_CREATION`,
    /// `PG_SKIP_INDEX_CREATION`, as later Terraform versions document).
    pub fn from_config(
        config: &BackendConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PgSettings, BackendError> {
        let string = |name: &str, var: &str| -> Result<Option<String>, BackendError> {
            match config_string(config, name)? {
                Some(s) => Ok(Some(s)),
                None => Ok(env(var).filter(|v| !v.is_empty())),
            }
        };
        let flag = |name: &str, var: &str| -> Result<bool, BackendError> {
            if let Some(b) = config_bool(config, name)? {
                return Ok(b);
            }
            match env(var).as_deref() {
                None | Some("") => Ok(false),
                Some(v) => parse_bool(v).ok_or_else(|| {
                    BackendError::new(format!("{var}: {v:?} is not a boolean (use true or false)"))
                }),
            }
        };
        let conn_str = string("conn_str", "PG_CONN_STR")?
            .ok_or_else(|| BackendError::new("\"conn_str\": required field is not set"))?;
        let schema_name = string("schema_name", "PG_SCHEMA_NAME")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SCHEMA_NAME.to_string());
        Ok(PgSettings {
            conn_str,
            schema_name,
            skip_schema_creation: flag("skip_schema_creation", "PG_SKIP_SCHEMA_CREATION")?,
            skip_table_creation: flag("skip_table_creation", "PG_SKIP_TABLE_CREATION")?,
            skip_index_creation: flag("skip_index_creation", "PG_SKIP_INDEX_CREATION")?,
        })
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// [`BACKEND`]'s constructor: reads the settings, connects and creates
/// what is missing of the schema, table and index.
pub fn configure(config: &BackendConfig) -> Result<Box<dyn Backend>, BackendError> {
    let settings = PgSettings::from_config(config, &env_var)?;
    Ok(Box::new(PgBackend::connect(&settings)?))
}

/// `"name"` with embedded quotes doubled (PostgreSQL identifier quoting).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The connection shared by a backend and its clients, and the advisory
/// locks taken on it.
struct Session {
    params: ConnParams,
    client: Option<postgres::Client>,
    /// Keys this connection holds, one entry per successful
    /// `pg_try_advisory_lock` not yet released (PostgreSQL counts them).
    held: Vec<i64>,
}

impl Session {
    /// The live connection, connecting (and retaking held locks) first if
    /// there is none.
    fn client(&mut self) -> Result<&mut postgres::Client, BackendError> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            let mut client = open(&self.params)?;
            for key in &self.held {
                let (taken,): (bool,) = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[key])
                    .map(|row| (row.get(0),))
                    .map_err(pg_error)?;
                if !taken {
                    self.held.clear();
                    return Err(BackendError::new(
                        "the connection to PostgreSQL was lost while holding the state lock, \
                         and someone else has taken the lock since; run the command again",
                    ));
                }
            }
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| BackendError::new("no PostgreSQL connection"))
    }

    /// Runs `op` on the connection; an error that broke the connection
    /// drops it (the next call reconnects).
    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        let client = self.client()?;
        match op(client) {
            Ok(v) => Ok(v),
            Err(e) => {
                if e.is_closed() || client.is_closed() || is_io(&e) {
                    self.client = None;
                }
                Err(pg_error(e))
            }
        }
    }

    fn release(&mut self, key: i64) {
        if let Some(i) = self.held.iter().position(|k| *k == key) {
            self.held.remove(i);
            // A lost connection released it already; nothing to report.
            if let Some(client) = self.client.as_mut() {
                let _ = client.query_one("SELECT pg_advisory_unlock($1)", &[&key]);
            }
        }
    }
}

fn open(params: &ConnParams) -> Result<postgres::Client, BackendError> {
    match params.tls {
        Tls::Disable => params
            .config
            .connect(postgres::NoTls)
            .map_err(connect_error),
        mode => {
            let tls = tls::PgTls::new(mode, params.root_cert.as_deref())
                .map_err(|e| BackendError::new(format!("conn_str: {e}")))?;
            params.config.connect(tls).map_err(connect_error)
        }
    }
}

/// Whether an I/O error (a dropped or refused connection, a timeout) is
/// behind `e`. A TLS failure is I/O too, but of kind `InvalidData`, and
/// retrying it cannot help.
fn is_io(e: &postgres::Error) -> bool {
    use std::io::ErrorKind;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return !matches!(io.kind(), ErrorKind::InvalidData | ErrorKind::InvalidInput);
        }
        source = s.source();
    }
    false
}

/// SQLSTATEs worth retrying: the server is going away, starting, full, or
/// the transaction lost a race.
fn transient_state(code: &SqlState) -> bool {
    code.code().starts_with("08")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ]
        .contains(code)
}

/// A driver error as a backend error: database errors read as lib/pq
/// prints them (`pq: MESSAGE`); broken connections are transient.
fn pg_error(e: postgres::Error) -> BackendError {
    if let Some(db) = e.as_db_error() {
        let message = format!("pq: {}", db.message());
        return if transient_state(db.code()) {
            BackendError::transient(message)
        } else {
            BackendError::new(message)
        };
    }
    if e.is_closed() || is_io(&e) {
        return BackendError::transient(format!("connection to PostgreSQL lost: {}", detail(&e)));
    }
    BackendError::new(detail(&e))
}

fn connect_error(e: postgres::Error) -> BackendError {
    if e.as_db_error().is_some() {
        return pg_error(e);
    }
    let detail = detail(&e);
    if detail.contains("server does not support TLS") {
        // lib/pq's words, which Terraform prints.
        return BackendError::new(
            "pq: SSL is not enabled on the server (add sslmode=disable to conn_str \
             to connect without TLS)",
        );
    }
    let message = format!("cannot connect to PostgreSQL: {detail}");
    if is_io(&e) || e.is_closed() || message.contains("timeout") {
        BackendError::transient(message)
    } else {
        BackendError::new(message)
    }
}

/// The error with its causes (the driver's top-level text alone is often
/// just "error connecting to server").
fn detail(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn lock_session(session: &Mutex<Session>) -> MutexGuard<'_, Session> {
    // A panic while holding it cannot leave the session half-updated in a
    // way that matters more than refusing all further work would.
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// A configured pg backend.
pub struct PgBackend {
    session: Arc<Mutex<Session>>,
    schema_name: String,
    table: String,
}

impl PgBackend {
    /// Connects and creates the schema, sequence, table and index unless
    /// skipped, as Terraform does when it configures the backend.
    pub fn connect(settings: &PgSettings) -> Result<PgBackend, BackendError> {
        let params = connstr::parse(&settings.conn_str, &env_var)
            .map_err(|e| BackendError::new(format!("conn_str: {e}")))?;
        let session = Session {
            params,
            client: None,
            held: Vec::new(),
        };
        let backend = PgBackend {
            session: Arc::new(Mutex::new(session)),
            schema_name: settings.schema_name.clone(),
            table: format!("{}.states", quote_ident(&settings.schema_name)),
        };
        // Two processes creating the same objects at once can collide
        // (PostgreSQL's IF NOT EXISTS is not race-free); the loser's
        // retry finds them made (one race per object at most: schema,
        // sequence, table, index).
        let mut attempt = 0;
        loop {
            attempt += 1;
            match backend.create_objects(settings) {
                Err(e) if attempt < 5 && is_creation_race(&e) => continue,
                other => return other.map(|()| backend),
            }
        }
    }

    fn create_objects(&self, settings: &PgSettings) -> Result<(), BackendError> {
        let mut session = lock_session(&self.session);
        if !settings.skip_schema_creation {
            let count: i64 = session.run(|c| {
                c.query_one(
                    "SELECT count(1) FROM information_schema.schemata WHERE schema_name = $1",
                    &[&self.schema_name],
                )
                .map(|row| row.get(0))
            })?;
            if count < 1 {
                let sql = format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    quote_ident(&self.schema_name)
                );
                session.run(|c| c.batch_execute(&sql))?;
            }
        }
        if !settings.skip_table_creation {
            session.run(|c| {
                c.batch_execute(
                    "CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint",
                )
            })?;
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} (\n\
                 id bigint NOT NULL DEFAULT nextval('public.global_states_id_seq') PRIMARY KEY,\n\
                 name text UNIQUE,\n\
                 data text\n\
                 )",
                self.table
            );
            session.run(|c| c.batch_execute(&sql))?;
        }
        if !settings.skip_index_creation {
            let sql = format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON {} (name)",
                self.table
            );
            session.run(|c| c.batch_execute(&sql))?;
        }
        Ok(())
    }

    /// The client of one workspace's state row.
    pub fn client(&self, workspace: &str) -> PgClient {
        PgClient {
            session: Arc::clone(&self.session),
            table: self.table.clone(),
            name: workspace.to_string(),
            lock: None,
        }
    }

    /// Where a workspace's state is, for messages.
    pub fn location(&self, workspace: &str) -> String {
        format!("pg:{}/{}", self.schema_name, workspace)
    }
}

fn is_creation_race(e: &BackendError) -> bool {
    // unique_violation (pg_type/pg_namespace rows), duplicate_table,
    // duplicate_schema, duplicate_object: all read "already exists".
    e.message.contains("already exists") || e.message.contains("duplicate key value")
}

impl Backend for PgBackend {
    fn workspaces(&mut self) -> Result<Vec<String>, BackendError> {
        let sql = format!(
            "SELECT name FROM {} WHERE name != 'default' ORDER BY name",
            self.table
        );
        let mut names = vec!["default".to_string()];
        let rows = lock_session(&self.session).run(|c| c.query(&sql, &[]))?;
        for row in rows {
            let name: Option<String> = row.get(0);
            names.extend(name);
        }
        Ok(names)
    }

    fn delete_workspace(&mut self, name: &str) -> Result<(), BackendError> {
        if name == "default" || name.is_empty() {
            return Err(BackendError::new("can't delete default state"));
        }
        self.client(name).delete()
    }

    fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError> {
        let mut mgr = RemoteState::new(Box::new(self.client(workspace)), self.location(workspace));
        // A new workspace gets an empty state under the lock, as
        // Terraform's pg backend does: the row is what makes it exist.
        if workspace != "default" && !self.workspaces()?.iter().any(|w| w == workspace) {
            let id = mgr
                .lock("init", "")
                .map_err(|e| BackendError::new(format!("failed to lock state in pg: {e}")))?;
            let created = match mgr.refresh() {
                Ok(Some(_)) => Ok(()),
                Ok(None) => mgr.write(&State::default()).map(|_| ()),
                Err(e) => Err(e),
            };
            let unlocked = mgr.unlock(&id);
            created.map_err(|e| BackendError::new(e.to_string()))?;
            unlocked.map_err(|e| BackendError::new(e.to_string()))?;
        }
        Ok(Box::new(mgr))
    }
}

/// The lock a client holds: the ID it returned and the advisory key.
struct HeldLock {
    id: String,
    key: i64,
}

/// One workspace's row.
pub struct PgClient {
    session: Arc<Mutex<Session>>,
    table: String,
    name: String,
    lock: Option<HeldLock>,
}

impl PgClient {
    fn lock_failure(&self, e: BackendError) -> LockError {
        LockError::Failed(e.message)
    }
}

impl RemoteClient for PgClient {
    fn get(&mut self) -> Result<Option<Vec<u8>>, BackendError> {
        let sql = format!("SELECT data FROM {} WHERE name = $1", self.table);
        let row = lock_session(&self.session).run(|c| c.query_opt(&sql, &[&self.name]))?;
        Ok(row
            .and_then(|r| r.get::<_, Option<String>>(0))
            .map(String::into_bytes))
    }

    fn put(&mut self, data: &[u8]) -> Result<(), BackendError> {
        let text = std::str::from_utf8(data)
            .map_err(|_| BackendError::new("the state to store is not valid UTF-8"))?;
        // One statement: readers see the old row or the new one.
        let sql = format!(
            "INSERT INTO {} (name, data) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET data = $2 WHERE states.name = $1",
            self.table
        );
        lock_session(&self.session).run(|c| c.execute(&sql, &[&self.name, &text]))?;
        Ok(())
    }

    fn delete(&mut self) -> Result<(), BackendError> {
        let sql = format!("DELETE FROM {} WHERE name = $1", self.table);
        lock_session(&self.session).run(|c| c.execute(&sql, &[&self.name]))?;
        Ok(())
    }

    fn lock(&mut self, info: &LockInfo) -> Result<String, LockError> {
        if let Some(held) = &self.lock {
            return Ok(held.id.clone());
        }
        // Terraform shows the requester's own lock info (its Path not yet
        // set) under the message: pg keeps no record of the holder.
        let busy = |message: String| {
            let mut shown = info.clone();
            shown.path = String::new();
            LockError::Busy {
                message,
                info: Some(Box::new(shown)),
            }
        };
        let sql = format!(
            "SELECT states.id, pg_try_advisory_lock(states.id), pg_try_advisory_lock({CREATION_LOCK_KEY}) \
             FROM {} WHERE states.name = $1",
            self.table
        );
        let mut session = lock_session(&self.session);
        let row = session
            .run(|c| c.query_opt(&sql, &[&self.name]))
            .map_err(|e| self.lock_failure(e))?;
        let key = match row {
            None => {
                let taken: bool = session
                    .run(|c| {
                        c.query_one("SELECT pg_try_advisory_lock($1)", &[&CREATION_LOCK_KEY])
                            .map(|r| r.get(0))
                    })
                    .map_err(|e| self.lock_failure(e))?;
                if !taken {
                    return Err(busy(format!(
                        "Already locked for workspace creation: {}",
                        self.name
                    )));
                }
                session.held.push(CREATION_LOCK_KEY);
                CREATION_LOCK_KEY
            }
            Some(row) => {
                let id: i64 = row.get(0);
                let got_row: bool = row.get(1);
                let got_creation: bool = row.get(2);
                // Record what was taken so `release` gives it back.
                if got_row {
                    session.held.push(id);
                }
                if got_creation {
                    session.held.push(CREATION_LOCK_KEY);
                }
                if !got_row {
                    if got_creation {
                        session.release(CREATION_LOCK_KEY);
                    }
                    return Err(busy(format!("Workspace is already locked: {}", self.name)));
                }
                if !got_creation {
                    session.release(id);
                    return Err(busy(format!(
                        "Cannot lock workspace; already locked for workspace creation: {}",
                        self.name
                    )));
                }
                session.release(CREATION_LOCK_KEY);
                id
            }
        };
        self.lock = Some(HeldLock {
            id: info.id.clone(),
            key,
        });
        Ok(info.id.clone())
    }

    fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        // Terraform's pg backend keeps no lock record: unlocking a lock
        // this process does not hold (force-unlock) does nothing.
        let Some(held) = &self.lock else {
            return Ok(());
        };
        if held.id != id {
            return Err(LockError::IdMismatch {
                given: id.to_string(),
                existing: held.id.clone(),
            });
        }
        let key = held.key;
        self.lock = None;
        lock_session(&self.session).release(key);
        Ok(())
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        if let Some(held) = self.lock.take() {
            lock_session(&self.session).release(held.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> BackendConfig {
        serde_json::from_str(json).unwrap_or_default()
    }

    #[test]
    fn settings_defaults_and_environment() {
        let no_env = |_: &str| None;
        let err = PgSettings::from_config(&config("{}"), &no_env).expect_err("conn_str");
        assert_eq!(err.message, "\"conn_str\": required field is not set");
        let s = PgSettings::from_config(&config(r#"{"conn_str":"x"}"#), &no_env).expect("ok");
        assert_eq!(s.schema_name, "terraform_remote_state");
        assert!(!s.skip_schema_creation && !s.skip_table_creation && !s.skip_index_creation);
        let env = |k: &str| match k {
            "PG_CONN_STR" => Some("from-env".to_string()),
            "PG_SCHEMA_NAME" => Some("envschema".to_string()),
            "PG_SKIP_TABLE_CREATION" => Some("true".to_string()),
            _ => None,
        };
        let s =
            PgSettings::from_config(&config(r#"{"skip_table_creation":false}"#), &env).expect("ok");
        assert_eq!(s.conn_str, "from-env");
        assert_eq!(s.schema_name, "envschema");
        assert!(
            !s.skip_table_creation,
            "the configuration wins over the environment"
        );
        let bad = |k: &str| (k == "PG_SKIP_INDEX_CREATION").then(|| "maybe".to_string());
        assert!(PgSettings::from_config(&config(r#"{"conn_str":"x"}"#), &bad).is_err());
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
