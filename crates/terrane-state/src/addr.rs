//! Addresses in state (`module.a["x"].null_resource.b[0]`) and the edits
//! the `state` commands make with them: listing, removing and moving
//! modules, resources and instances.
//!
//! The rules follow Terraform 1.0.3's `state list`, `state rm` and
//! `state mv` as observed: a module address covers the module instance
//! and its descendants; a resource address without a key covers all of
//! its instances; a resource left without instances disappears.

use std::fmt;

use crate::model::{IndexKey, Instance, Mode, Resource, State};

/// One `module.NAME[KEY]` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleStep {
    /// The module call's name.
    pub name: String,
    /// The instance key, if the call uses `count` or `for_each`.
    pub key: Option<IndexKey>,
}

/// A module instance path; empty for the root module.
pub type ModulePath = Vec<ModuleStep>;

/// A parsed address: a module instance, a resource, or one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateAddr {
    /// The module instance.
    pub module: ModulePath,
    /// The resource part, if any.
    pub resource: Option<ResourcePart>,
}

/// The resource part of a [`StateAddr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePart {
    /// Managed or data.
    pub mode: Mode,
    /// Resource type.
    pub type_: String,
    /// Resource name.
    pub name: String,
    /// `Some(None)` is impossible; `None`: the whole resource; `Some(k)`:
    /// the instance with key `k`.
    pub key: Option<IndexKey>,
}

/// Why an address could not be parsed: Terraform's summary and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    /// e.g. `Invalid address`.
    pub summary: String,
    /// The explanation.
    pub detail: String,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.summary, self.detail)
    }
}

fn addr_err(summary: &str, detail: &str) -> AddrError {
    AddrError {
        summary: summary.to_string(),
        detail: detail.to_string(),
    }
}

enum Token {
    Name(String),
    Key(IndexKey),
}

fn tokens(src: &str) -> Result<Vec<Token>, AddrError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut expect_name = true;
    while i < b.len() {
        match b[i] {
            b'.' if !expect_name => {
                expect_name = true;
                i += 1;
            }
            b'[' if !expect_name => {
                i += 1;
                let key = if b.get(i) == Some(&b'"') {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        match b.get(i) {
                            None => {
                                return Err(addr_err(
                                    "Unterminated template string",
                                    "No closing marker was found for the string.",
                                ))
                            }
                            Some(b'"') => break,
                            Some(b'\\') => {
                                let (c, n) = unescape(&src[i..]).ok_or_else(|| {
                                    addr_err(
                                        "Invalid escape sequence",
                                        "The symbol is not a valid escape sequence.",
                                    )
                                })?;
                                s.push(c);
                                i += n;
                            }
                            Some(_) => {
                                let c = src[i..].chars().next().unwrap_or('\u{fffd}');
                                s.push(c);
                                i += c.len_utf8();
                            }
                        }
                    }
                    i += 1;
                    IndexKey::String(s)
                } else {
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if start == i {
                        return Err(addr_err(
                            "Index value required",
                            "Index brackets must contain either a literal number or a literal string.",
                        ));
                    }
                    match src[start..i].parse::<i64>() {
                        Ok(n) => IndexKey::Int(n),
                        Err(_) => {
                            return Err(addr_err(
                                "Invalid index",
                                "Index value must be a whole number.",
                            ))
                        }
                    }
                };
                if b.get(i) != Some(&b']') {
                    return Err(addr_err(
                        "Index value required",
                        "Index brackets must contain either a literal number or a literal string.",
                    ));
                }
                i += 1;
                out.push(Token::Key(key));
            }
            c if expect_name && (c.is_ascii_alphabetic() || c == b'_' || c >= 0x80) => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'-'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token::Name(src[start..i].to_string()));
                expect_name = false;
            }
            _ => {
                return Err(addr_err(
                    "Invalid address",
                    if b[i] == b'[' {
                        "Index value required"
                    } else {
                        "Invalid character in address."
                    },
                ))
            }
        }
    }
    if expect_name && !out.is_empty() {
        return Err(addr_err(
            "Invalid address",
            "Attribute name required: a dot must be followed by a name.",
        ));
    }
    Ok(out)
}

fn unescape(s: &str) -> Option<(char, usize)> {
    let mut it = s.chars();
    it.next()?;
    let c = it.next()?;
    Some(match c {
        'n' => ('\n', 2),
        't' => ('\t', 2),
        'r' => ('\r', 2),
        '"' => ('"', 2),
        '\\' => ('\\', 2),
        _ => return None,
    })
}

impl StateAddr {
    /// Parses a module, resource or instance address as the `state`
    /// commands take it.
    pub fn parse(src: &str) -> Result<StateAddr, AddrError> {
        let toks = tokens(src)?;
        let mut module = Vec::new();
        let mut i = 0;
        while let Some(Token::Name(n)) = toks.get(i) {
            if n != "module" {
                break;
            }
            let Some(Token::Name(name)) = toks.get(i + 1) else {
                return Err(addr_err(
                    "Invalid address operator",
                    "Prefix \"module.\" must be followed by a module name.",
                ));
            };
            i += 2;
            let key = match toks.get(i) {
                Some(Token::Key(k)) => {
                    i += 1;
                    Some(k.clone())
                }
                _ => None,
            };
            module.push(ModuleStep {
                name: name.clone(),
                key,
            });
        }
        if i == toks.len() {
            if module.is_empty() {
                return Err(addr_err(
                    "Invalid address",
                    "Resource specification must include a resource type and name.",
                ));
            }
            return Ok(StateAddr {
                module,
                resource: None,
            });
        }
        let mut mode = Mode::Managed;
        if let Some(Token::Name(n)) = toks.get(i) {
            if n == "data" {
                mode = Mode::Data;
                i += 1;
            }
        }
        let (Some(Token::Name(type_)), Some(Token::Name(name))) = (toks.get(i), toks.get(i + 1))
        else {
            return Err(addr_err(
                "Invalid address",
                "Resource specification must include a resource type and name.",
            ));
        };
        i += 2;
        let key = match toks.get(i) {
            Some(Token::Key(k)) => {
                i += 1;
                Some(k.clone())
            }
            _ => None,
        };
        if i != toks.len() {
            return Err(addr_err(
                "Invalid address",
                "Extraneous characters after the end of the resource instance address.",
            ));
        }
        Ok(StateAddr {
            module,
            resource: Some(ResourcePart {
                mode,
                type_: type_.clone(),
                name: name.clone(),
                key,
            }),
        })
    }

    /// Whether this addresses a whole module instance.
    pub fn is_module(&self) -> bool {
        self.resource.is_none()
    }
}

/// Parses the module address a state file records (`module.a["x"]`);
/// `None` if it is malformed.
pub fn parse_module(src: &str) -> Option<ModulePath> {
    if src.is_empty() {
        return Some(Vec::new());
    }
    match StateAddr::parse(src) {
        Ok(StateAddr {
            module,
            resource: None,
        }) => Some(module),
        _ => None,
    }
}

/// Formats a module path as the state file records it.
pub fn format_module(path: &[ModuleStep]) -> String {
    let mut s = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str("module.");
        s.push_str(&step.name);
        if let Some(k) = &step.key {
            s.push_str(&format!("[{k}]"));
        }
    }
    s
}

impl fmt::Display for StateAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = format_module(&self.module);
        f.write_str(&m)?;
        if let Some(r) = &self.resource {
            if !m.is_empty() {
                f.write_str(".")?;
            }
            if r.mode == Mode::Data {
                f.write_str("data.")?;
            }
            write!(f, "{}.{}", r.type_, r.name)?;
            if let Some(k) = &r.key {
                write!(f, "[{k}]")?;
            }
        }
        Ok(())
    }
}

/// A resource instance in state, identified by its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRef {
    /// Index into `State::resources`.
    pub resource: usize,
    /// The instance key.
    pub key: Option<IndexKey>,
    /// Its address as printed.
    pub address: String,
}

/// Terraform's listing order: module path (root first), then mode, type,
/// name, then instance key.
pub fn sorted_resources(state: &State) -> Vec<usize> {
    let paths: Vec<Option<ModulePath>> = state
        .resources
        .iter()
        .map(|r| parse_module(&r.module))
        .collect();
    let mut idx: Vec<usize> = (0..state.resources.len()).collect();
    idx.sort_by(|&a, &b| {
        let (ra, rb) = (&state.resources[a], &state.resources[b]);
        let by_module = match (&paths[a], &paths[b]) {
            (Some(pa), Some(pb)) => module_cmp(pa, pb),
            _ => ra.module.cmp(&rb.module),
        };
        by_module.then_with(|| (ra.mode, &ra.type_, &ra.name).cmp(&(rb.mode, &rb.type_, &rb.name)))
    });
    idx
}

/// Terraform's module instance order: shallower first, then step by step
/// by call name and key (no key, then integers, then strings).
pub fn module_cmp(a: &[ModuleStep], b: &[ModuleStep]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        for (x, y) in a.iter().zip(b) {
            let o = x.name.cmp(&y.name).then_with(|| key_cmp(&x.key, &y.key));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    })
}

/// Whether `module` is `prefix` or below it. With `any_key`, a step of
/// `prefix` without a key stands for every instance of that call (as the
/// filters of `state list` and `state rm` read `module.a`).
fn module_within(module: &[ModuleStep], prefix: &[ModuleStep], any_key: bool) -> bool {
    module.len() >= prefix.len()
        && module
            .iter()
            .zip(prefix)
            .all(|(m, p)| m.name == p.name && (m.key == p.key || (any_key && p.key.is_none())))
}

/// Whether `r` belongs to the module or resource `addr` names (any
/// instance key of the resource).
fn resource_matches(r: &Resource, addr: &StateAddr, any_key: bool) -> bool {
    let Some(module) = parse_module(&r.module) else {
        return false;
    };
    match &addr.resource {
        None => module_within(&module, &addr.module, any_key),
        // A resource address names its module instance exactly.
        Some(p) => {
            module == addr.module && r.mode == p.mode && r.type_ == p.type_ && r.name == p.name
        }
    }
}

/// The module instances at or below `prefix` that hold resources, in
/// Terraform's order.
pub fn module_instances_under(state: &State, prefix: &[ModuleStep]) -> Vec<ModulePath> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<ModulePath> = Vec::new();
    for r in &state.resources {
        if !seen.insert(r.module.as_str()) {
            continue;
        }
        if let Some(m) = parse_module(&r.module) {
            if module_within(&m, prefix, false) {
                out.push(m);
            }
        }
    }
    out.sort_by(|a, b| module_cmp(a, b));
    out
}

/// The current instances of `state` that `addr` covers (all of them for
/// `None`), in Terraform's listing order.
pub fn matching_instances(state: &State, addr: Option<&StateAddr>) -> Vec<InstanceRef> {
    let mut out = Vec::new();
    for i in sorted_resources(state) {
        let r = &state.resources[i];
        if let Some(a) = addr {
            if !resource_matches(r, a, true) {
                continue;
            }
        }
        let want_key = addr
            .and_then(|a| a.resource.as_ref())
            .and_then(|p| p.key.as_ref());
        let mut keys: Vec<&Option<IndexKey>> = r
            .instances
            .iter()
            .filter(|x| x.deposed.is_none())
            .map(|x| &x.index_key)
            .collect();
        keys.sort_by(|a, b| key_cmp(a, b));
        keys.dedup();
        for k in keys {
            if want_key.is_some() && want_key != k.as_ref() {
                continue;
            }
            out.push(InstanceRef {
                resource: i,
                key: k.clone(),
                address: r.instance_address(k.as_ref()),
            });
        }
    }
    out
}

fn key_cmp(a: &Option<IndexKey>, b: &Option<IndexKey>) -> std::cmp::Ordering {
    match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.sort_cmp(y),
    }
}

/// Whether any resource of `state` lies in the module instance `path` or
/// below it.
pub fn has_module(state: &State, path: &[ModuleStep]) -> bool {
    state
        .resources
        .iter()
        .any(|r| parse_module(&r.module).is_some_and(|m| module_within(&m, path, false)))
}

/// Whether `state` has the resource `addr` names (ignoring its key).
pub fn find_resource(state: &State, module: &[ModuleStep], part: &ResourcePart) -> Option<usize> {
    state.resources.iter().position(|r| {
        r.mode == part.mode
            && r.type_ == part.type_
            && r.name == part.name
            && parse_module(&r.module).as_deref() == Some(module)
    })
}

/// Removes the instances (current and deposed objects) `addr` covers and
/// returns their addresses; resources left empty are dropped.
pub fn remove(state: &mut State, addr: &StateAddr) -> Vec<String> {
    let removed = matching_instances(state, Some(addr));
    let key = addr.resource.as_ref().and_then(|p| p.key.as_ref());
    for m in &removed {
        let instances = &mut state.resources[m.resource].instances;
        match key {
            // One instance (its current and deposed objects).
            Some(k) => instances.retain(|x| x.index_key.as_ref() != Some(k)),
            // Every instance: the whole resource.
            None => instances.clear(),
        }
    }
    let mut touched = vec![false; state.resources.len()];
    for m in &removed {
        touched[m.resource] = true;
    }
    let mut i = 0;
    state.resources.retain(|r| {
        let keep = !(touched[i] && r.instances.is_empty());
        i += 1;
        keep
    });
    removed.into_iter().map(|m| m.address).collect()
}

/// Why a move was refused: Terraform's summary and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveError {
    /// e.g. `Invalid target address`.
    pub summary: String,
    /// The explanation.
    pub detail: String,
}

fn move_err(summary: &str, detail: String) -> MoveError {
    MoveError {
        summary: summary.to_string(),
        detail,
    }
}

/// What a move would take from the source state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveSource {
    /// Resources (by index) in the module instance or below it.
    Module(Vec<usize>),
    /// A whole resource.
    Resource(usize),
    /// One instance of a resource.
    Instance(usize, Option<IndexKey>),
}

/// Finds what `src` names in `state`; `None` if nothing.
pub fn move_source(state: &State, src: &StateAddr) -> Option<MoveSource> {
    match &src.resource {
        None => {
            let rs: Vec<usize> = state
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| resource_matches(r, src, false))
                .map(|(i, _)| i)
                .collect();
            (!rs.is_empty()).then_some(MoveSource::Module(rs))
        }
        Some(p) => {
            let i = find_resource(state, &src.module, p)?;
            match &p.key {
                // A resource with only an unkeyed instance moves as that
                // instance, as in Terraform.
                None if state.resources[i]
                    .instances
                    .iter()
                    .all(|x| x.index_key.is_none()) =>
                {
                    Some(MoveSource::Instance(i, None))
                }
                None => Some(MoveSource::Resource(i)),
                Some(k) => state.resources[i]
                    .instances
                    .iter()
                    .any(|x| x.index_key.as_ref() == Some(k))
                    .then(|| MoveSource::Instance(i, Some(k.clone()))),
            }
        }
    }
}

/// Moves what `src` names from `from` into `to` at `dst` (`to` is `None`
/// when moving within one state). Errors are Terraform's.
pub fn move_to(
    from: &mut State,
    mut to: Option<&mut State>,
    src: &StateAddr,
    source: &MoveSource,
    dst: &StateAddr,
) -> Result<(), Vec<MoveError>> {
    match source {
        MoveSource::Module(indices) => {
            if dst.resource.is_some() {
                return Err(vec![move_err(
                    "Invalid target address",
                    format!("Cannot move {src} to {dst}: the target must also be a module."),
                )]);
            }
            let target: &State = to.as_deref().unwrap_or(from);
            if has_module(target, &dst.module) {
                return Err(vec![move_err(
                    "Error moving state: destination module already exists",
                    String::new(),
                )]);
            }
            let mut moved = Vec::new();
            for &i in indices {
                let r = &from.resources[i];
                let Some(m) = parse_module(&r.module) else {
                    continue;
                };
                let mut new_path = dst.module.clone();
                new_path.extend_from_slice(&m[src.module.len()..]);
                let mut nr = r.clone();
                nr.module = format_module(&new_path);
                moved.push((i, nr));
            }
            let mut taken = vec![false; from.resources.len()];
            for (i, _) in &moved {
                taken[*i] = true;
            }
            let mut idx = 0;
            from.resources.retain(|_| {
                let keep = !taken[idx];
                idx += 1;
                keep
            });
            let target = to.as_deref_mut().unwrap_or(from);
            target.resources.extend(moved.into_iter().map(|(_, r)| r));
            Ok(())
        }
        MoveSource::Resource(i) => {
            let r = from.resources[*i].clone();
            let whole = || {
                vec![move_err(
                    "Invalid target address",
                    format!("Cannot move {src} to {dst}: the source is a whole resource (not a resource instance) so the target must also be a whole resource."),
                )]
            };
            let Some(part) = dst.resource.clone() else {
                return Err(whole());
            };
            let module = dst.module.clone();
            check_kind(&r, src, dst, &part)?;
            if part.key.is_some() {
                // A whole resource can go to an instance address only when
                // it has the one unkeyed instance.
                if r.instances.iter().any(|x| x.index_key.is_some()) {
                    return Err(vec![move_err(
                        "Invalid target address",
                        format!("Cannot move {src} to {dst}: the source is a whole resource (not a resource instance) so the target must also be a whole resource."),
                    )]);
                }
                return move_instance(from, to, src, *i, None, dst, &module, &part);
            }
            let target: &State = to.as_deref().unwrap_or(from);
            if let Some(t) = find_resource(target, &module, &part) {
                // Terraform 1.0.3 merges the instances into an existing
                // resource, refusing only a key both have.
                let existing = &target.resources[t];
                if r.instances.iter().any(|x| {
                    existing
                        .instances
                        .iter()
                        .any(|y| y.index_key == x.index_key)
                }) {
                    return Err(vec![move_err(
                        "Invalid target address",
                        format!(
                            "Cannot move to {dst}: there is already a resource instance at that address in the current state."
                        ),
                    )]);
                }
                from.resources.remove(*i);
                let target = to.as_deref_mut().unwrap_or(from);
                if let Some(t) = find_resource(target, &module, &part) {
                    target.resources[t].instances.extend(r.instances);
                }
                return Ok(());
            }
            from.resources.remove(*i);
            let mut nr = r;
            nr.module = format_module(&module);
            nr.name = part.name.clone();
            let target = to.as_deref_mut().unwrap_or(from);
            target.resources.push(nr);
            Ok(())
        }
        MoveSource::Instance(i, key) => {
            let r = &from.resources[*i];
            let Some(part) = dst.resource.clone() else {
                return Err(vec![move_err(
                    "Invalid target address",
                    format!(
                        "Cannot move {src} to {dst}: the target must also be a resource instance."
                    ),
                )]);
            };
            let module = dst.module.clone();
            check_kind(r, src, dst, &part)?;
            move_instance(from, to, src, *i, key.clone(), dst, &module, &part)
        }
    }
}

fn check_kind(
    r: &Resource,
    src: &StateAddr,
    dst: &StateAddr,
    part: &ResourcePart,
) -> Result<(), Vec<MoveError>> {
    let mut errs = Vec::new();
    if r.mode != part.mode {
        let what = match r.mode {
            Mode::Managed => {
                "a managed resource can be moved only to another managed resource address"
            }
            Mode::Data => "a data resource can be moved only to another data resource address",
        };
        errs.push(move_err(
            "Invalid state move request",
            format!("Cannot move {src} to {dst}: {what}."),
        ));
    }
    if r.type_ != part.type_ {
        errs.push(move_err(
            "Invalid state move request",
            format!("Cannot move {src} to {dst}: resource types don't match."),
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

#[allow(clippy::too_many_arguments)]
fn move_instance(
    from: &mut State,
    to: Option<&mut State>,
    _src: &StateAddr,
    i: usize,
    key: Option<IndexKey>,
    dst: &StateAddr,
    module: &[ModuleStep],
    part: &ResourcePart,
) -> Result<(), Vec<MoveError>> {
    let target: &State = to.as_deref().unwrap_or(from);
    if let Some(t) = find_resource(target, module, part) {
        if target.resources[t]
            .instances
            .iter()
            .any(|x| x.index_key == part.key)
        {
            return Err(vec![move_err(
                "Invalid target address",
                format!(
                    "Cannot move to {dst}: there is already a resource instance at that address in the current state."
                ),
            )]);
        }
    }
    let provider = from.resources[i].provider.clone();
    let objects: Vec<Instance> = from.resources[i]
        .instances
        .iter()
        .filter(|x| x.index_key == key)
        .cloned()
        .collect();
    from.resources[i].instances.retain(|x| x.index_key != key);
    if from.resources[i].instances.is_empty() {
        from.resources.remove(i);
    }
    let target = to.unwrap_or(from);
    let t = match find_resource(target, module, part) {
        Some(t) => t,
        None => {
            target.resources.push(Resource {
                module: format_module(module),
                mode: part.mode,
                type_: part.type_.clone(),
                name: part.name.clone(),
                each: None,
                provider,
                instances: Vec::new(),
            });
            target.resources.len() - 1
        }
    };
    target.resources[t]
        .instances
        .extend(objects.into_iter().map(|mut o| {
            o.index_key = part.key.clone();
            o
        }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_addresses() {
        for a in [
            "null_resource.a",
            "null_resource.b[0]",
            "null_resource.c[\"k1\"]",
            "module.m",
            "module.m[\"x\"].module.n[2]",
            "module.m.data.null_data_source.d",
        ] {
            assert_eq!(StateAddr::parse(a).expect(a).to_string(), a);
        }
        assert_eq!(
            StateAddr::parse("bad[").unwrap_err().summary,
            "Index value required"
        );
        assert_eq!(
            StateAddr::parse("null_resource").unwrap_err().detail,
            "Resource specification must include a resource type and name."
        );
    }

    fn resource(module: &str, name: &str, keys: &[Option<IndexKey>]) -> Resource {
        Resource {
            module: module.into(),
            mode: Mode::Managed,
            type_: "null_resource".into(),
            name: name.into(),
            each: None,
            provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
            instances: keys
                .iter()
                .map(|k| Instance {
                    index_key: k.clone(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn sample() -> State {
        State {
            resources: vec![
                resource("", "a", &[None]),
                resource("", "b", &[Some(IndexKey::Int(0)), Some(IndexKey::Int(1))]),
                resource("module.m", "x", &[None]),
                resource("module.m.module.n[\"k\"]", "y", &[None]),
                resource("module.mm", "z", &[None]),
            ],
            ..Default::default()
        }
    }

    fn addrs(state: &State) -> Vec<String> {
        matching_instances(state, None)
            .into_iter()
            .map(|m| m.address)
            .collect()
    }

    fn parse(s: &str) -> StateAddr {
        StateAddr::parse(s).expect(s)
    }

    #[test]
    fn module_addresses_cover_descendants_only() {
        let state = sample();
        let found: Vec<String> = matching_instances(&state, Some(&parse("module.m")))
            .into_iter()
            .map(|m| m.address)
            .collect();
        // module.mm is not inside module.m.
        assert_eq!(
            found,
            [
                "module.m.null_resource.x",
                "module.m.module.n[\"k\"].null_resource.y"
            ]
        );
    }

    #[test]
    fn removing_the_last_instance_drops_the_resource() {
        let mut state = sample();
        assert_eq!(
            remove(&mut state, &parse("null_resource.b[0]")),
            ["null_resource.b[0]"]
        );
        assert!(state.resources.iter().any(|r| r.name == "b"));
        assert_eq!(
            remove(&mut state, &parse("null_resource.b[1]")),
            ["null_resource.b[1]"]
        );
        assert!(!state.resources.iter().any(|r| r.name == "b"));
        assert!(remove(&mut state, &parse("null_resource.nope")).is_empty());
    }

    #[test]
    fn moves_modules_resources_and_instances() {
        let mut state = sample();
        let src = parse("module.m");
        let source = move_source(&state, &src).expect("module.m");
        move_to(&mut state, None, &src, &source, &parse("module.p.module.q")).expect("moved");
        let src = parse("null_resource.b[1]");
        let source = move_source(&state, &src).expect("b[1]");
        move_to(
            &mut state,
            None,
            &src,
            &source,
            &parse("module.new.null_resource.c[\"one\"]"),
        )
        .expect("moved");
        assert_eq!(
            addrs(&state),
            [
                "null_resource.a",
                "null_resource.b[0]",
                "module.mm.null_resource.z",
                "module.new.null_resource.c[\"one\"]",
                "module.p.module.q.null_resource.x",
                "module.p.module.q.module.n[\"k\"].null_resource.y",
            ]
        );
    }

    #[test]
    fn refused_moves_leave_the_state_alone() {
        let mut state = sample();
        let before = state.clone();
        let cases = [
            (
                "null_resource.a",
                "null_resource.b[0]",
                "Invalid target address",
            ),
            ("null_resource.a", "module.k", "Invalid target address"),
            (
                "null_resource.b",
                "null_resource.q[0]",
                "Invalid target address",
            ),
            (
                "null_resource.a",
                "data.null_resource.a",
                "Invalid state move request",
            ),
            (
                "module.m",
                "module.mm",
                "Error moving state: destination module already exists",
            ),
        ];
        for (src, dst, summary) in cases {
            let src = parse(src);
            let source = move_source(&state, &src).expect("source exists");
            let errs = move_to(&mut state, None, &src, &source, &parse(dst)).expect_err(dst);
            assert_eq!(errs[0].summary, summary, "{src} -> {dst}");
            assert_eq!(state, before, "{src} -> {dst}");
        }
    }
}
