//! An append-only journal of instance and output changes, for crash-safe
//! applies without rewriting the whole state after every resource.
//!
//! # File
//!
//! `.<state file name>.journal` beside the state file written to (for
//! `terraform.tfstate`: `.terraform.tfstate.journal`). Terraform does not
//! know it; a state without a journal is an ordinary Terraform state.
//!
//! Layout: the magic `terrane-journal-1\n`, then records, each
//! `[payload length: u32 LE][CRC-32 (IEEE) of payload: u32 LE][payload]`.
//! The first record is the header (`H` + `{"lineage":…,"serial":…}`): the
//! state snapshot the changes apply to. Every other payload is a tag byte
//! (`S` set instance, `R` remove instance, `O` set output, `P` remove
//! output) followed by a format-4 state document holding just the object
//! concerned (so the state codec is the journal's codec too).
//!
//! # Recovery
//!
//! [`Journal::open`] reads every complete record. A record that is cut off
//! (length beyond the end of the file) or fails its checksum ends the
//! journal: it and anything after it are dropped and the file is truncated
//! there, since an append that was torn by a crash was never acknowledged.
//!
//! # Folding
//!
//! [`Journal::fold`] applies the changes to the state, writes it with
//! [`StateMgr::write`](crate::backend::StateMgr::write) (atomically; the serial increments), then removes
//! the journal. A crash between the two leaves a journal whose base serial
//! is older than the state: it is recognised as already folded and
//! discarded. Changes are idempotent (set/remove), so replaying a journal
//! whose fold wrote nothing new is harmless.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::json::{self, Kind};
use crate::local::StateWriteError;
use crate::model::{IndexKey, Instance, Mode, OutputValue, Resource, State, StateFile};
use crate::read::{read, ReadOptions};
use crate::write::serialize;
use crate::RawJson;

const MAGIC: &[u8] = b"terrane-journal-1\n";

/// Identifies a resource within the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceAddr {
    /// Module instance address (empty for the root module).
    pub module: String,
    /// Managed or data.
    pub mode: Mode,
    /// Resource type.
    pub type_: String,
    /// Resource name.
    pub name: String,
}

impl ResourceAddr {
    fn matches(&self, r: &Resource) -> bool {
        r.module == self.module
            && r.mode == self.mode
            && r.type_ == self.type_
            && r.name == self.name
    }
}

/// One change to the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Creates or replaces one object (current or deposed, by the
    /// instance's `index_key` and `deposed`) of a resource.
    SetInstance {
        /// The resource.
        resource: ResourceAddr,
        /// Its provider configuration address.
        provider: String,
        /// The object.
        instance: Instance,
    },
    /// Removes one object; the resource goes when it has none left.
    RemoveInstance {
        /// The resource.
        resource: ResourceAddr,
        /// The instance key.
        index_key: Option<IndexKey>,
        /// The deposed key, or `None` for the current object.
        deposed: Option<String>,
    },
    /// Sets a root output.
    SetOutput {
        /// Output name.
        name: String,
        /// The value.
        value: OutputValue,
    },
    /// Removes a root output.
    RemoveOutput {
        /// Output name.
        name: String,
    },
}

type ResourceKey = (String, Mode, String, String);
type ObjectKey = (Option<IndexKey>, Option<String>);

/// Applies changes in order, in time linear in the size of the state plus
/// the number of changes. Equivalent to [`apply_change`] on each (up to the
/// order of resources and instances, which the writer sorts anyway).
pub fn apply_changes(state: &mut State, changes: &[Change]) {
    struct Entry {
        resource: Resource,
        objects: HashMap<ObjectKey, Instance>,
        removed_from: bool,
    }
    let mut order: Vec<ResourceKey> = Vec::new();
    let mut map: HashMap<ResourceKey, Entry> = HashMap::new();
    for mut r in std::mem::take(&mut state.resources) {
        let key = (r.module.clone(), r.mode, r.type_.clone(), r.name.clone());
        let instances = std::mem::take(&mut r.instances);
        let entry = map.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Entry {
                resource: r,
                objects: HashMap::new(),
                removed_from: false,
            }
        });
        for i in instances {
            entry
                .objects
                .insert((i.index_key.clone(), i.deposed.clone()), i);
        }
    }
    let rkey = |a: &ResourceAddr| (a.module.clone(), a.mode, a.type_.clone(), a.name.clone());
    for change in changes {
        match change {
            Change::SetInstance {
                resource,
                provider,
                instance,
            } => {
                let key = rkey(resource);
                let entry = map.entry(key.clone()).or_insert_with(|| {
                    order.push(key);
                    Entry {
                        resource: Resource {
                            module: resource.module.clone(),
                            mode: resource.mode,
                            type_: resource.type_.clone(),
                            name: resource.name.clone(),
                            each: None,
                            provider: provider.clone(),
                            instances: Vec::new(),
                        },
                        objects: HashMap::new(),
                        removed_from: false,
                    }
                });
                entry.resource.provider = provider.clone();
                entry.objects.insert(
                    (instance.index_key.clone(), instance.deposed.clone()),
                    instance.clone(),
                );
            }
            Change::RemoveInstance {
                resource,
                index_key,
                deposed,
            } => {
                if let Some(entry) = map.get_mut(&rkey(resource)) {
                    entry.objects.remove(&(index_key.clone(), deposed.clone()));
                    entry.removed_from = true;
                }
            }
            Change::SetOutput { name, value } => {
                state.outputs.insert(name.clone(), value.clone());
            }
            Change::RemoveOutput { name } => {
                state.outputs.remove(name);
            }
        }
    }
    for key in order {
        let Some(mut entry) = map.remove(&key) else {
            continue;
        };
        if entry.objects.is_empty() && entry.removed_from {
            continue;
        }
        let mut instances: Vec<Instance> = entry.objects.into_values().collect();
        instances.sort_by(crate::write::instance_cmp);
        entry.resource.instances = instances;
        state.resources.push(entry.resource);
    }
}

/// Applies one change to a state.
pub fn apply_change(state: &mut State, change: &Change) {
    match change {
        Change::SetInstance {
            resource,
            provider,
            instance,
        } => {
            let idx = match state.resources.iter().position(|r| resource.matches(r)) {
                Some(i) => i,
                None => {
                    state.resources.push(Resource {
                        module: resource.module.clone(),
                        mode: resource.mode,
                        type_: resource.type_.clone(),
                        name: resource.name.clone(),
                        each: None,
                        provider: provider.clone(),
                        instances: Vec::new(),
                    });
                    state.resources.len() - 1
                }
            };
            let r = &mut state.resources[idx];
            r.provider = provider.clone();
            match r
                .instances
                .iter_mut()
                .find(|i| i.index_key == instance.index_key && i.deposed == instance.deposed)
            {
                Some(slot) => *slot = instance.clone(),
                None => r.instances.push(instance.clone()),
            }
        }
        Change::RemoveInstance {
            resource,
            index_key,
            deposed,
        } => {
            if let Some(idx) = state.resources.iter().position(|r| resource.matches(r)) {
                let r = &mut state.resources[idx];
                r.instances
                    .retain(|i| !(&i.index_key == index_key && &i.deposed == deposed));
                if r.instances.is_empty() {
                    state.resources.remove(idx);
                }
            }
        }
        Change::SetOutput { name, value } => {
            state.outputs.insert(name.clone(), value.clone());
        }
        Change::RemoveOutput { name } => {
            state.outputs.remove(name);
        }
    }
}

/// Journal failures.
#[derive(Debug)]
pub enum JournalError {
    /// A file system error.
    Io {
        /// The journal path.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The file is not a journal, or a checksummed record cannot be decoded.
    Corrupt {
        /// The journal path.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// [`Journal::append`] before [`Journal::start`].
    NotStarted,
    /// Writing the folded state failed.
    Write(Box<StateWriteError>),
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            JournalError::Corrupt { path, detail } => {
                write!(f, "{}: invalid state journal: {detail}", path.display())
            }
            JournalError::NotStarted => write!(f, "the state journal has no base state"),
            JournalError::Write(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for JournalError {}

/// What [`Journal::fold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldOutcome {
    /// The journal held no base or no changes; nothing was written.
    Empty,
    /// This many changes were applied and the state written.
    Applied(usize),
    /// The journal was for an older snapshot (already folded): discarded.
    Stale,
}

/// Records read from a journal file: the header's base, the complete
/// changes after it, where the last complete record ends and the file
/// length.
type Records = (Option<(String, u64)>, Vec<Change>, usize, usize);

/// Reads every complete record of the journal `file` from its start.
fn read_records(file: &mut File, path: &Path) -> Result<Records, JournalError> {
    let ioe = |error| JournalError::Io {
        path: path.to_path_buf(),
        error,
    };
    file.seek(SeekFrom::Start(0)).map_err(ioe)?;
    let mut data = Vec::new();
    file.read_to_end(&mut data).map_err(ioe)?;
    let corrupt = |detail: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };

    let mut base = None;
    let mut changes = Vec::new();
    let good_end;
    if data.len() < MAGIC.len() {
        if !MAGIC.starts_with(&data) {
            return Err(corrupt("not a terrane state journal".into()));
        }
        good_end = 0;
    } else if &data[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not a terrane state journal".into()));
    } else {
        let mut pos = MAGIC.len();
        let mut end = pos;
        while let Some((payload, next)) = next_record(&data, pos) {
            if base.is_none() {
                base = Some(
                    decode_header(payload)
                        .ok_or_else(|| corrupt("invalid header record".into()))?,
                );
            } else {
                changes.push(
                    decode_change(payload)
                        .map_err(|d| corrupt(format!("record at byte {pos}: {d}")))?,
                );
            }
            pos = next;
            end = next;
        }
        good_end = end;
    }
    Ok((base, changes, good_end, data.len()))
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    base: Option<(String, u64)>,
    /// The changes recovered by [`Journal::open`].
    changes: Vec<Change>,
    /// Changes appended since the journal was opened or started. They are
    /// only on disk: an apply over tens of thousands of instances would
    /// otherwise hold every new object twice (here and in the engine's
    /// state); [`Journal::fold`] reads them back.
    appended: usize,
}

impl Journal {
    /// The journal path for a state file.
    pub fn path_for(state_path: &Path) -> PathBuf {
        let name = state_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        state_path.with_file_name(format!(".{name}.journal"))
    }

    /// Opens (creating if missing) the journal beside `state_path` and
    /// recovers its complete records, truncating a torn tail.
    pub fn open(state_path: &Path) -> Result<Journal, JournalError> {
        let path = Journal::path_for(state_path);
        let ioe = |error| JournalError::Io {
            path: path.clone(),
            error,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(ioe)?;
        let (base, changes, good_end, len) = read_records(&mut file, &path)?;
        if good_end != len {
            // Drop the torn tail (or a bare partial magic) so appends
            // continue after the last complete record.
            let keep = if base.is_none() { 0 } else { good_end };
            file.set_len(keep as u64).map_err(ioe)?;
            file.sync_all().map_err(ioe)?;
        }
        file.seek(SeekFrom::End(0)).map_err(ioe)?;
        Ok(Journal {
            path,
            file,
            base,
            changes,
            appended: 0,
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The snapshot (lineage, serial) the changes apply to; `None` if the
    /// journal is empty. A brand-new state is lineage `""`, serial 0.
    pub fn base(&self) -> Option<(&str, u64)> {
        self.base.as_ref().map(|(l, s)| (l.as_str(), *s))
    }

    /// The changes recovered when the journal was opened, in order
    /// (changes appended since are on disk only; see [`Journal::fold`]).
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Starts a fresh journal for changes on top of `base` (`None` for no
    /// state yet), discarding what it held.
    pub fn start(&mut self, base: Option<&StateFile>) -> Result<(), JournalError> {
        let (lineage, serial) = base
            .map(|b| (b.lineage.clone(), b.serial))
            .unwrap_or_default();
        let mut header = b"H".to_vec();
        header.extend_from_slice(
            format!(
                "{{\"lineage\":{},\"serial\":{serial}}}",
                json::quote(&lineage)
            )
            .as_bytes(),
        );
        let mut buf = MAGIC.to_vec();
        frame(&mut buf, &header);
        let ioe = |error| JournalError::Io {
            path: self.path.clone(),
            error,
        };
        self.file.set_len(0).map_err(ioe)?;
        self.file.seek(SeekFrom::Start(0)).map_err(ioe)?;
        self.file.write_all(&buf).map_err(ioe)?;
        self.file.sync_all().map_err(ioe)?;
        sync_dir(&self.path).map_err(ioe)?;
        self.base = Some((lineage, serial));
        self.changes.clear();
        self.appended = 0;
        Ok(())
    }

    /// Appends one change durably (written and fsynced before returning).
    pub fn append(&mut self, change: &Change) -> Result<(), JournalError> {
        self.append_all(std::slice::from_ref(change))
    }

    /// Appends several changes with one fsync (group commit).
    pub fn append_all(&mut self, changes: &[Change]) -> Result<(), JournalError> {
        self.append_all_unsynced(changes)?;
        self.sync()
    }

    /// Appends changes with one `write` and no fsync: once this returns
    /// they survive the process being killed (they are in the kernel), but
    /// not a power loss until the next [`Journal::sync`].
    pub fn append_all_unsynced(&mut self, changes: &[Change]) -> Result<(), JournalError> {
        if self.base.is_none() {
            return Err(JournalError::NotStarted);
        }
        let mut buf = Vec::new();
        for c in changes {
            frame(&mut buf, &encode_change(c));
        }
        let ioe = |error| JournalError::Io {
            path: self.path.clone(),
            error,
        };
        self.file.write_all(&buf).map_err(ioe)?;
        self.appended += changes.len();
        Ok(())
    }

    /// Makes every appended change durable (fsync).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(|error| JournalError::Io {
            path: self.path.clone(),
            error,
        })
    }

    /// Applies the journal (recovered and appended changes) to the state
    /// held by `local` (which must have been refreshed), writes it, and
    /// empties the journal.
    pub fn fold(
        &mut self,
        local: &mut dyn crate::backend::StateMgr,
    ) -> Result<FoldOutcome, JournalError> {
        if self.appended > 0 {
            // Appended changes are not kept in memory: read them back.
            let (_, changes, _, _) = read_records(&mut self.file, &self.path)?;
            let ioe = |error| JournalError::Io {
                path: self.path.clone(),
                error,
            };
            self.file.seek(SeekFrom::End(0)).map_err(ioe)?;
            self.changes = changes;
            self.appended = 0;
        }
        let Some((lineage, serial)) = self.base.clone() else {
            return Ok(FoldOutcome::Empty);
        };
        let current = local
            .state()
            .map(|s| (s.lineage.clone(), s.serial))
            .unwrap_or_default();
        if current != (lineage, serial) {
            self.clear()?;
            return Ok(FoldOutcome::Stale);
        }
        if self.changes.is_empty() {
            self.clear()?;
            return Ok(FoldOutcome::Empty);
        }
        let mut state = local.state().map(|s| s.state.clone()).unwrap_or_default();
        apply_changes(&mut state, &self.changes);
        local
            .write(&state)
            .map_err(|e| JournalError::Write(Box::new(e)))?;
        let n = self.changes.len();
        self.clear()?;
        Ok(FoldOutcome::Applied(n))
    }

    /// Empties the journal file.
    fn clear(&mut self) -> Result<(), JournalError> {
        let ioe = |error| JournalError::Io {
            path: self.path.clone(),
            error,
        };
        self.file.set_len(0).map_err(ioe)?;
        self.file.seek(SeekFrom::Start(0)).map_err(ioe)?;
        self.file.sync_all().map_err(ioe)?;
        self.base = None;
        self.changes.clear();
        self.appended = 0;
        Ok(())
    }

    /// Closes and deletes the journal file.
    pub fn remove(self) -> Result<(), JournalError> {
        let Journal { path, file, .. } = self;
        drop(file);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(JournalError::Io { path, error }),
        }
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

fn frame(buf: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc32(payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

/// The complete, checksum-valid record at `pos`, and where the next starts.
fn next_record(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let head = data.get(pos..pos + 8)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let end = (pos + 8).checked_add(len)?;
    let payload = data.get(pos + 8..end)?;
    (crc32(payload) == crc).then_some((payload, end))
}

fn decode_header(payload: &[u8]) -> Option<(String, u64)> {
    let rest = payload.strip_prefix(b"H")?;
    let node = json::parse(rest).ok()?;
    let lineage = match &node.member("lineage")?.kind {
        Kind::String(s) => s.clone(),
        _ => return None,
    };
    let serial = match &node.member("serial")?.kind {
        Kind::Number(n) => n.parse().ok()?,
        _ => return None,
    };
    Some((lineage, serial))
}

fn doc(state: State) -> Vec<u8> {
    serialize(&StateFile {
        terraform_version: String::new(),
        serial: 0,
        lineage: String::new(),
        state,
    })
    .into_bytes()
}

fn encode_change(c: &Change) -> Vec<u8> {
    let one = |resource: &ResourceAddr, provider: &str, instance: Instance| State {
        resources: vec![Resource {
            module: resource.module.clone(),
            mode: resource.mode,
            type_: resource.type_.clone(),
            name: resource.name.clone(),
            each: None,
            provider: provider.to_string(),
            instances: vec![instance],
        }],
        ..State::default()
    };
    let (tag, state) = match c {
        Change::SetInstance {
            resource,
            provider,
            instance,
        } => (b'S', one(resource, provider, instance.clone())),
        Change::RemoveInstance {
            resource,
            index_key,
            deposed,
        } => (
            b'R',
            one(
                resource,
                "",
                Instance {
                    index_key: index_key.clone(),
                    deposed: deposed.clone(),
                    ..Instance::default()
                },
            ),
        ),
        Change::SetOutput { name, value } => (
            b'O',
            State {
                outputs: BTreeMap::from([(name.clone(), value.clone())]),
                ..State::default()
            },
        ),
        Change::RemoveOutput { name } => (
            b'P',
            State {
                outputs: BTreeMap::from([(
                    name.clone(),
                    OutputValue {
                        value: RawJson::null(),
                        ty: RawJson::from_trusted("\"dynamic\"".into()),
                        sensitive: false,
                    },
                )]),
                ..State::default()
            },
        ),
    };
    let mut out = vec![tag];
    out.extend_from_slice(&doc(state));
    out
}

fn decode_change(payload: &[u8]) -> Result<Change, String> {
    let (&tag, rest) = payload.split_first().ok_or("empty record")?;
    let file = read(rest, &ReadOptions::default())
        .map_err(|e| e.to_string())?
        .ok_or("empty record")?;
    let mut state = file.state;
    let one = |state: &mut State| -> Result<(ResourceAddr, String, Instance), String> {
        let mut r = state.resources.pop().ok_or("record without resource")?;
        let inst = r.instances.pop().ok_or("record without instance")?;
        Ok((
            ResourceAddr {
                module: r.module,
                mode: r.mode,
                type_: r.type_,
                name: r.name,
            },
            r.provider,
            inst,
        ))
    };
    match tag {
        b'S' => {
            let (resource, provider, instance) = one(&mut state)?;
            Ok(Change::SetInstance {
                resource,
                provider,
                instance,
            })
        }
        b'R' => {
            let (resource, _, inst) = one(&mut state)?;
            Ok(Change::RemoveInstance {
                resource,
                index_key: inst.index_key,
                deposed: inst.deposed,
            })
        }
        b'O' => {
            let (name, value) = state.outputs.pop_first().ok_or("record without output")?;
            Ok(Change::SetOutput { name, value })
        }
        b'P' => {
            let (name, _) = state.outputs.pop_first().ok_or("record without output")?;
            Ok(Change::RemoveOutput { name })
        }
        other => Err(format!("unknown record kind {other}")),
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib).
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
