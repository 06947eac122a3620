//! `hashicorp/random` 3.x (emulating 3.6/3.7 schemas): `random_id`,
//! `random_string`, `random_password`, `random_integer`, `random_uuid`,
//! `random_pet`, `random_shuffle`.
//!
//! Every configurable attribute forces replacement, so an "update" never
//! regenerates anything. Randomness comes from the thread RNG (ChaCha
//! seeded by the OS); `seed` arguments (random_integer, random_shuffle)
//! select a deterministic generator seeded from a SHA-256 of the seed: the
//! result is stable for a given seed but not the same numbers the Go
//! provider picks.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use num_bigint::BigUint;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use sha2::Digest;
use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    ImportResourceStateRequest, PlanResourceChangeRequest, PlanResourceChangeResponse,
    ProviderSchema,
};
use terrane_value::{Type, Value};

use crate::common::*;

pub(crate) struct Random;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

fn string_schema(version: i64, password: bool) -> terrane_plugin::Schema {
    let mut attrs = vec![
        ("id", attr(Type::String, "c")),
        ("keepers", attr(map_str(), "o")),
        ("length", attr(Type::Number, "r")),
        ("lower", attr(Type::Bool, "oc")),
        ("min_lower", attr(Type::Number, "oc")),
        ("min_numeric", attr(Type::Number, "oc")),
        ("min_special", attr(Type::Number, "oc")),
        ("min_upper", attr(Type::Number, "oc")),
        ("number", attr(Type::Bool, "ocd")),
        ("numeric", attr(Type::Bool, "oc")),
        ("override_special", attr(Type::String, "o")),
        (
            "result",
            attr(Type::String, if password { "cs" } else { "c" }),
        ),
        ("special", attr(Type::Bool, "oc")),
        ("upper", attr(Type::Bool, "oc")),
    ];
    if password {
        attrs.push(("bcrypt_hash", attr(Type::String, "cs")));
    }
    schema(version, attrs)
}

const STRING_ARGS: &[&str] = &[
    "keepers",
    "length",
    "lower",
    "min_lower",
    "min_numeric",
    "min_special",
    "min_upper",
    "number",
    "numeric",
    "override_special",
    "special",
    "upper",
];

fn rules(ty: &str, config: &Obj) -> PlanRules {
    let t = Value::r#true;
    let zero = || Value::from_i64(0);
    match ty {
        "random_id" => PlanRules {
            force_new: vec!["byte_length", "keepers", "prefix"],
            defaults: vec![],
        },
        "random_integer" => PlanRules {
            force_new: vec!["keepers", "max", "min", "seed"],
            defaults: vec![],
        },
        "random_uuid" => PlanRules {
            force_new: vec!["keepers"],
            defaults: vec![],
        },
        "random_pet" => PlanRules {
            force_new: vec!["keepers", "length", "prefix", "separator"],
            defaults: vec![("length", Value::from_i64(2)), ("separator", str_val("-"))],
        },
        "random_shuffle" => PlanRules {
            force_new: vec!["input", "keepers", "result_count", "seed"],
            defaults: vec![],
        },
        _ => {
            // random_string / random_password: `number` and `numeric` mirror
            // each other when only one is set.
            let num = config
                .bool("numeric")
                .or_else(|| config.bool("number"))
                .unwrap_or(true);
            PlanRules {
                force_new: STRING_ARGS.to_vec(),
                defaults: vec![
                    ("lower", t()),
                    ("upper", t()),
                    ("special", t()),
                    ("number", Value::bool(config.bool("number").unwrap_or(num))),
                    ("numeric", Value::bool(num)),
                    ("min_lower", zero()),
                    ("min_upper", zero()),
                    ("min_numeric", zero()),
                    ("min_special", zero()),
                ],
            }
        }
    }
}

/// A generator for `seed` (deterministic) or the thread RNG.
fn rng_for(seed: Option<&str>) -> Box<dyn RngCore> {
    match seed {
        Some(s) => {
            let d = sha2::Sha256::digest(s.as_bytes());
            let mut k = [0u8; 32];
            k.copy_from_slice(&d);
            Box::new(StdRng::from_seed(k))
        }
        None => Box::new(rand::thread_rng()),
    }
}

fn num_arg(obj: &Obj, name: &str) -> Result<i64, Diagnostics> {
    obj.i64(name).ok_or_else(|| {
        Diagnostics(vec![attr_err(
            name,
            "Invalid Attribute Value",
            format!("Attribute {name} must be a known whole number."),
        )])
    })
}

struct StringSpec {
    length: i64,
    sets: Vec<(Vec<char>, i64)>,
}

fn string_spec(obj: &Obj) -> Result<StringSpec, Diagnostics> {
    let length = num_arg(obj, "length")?;
    let special_chars: String = obj
        .str("override_special")
        .unwrap_or_else(|| SPECIAL.to_string());
    let flag = |n: &str| obj.bool(n).unwrap_or(true);
    let min = |n: &str| obj.i64(n).unwrap_or(0);
    let numeric = obj
        .bool("numeric")
        .or_else(|| obj.bool("number"))
        .unwrap_or(true);
    let mut sets = Vec::new();
    let mut push = |on: bool, chars: &str, m: i64| {
        if on && !chars.is_empty() {
            sets.push((chars.chars().collect::<Vec<char>>(), m));
        }
    };
    push(flag("upper"), UPPER, min("min_upper"));
    push(flag("lower"), LOWER, min("min_lower"));
    push(numeric, NUMERIC, min("min_numeric"));
    push(flag("special"), &special_chars, min("min_special"));
    Ok(StringSpec { length, sets })
}

fn generate_string(spec: &StringSpec) -> Result<String, Diagnostics> {
    let all: Vec<char> = spec.sets.iter().flat_map(|(c, _)| c.clone()).collect();
    if all.is_empty() {
        return Err(err_diag(
            "Random Read Error",
            "There was an error during random generation: no character set is enabled (upper, lower, numeric and special are all false or empty).",
        ));
    }
    let mut rng = rand::thread_rng();
    let mut out: Vec<char> = Vec::with_capacity(spec.length.max(0) as usize);
    for (chars, min) in &spec.sets {
        for _ in 0..*min {
            if let Some(c) = chars.choose(&mut rng) {
                out.push(*c);
            }
        }
    }
    while (out.len() as i64) < spec.length {
        if let Some(c) = all.choose(&mut rng) {
            out.push(*c);
        }
    }
    out.shuffle(&mut rng);
    Ok(out.into_iter().collect())
}

fn bcrypt_hash(s: &str) -> Result<String, Diagnostics> {
    bcrypt::hash(s, bcrypt::DEFAULT_COST)
        .map_err(|e| err_diag("Random Read Error", format!("bcrypt hash failed: {e}")))
}

const ADVERBS: &[&str] = &[
    "boldly", "briskly", "calmly", "deeply", "eagerly", "freely", "gently", "gladly", "happily",
    "keenly", "kindly", "lightly", "mostly", "neatly", "openly", "quickly", "quietly", "rarely",
    "slowly", "truly", "warmly", "wildly",
];
const ADJECTIVES: &[&str] = &[
    "amber", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fair",
    "fancy", "gentle", "golden", "happy", "humble", "jolly", "keen", "lively", "lucky", "mellow",
    "merry", "noble", "proud", "quick", "quiet", "rapid", "shiny", "smart", "steady", "sunny",
    "swift", "tidy", "vast", "witty", "young", "zesty",
];
const ANIMALS: &[&str] = &[
    "badger", "bison", "camel", "cobra", "crane", "dingo", "eagle", "falcon", "ferret", "gecko",
    "heron", "ibex", "jackal", "koala", "lemur", "llama", "lynx", "marten", "moose", "newt",
    "ocelot", "otter", "panda", "puffin", "quail", "raven", "salmon", "shark", "sloth", "tapir",
    "toucan", "walrus", "wombat", "yak", "zebra",
];

fn pet_name(length: i64, separator: &str, prefix: Option<&str>) -> String {
    let mut rng = rand::thread_rng();
    let mut words: Vec<&str> = Vec::new();
    if let Some(p) = prefix {
        words.push(p);
    }
    let pick = |list: &[&'static str], rng: &mut rand::rngs::ThreadRng| {
        list.choose(rng).copied().unwrap_or("pet")
    };
    if length >= 3 {
        for _ in 0..length - 2 {
            words.push(pick(ADVERBS, &mut rng));
        }
    }
    if length >= 2 {
        words.push(pick(ADJECTIVES, &mut rng));
    }
    if length >= 1 {
        words.push(pick(ANIMALS, &mut rng));
    }
    words.join(separator)
}

fn id_outputs(obj: &mut Obj, bytes: &[u8]) {
    let prefix = obj.str("prefix").unwrap_or_default();
    let url = URL_SAFE_NO_PAD.encode(bytes);
    obj.set("id", str_val(url.clone()));
    obj.set("b64_url", str_val(format!("{prefix}{url}")));
    obj.set(
        "b64_std",
        str_val(format!("{prefix}{}", STANDARD.encode(bytes))),
    );
    obj.set("hex", str_val(format!("{prefix}{}", hex(bytes))));
    obj.set(
        "dec",
        str_val(format!("{prefix}{}", BigUint::from_bytes_be(bytes))),
    );
}

/// Fills in all computed outputs of a resource being created.
fn generate(ty: &str, obj: &mut Obj) -> Result<(), Diagnostics> {
    match ty {
        "random_id" => {
            let n = num_arg(obj, "byte_length")?;
            let mut bytes = vec![0u8; n.max(0) as usize];
            rand::thread_rng().fill_bytes(&mut bytes);
            id_outputs(obj, &bytes);
        }
        "random_integer" => {
            let (min, max) = (num_arg(obj, "min")?, num_arg(obj, "max")?);
            if min > max {
                return Err(min_max_error());
            }
            let seed = obj.str("seed");
            let mut rng = rng_for(seed.as_deref());
            let v = rng.gen_range(min..=max);
            obj.set("result", Value::from_i64(v));
            obj.set("id", str_val(v.to_string()));
        }
        "random_uuid" => {
            let u = uuid::Uuid::new_v4().to_string();
            obj.set("result", str_val(u.clone()));
            obj.set("id", str_val(u));
        }
        "random_pet" => {
            let length = obj.i64("length").unwrap_or(2);
            let sep = obj.str("separator").unwrap_or_else(|| "-".into());
            let name = pet_name(length, &sep, obj.str("prefix").as_deref());
            obj.set("id", str_val(name));
        }
        "random_shuffle" => {
            let input = obj.str_list("input").unwrap_or_default();
            let count = match obj.i64("result_count") {
                Some(n) => n.max(0) as usize,
                None => input.len(),
            };
            let seed = obj.str("seed");
            let mut rng = rng_for(seed.as_deref());
            let mut shuffled = input.clone();
            shuffled.shuffle(&mut rng);
            let result: Vec<Value> = if shuffled.is_empty() {
                Vec::new()
            } else {
                shuffled
                    .iter()
                    .cycle()
                    .take(count)
                    .map(|s| str_val(s.clone()))
                    .collect()
            };
            obj.set("result", Value::list(Type::String, result));
            obj.set("id", str_val("-"));
        }
        _ => {
            let spec = string_spec(obj)?;
            let s = generate_string(&spec)?;
            if ty == "random_password" {
                obj.set("bcrypt_hash", str_val(bcrypt_hash(&s)?));
                obj.set("id", str_val("none"));
            } else {
                obj.set("id", str_val(s.clone()));
            }
            obj.set("result", str_val(s));
        }
    }
    Ok(())
}

fn min_max_error() -> Diagnostics {
    Diagnostics(vec![attr_err(
        "max",
        "Invalid min and max",
        "The minimum (min) value needs to be smaller than or equal to maximum (max) value.",
    )])
}

fn import_error(detail: impl Into<String>) -> Diagnostics {
    err_diag("Resource Import Error", detail)
}

impl Imp for Random {
    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        let mut r = |n: &str, sc| {
            s.resource_schemas.insert(n.to_string(), sc);
        };
        r(
            "random_id",
            schema(
                0,
                vec![
                    ("b64_std", attr(Type::String, "c")),
                    ("b64_url", attr(Type::String, "c")),
                    ("byte_length", attr(Type::Number, "r")),
                    ("dec", attr(Type::String, "c")),
                    ("hex", attr(Type::String, "c")),
                    ("id", attr(Type::String, "c")),
                    ("keepers", attr(map_str(), "o")),
                    ("prefix", attr(Type::String, "o")),
                ],
            ),
        );
        r("random_string", string_schema(2, false));
        r("random_password", string_schema(3, true));
        r(
            "random_integer",
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "c")),
                    ("keepers", attr(map_str(), "o")),
                    ("max", attr(Type::Number, "r")),
                    ("min", attr(Type::Number, "r")),
                    ("result", attr(Type::Number, "c")),
                    ("seed", attr(Type::String, "o")),
                ],
            ),
        );
        r(
            "random_uuid",
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "c")),
                    ("keepers", attr(map_str(), "o")),
                    ("result", attr(Type::String, "c")),
                ],
            ),
        );
        r(
            "random_pet",
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "c")),
                    ("keepers", attr(map_str(), "o")),
                    ("length", attr(Type::Number, "oc")),
                    ("prefix", attr(Type::String, "o")),
                    ("separator", attr(Type::String, "oc")),
                ],
            ),
        );
        r(
            "random_shuffle",
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "c")),
                    ("input", attr(Type::list(Type::String), "r")),
                    ("keepers", attr(map_str(), "o")),
                    ("result", attr(Type::list(Type::String), "c")),
                    ("result_count", attr(Type::Number, "o")),
                    ("seed", attr(Type::String, "o")),
                ],
            ),
        );
        s
    }

    fn validate_resource(&self, ty: &str, c: &Obj) -> Diagnostics {
        let mut d = Diagnostics::new();
        let at_least = |d: &mut Diagnostics, name: &str, min: i64| {
            if let Some(v) = c.i64(name) {
                if v < min {
                    d.push(attr_err(
                        name,
                        "Invalid Attribute Value",
                        format!("Attribute {name} value must be at least {min}, got: {v}"),
                    ));
                }
            }
        };
        match ty {
            "random_id" => at_least(&mut d, "byte_length", 1),
            "random_integer" => {
                if let (Some(min), Some(max)) = (c.i64("min"), c.i64("max")) {
                    if min > max {
                        d.extend(min_max_error());
                    }
                }
            }
            "random_pet" => at_least(&mut d, "length", 1),
            "random_shuffle" => at_least(&mut d, "result_count", 0),
            "random_string" | "random_password" => {
                at_least(&mut d, "length", 1);
                let mins = ["min_upper", "min_lower", "min_numeric", "min_special"];
                for m in mins {
                    at_least(&mut d, m, 0);
                }
                if let Some(len) = c.i64("length") {
                    let sum: i64 = mins.iter().filter_map(|m| c.i64(m)).sum();
                    if len >= 1 && len < sum {
                        d.push(attr_err(
                            "length",
                            "Invalid Attribute Value",
                            format!("Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: {len}"),
                        ));
                    }
                }
            }
            _ => {}
        }
        d
    }

    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let config = Obj::from_value(ctx.block, &req.config);
        let (planned, replace) = plan_generic(ctx.block, &rules(&req.type_name, &config), req);
        match planned {
            None => plan_response(Value::null(ctx.ty.clone()), replace),
            Some((p, _)) => plan_response(p.to_value(), replace),
        }
    }

    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
        if req.planned_state.is_null() {
            return apply_response(Value::null(ctx.ty.clone()), Diagnostics::new());
        }
        let mut obj = Obj::from_value(ctx.block, &req.planned_state);
        if obj.attrs.values().any(|v| !v.is_known()) {
            if let Err(d) = generate(&req.type_name, &mut obj) {
                return apply_response(Value::null(ctx.ty.clone()), d);
            }
        }
        apply_response(obj.to_value(), Diagnostics::new())
    }

    fn import(&self, ctx: &Ctx, req: &ImportResourceStateRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::empty(ctx.block);
        let id = req.id.as_str();
        match req.type_name.as_str() {
            "random_id" => {
                let (prefix, b64) = match id.split_once(',') {
                    Some((p, b)) => (Some(p), b),
                    None => (None, id),
                };
                let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|e| {
                    import_error(format!("Error while decoding ID {b64:?} as base64url: {e}"))
                })?;
                if let Some(p) = prefix {
                    obj.set("prefix", str_val(p));
                }
                obj.set("byte_length", Value::from_i64(bytes.len() as i64));
                id_outputs(&mut obj, &bytes);
            }
            "random_string" | "random_password" => {
                let mut config = Obj::empty(ctx.block);
                config.set("length", Value::from_i64(id.chars().count() as i64));
                for (name, v) in rules(&req.type_name, &config).defaults {
                    obj.set(name, v);
                }
                obj.set("length", Value::from_i64(id.chars().count() as i64));
                obj.set("result", str_val(id));
                if req.type_name == "random_password" {
                    obj.set("id", str_val("none"));
                    obj.set("bcrypt_hash", str_val(bcrypt_hash(id)?));
                } else {
                    obj.set("id", str_val(id));
                }
            }
            "random_integer" => {
                let parts: Vec<&str> = id.split(',').collect();
                if parts.len() != 3 && parts.len() != 4 {
                    return Err(import_error(format!(
                        "Invalid import ID {id:?}: expected \"result,min,max\" or \"result,min,max,seed\"."
                    )));
                }
                let num = |s: &str, what: &str| {
                    s.parse::<i64>().map_err(|e| {
                        import_error(format!("Error parsing {what} {s:?} of import ID: {e}"))
                    })
                };
                let result = num(parts[0], "result")?;
                obj.set("result", Value::from_i64(result));
                obj.set("min", Value::from_i64(num(parts[1], "min")?));
                obj.set("max", Value::from_i64(num(parts[2], "max")?));
                if let Some(seed) = parts.get(3) {
                    obj.set("seed", str_val(*seed));
                }
                obj.set("id", str_val(parts[0]));
            }
            "random_uuid" => {
                let u = uuid::Uuid::parse_str(id)
                    .ok()
                    .filter(|_| id.len() == 36)
                    .ok_or_else(|| {
                        import_error(format!("Invalid import ID {id:?}: not a UUID."))
                    })?;
                let s = u.to_string();
                obj.set("result", str_val(s.clone()));
                obj.set("id", str_val(s));
            }
            other => {
                return Err(err_diag(
                    "Resource Import Not Implemented",
                    format!("This resource does not support import (resource type {other})."),
                ))
            }
        }
        Ok(obj)
    }

    fn upgrade(
        &self,
        ty: &str,
        version: i64,
        mut obj: Obj,
        _raw: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Obj, Diagnostics> {
        if ty != "random_string" && ty != "random_password" {
            return Ok(obj);
        }
        // Older versions lacked `numeric` (and possibly defaults for the
        // flags): fill them as the current plan would.
        let rules = rules(ty, &obj);
        for (name, v) in rules.defaults {
            if obj.is_null(name) {
                obj.set(name, v);
            }
        }
        if ty == "random_password" && version < 3 {
            // Versions before 3 could store a bcrypt_hash of something
            // else than the result: recompute it if it does not verify.
            if let Some(result) = obj.str("result") {
                let ok = obj
                    .str("bcrypt_hash")
                    .is_some_and(|h| bcrypt::verify(&result, &h).unwrap_or(false));
                if !ok {
                    obj.set("bcrypt_hash", str_val(bcrypt_hash(&result)?));
                }
            }
        }
        Ok(obj)
    }
}
