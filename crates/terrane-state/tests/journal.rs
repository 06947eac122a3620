//! The apply journal: durability, torn-tail recovery at every byte offset,
//! folding and crash points around the fold.

use std::fs;
use std::path::{Path, PathBuf};

use terrane_state::{
    apply_change, Change, FoldOutcome, IndexKey, Instance, Journal, JournalError, LocalState,
    LocalStateOptions, Mode, OutputValue, RawJson, ResourceAddr, State, Status,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "terrane-journal-{tag}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn addr(name: &str) -> ResourceAddr {
    ResourceAddr {
        module: String::new(),
        mode: Mode::Managed,
        type_: "null_resource".into(),
        name: name.into(),
    }
}

fn set(name: &str, key: i64, id: &str) -> Change {
    Change::SetInstance {
        resource: addr(name),
        provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
        instance: Instance {
            index_key: Some(IndexKey::Int(key)),
            attributes: Some(
                RawJson::parse(&format!("{{\"id\":\"{id}\",\"n\":1.50e3}}")).expect("json"),
            ),
            private: Some(b"null".to_vec()),
            dependencies: vec!["null_resource.z".into()],
            ..Instance::default()
        },
    }
}

/// A varied sequence of changes (every kind).
fn changes(n: usize) -> Vec<Change> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(match i % 5 {
            0 | 1 => set("a", i as i64, &format!("id-{i}")),
            2 => Change::SetOutput {
                name: format!("o{i}"),
                value: OutputValue {
                    value: RawJson::parse("{\"k\":[1,\"<x>\"]}").expect("json"),
                    ty: RawJson::parse("[\"object\",{\"k\":[\"tuple\",[\"number\",\"string\"]]}]")
                        .expect("json"),
                    sensitive: i % 2 == 0,
                },
            },
            3 => Change::RemoveInstance {
                resource: addr("a"),
                index_key: Some(IndexKey::Int(0)),
                deposed: None,
            },
            _ => Change::SetInstance {
                resource: ResourceAddr {
                    module: "module.m[\"k\"]".into(),
                    ..addr("d")
                },
                provider: "provider[\"registry.terraform.io/hashicorp/null\"].x".into(),
                instance: Instance {
                    index_key: Some(IndexKey::String("é".into())),
                    status: Status::Tainted,
                    deposed: Some("0000abcd".into()),
                    attributes: Some(RawJson::parse("{}").expect("json")),
                    create_before_destroy: true,
                    ..Instance::default()
                },
            },
        });
    }
    v
}

#[test]
fn append_and_recover() {
    let dir = TempDir::new("basic");
    let state = dir.path().join("terraform.tfstate");
    let mut j = Journal::open(&state).expect("open");
    assert_eq!(j.path(), dir.path().join(".terraform.tfstate.journal"));
    assert!(j.base().is_none());
    assert!(matches!(
        j.append(&set("a", 0, "x")),
        Err(JournalError::NotStarted)
    ));
    j.start(None).expect("start");
    let cs = changes(10);
    for c in &cs[..4] {
        j.append(c).expect("append");
    }
    j.append_all(&cs[4..]).expect("group commit");
    drop(j);
    let j = Journal::open(&state).expect("reopen");
    assert_eq!(j.base(), Some(("", 0)));
    assert_eq!(j.changes(), cs.as_slice());
}

#[test]
fn torn_last_record_at_every_offset() {
    let dir = TempDir::new("torn");
    let state = dir.path().join("terraform.tfstate");
    let cs = changes(7);
    let mut j = Journal::open(&state).expect("open");
    j.start(None).expect("start");
    j.append_all(&cs[..6]).expect("append");
    let before_last = fs::metadata(j.path()).expect("meta").len() as usize;
    j.append(&cs[6]).expect("append");
    let full = fs::read(j.path()).expect("journal");
    let jpath = j.path().to_path_buf();
    drop(j);

    for cut in before_last..=full.len() {
        fs::write(&jpath, &full[..cut]).expect("truncate");
        let mut j = Journal::open(&state).expect("recover");
        let expected = if cut == full.len() { &cs[..] } else { &cs[..6] };
        assert_eq!(j.changes(), expected, "cut at byte {cut}");
        // The torn tail is dropped: appending continues cleanly.
        assert_eq!(
            fs::metadata(&jpath).expect("meta").len() as usize,
            if cut == full.len() {
                full.len()
            } else {
                before_last
            }
        );
        j.append(&cs[0]).expect("append after recovery");
        drop(j);
        let j = Journal::open(&state).expect("reopen");
        assert_eq!(j.changes().len(), expected.len() + 1, "cut at byte {cut}");
    }
}

#[test]
fn torn_header_and_corruption() {
    let dir = TempDir::new("corrupt");
    let state = dir.path().join("terraform.tfstate");
    let cs = changes(3);
    let mut j = Journal::open(&state).expect("open");
    j.start(None).expect("start");
    let header_end = fs::metadata(j.path()).expect("meta").len() as usize;
    j.append_all(&cs).expect("append");
    let full = fs::read(j.path()).expect("journal");
    let jpath = j.path().to_path_buf();
    drop(j);

    // Torn while writing the magic or the header: an empty journal.
    for cut in 0..header_end {
        fs::write(&jpath, &full[..cut]).expect("truncate");
        let j = Journal::open(&state).expect("recover");
        assert!(j.base().is_none(), "cut at {cut}");
        assert!(j.changes().is_empty());
    }

    // A flipped byte in the second record: only the first survives.
    let mut bad = full.clone();
    let second = header_end
        + 8
        + u32::from_le_bytes([
            full[header_end],
            full[header_end + 1],
            full[header_end + 2],
            full[header_end + 3],
        ]) as usize;
    bad[second + 20] ^= 0x55;
    fs::write(&jpath, &bad).expect("write");
    let j = Journal::open(&state).expect("recover");
    assert_eq!(j.changes(), &cs[..1]);
    drop(j);

    // Not a journal at all.
    fs::write(&jpath, b"hello, this is not a journal").expect("write");
    assert!(matches!(
        Journal::open(&state),
        Err(JournalError::Corrupt { .. })
    ));
}

#[test]
fn fold_writes_the_state_once_and_survives_crashes() {
    let dir = TempDir::new("fold");
    let path = dir.path().join("terraform.tfstate");
    let mut local = LocalState::new(LocalStateOptions::new(&path));
    local.refresh().expect("refresh");

    let cs = changes(10);
    let mut j = Journal::open(&path).expect("open");
    j.start(local.state()).expect("start");
    j.append_all(&cs).expect("append");
    let journal_bytes = fs::read(j.path()).expect("journal");
    assert!(!path.exists(), "appending does not write the state");

    assert_eq!(j.fold(&mut local).expect("fold"), FoldOutcome::Applied(10));
    let mut expected = State::default();
    for c in &cs {
        apply_change(&mut expected, c);
    }
    let written = local.state().expect("state").clone();
    assert_eq!(written.serial, 1);
    assert!(terrane_state::content_equal(&written.state, &expected));
    assert!(j.base().is_none() && j.changes().is_empty());
    assert_eq!(fs::metadata(j.path()).expect("meta").len(), 0);

    // Crash after the state was written but before the journal was
    // emptied: on recovery the journal is seen to be stale.
    fs::write(j.path(), &journal_bytes).expect("restore journal");
    drop(j);
    let mut local = LocalState::new(LocalStateOptions::new(&path));
    local.refresh().expect("refresh");
    let mut j = Journal::open(&path).expect("open");
    assert_eq!(j.changes().len(), 10);
    assert_eq!(j.fold(&mut local).expect("fold"), FoldOutcome::Stale);
    assert_eq!(local.state().expect("state").serial, 1);

    // A second round on top of serial 1.
    j.start(local.state()).expect("start");
    j.append(&Change::RemoveOutput { name: "o2".into() })
        .expect("append");
    drop(j);
    let mut j = Journal::open(&path).expect("recover");
    assert_eq!(j.base().map(|(_, s)| s), Some(1));
    assert_eq!(j.fold(&mut local).expect("fold"), FoldOutcome::Applied(1));
    let st = local.state().expect("state");
    assert_eq!(st.serial, 2);
    assert!(!st.state.outputs.contains_key("o2"));
    j.remove().expect("remove");
    assert!(!dir.path().join(".terraform.tfstate.journal").exists());
}

#[test]
fn remove_instance_drops_empty_resources() {
    let mut st = State::default();
    apply_change(&mut st, &set("a", 0, "x"));
    apply_change(&mut st, &set("a", 0, "y"));
    assert_eq!(st.resources.len(), 1);
    assert_eq!(st.resources[0].instances.len(), 1);
    apply_change(
        &mut st,
        &Change::RemoveInstance {
            resource: addr("a"),
            index_key: Some(IndexKey::Int(0)),
            deposed: None,
        },
    );
    assert!(st.resources.is_empty());
}

#[test]
fn batch_apply_equals_one_by_one() {
    let cs = changes(40);
    let mut one = State::default();
    for c in &cs {
        apply_change(&mut one, c);
    }
    let mut batch = State::default();
    terrane_state::apply_changes(&mut batch, &cs);
    assert!(terrane_state::content_equal(&one, &batch));
    // And on top of a non-empty state.
    let mut one2 = one.clone();
    let mut batch2 = one.clone();
    let more: Vec<Change> = changes(23).into_iter().rev().collect();
    for c in &more {
        apply_change(&mut one2, c);
    }
    terrane_state::apply_changes(&mut batch2, &more);
    assert!(terrane_state::content_equal(&one2, &batch2));
}

/// 20,000 instances: journal, fold, read back; nothing quadratic.
#[test]
fn large_state_is_linear() {
    let dir = TempDir::new("large");
    let path = dir.path().join("terraform.tfstate");
    let mut local = LocalState::new(LocalStateOptions::new(&path));
    local.refresh().expect("refresh");
    let cs: Vec<Change> = (0..20_000)
        .map(|i| set("big", i, &format!("id-{i}")))
        .collect();
    let start = std::time::Instant::now();
    let mut j = Journal::open(&path).expect("open");
    j.start(local.state()).expect("start");
    j.append_all(&cs).expect("append");
    drop(j);
    let mut j = Journal::open(&path).expect("recover");
    assert_eq!(j.changes().len(), 20_000);
    assert_eq!(
        j.fold(&mut local).expect("fold"),
        FoldOutcome::Applied(20_000)
    );
    let bytes = fs::read(&path).expect("state");
    let file = terrane_state::read(&bytes, &terrane_state::ReadOptions::default())
        .expect("valid")
        .expect("not empty");
    assert_eq!(file.state.resources[0].instances.len(), 20_000);
    assert_eq!(terrane_state::serialize(&file).as_bytes(), bytes.as_slice());
    let took = start.elapsed();
    assert!(took.as_secs() < 60, "took {took:?}");
    eprintln!("20k instances: journal + fold + read + serialize in {took:?}");
}
