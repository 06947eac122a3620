//! Hand-built values checked against `terraform console` (v1.0.3) output
//! recorded in the shared corpus (`expressions.jsonl`). The expected text
//! is read from the corpus at test time; the test is skipped (with a
//! message) when the corpus is not present.

use std::collections::{BTreeMap, HashMap};

use terrane_value::convert::convert;
use terrane_value::{format_console, json, Number, Type, Value};

const CORPUS: &str = "/work/shared/corpus/expressions.jsonl";

fn n(s: &str) -> Value {
    Value::number(Number::parse(s).expect("number"))
}
fn s(x: &str) -> Value {
    Value::string(x)
}
fn b(x: bool) -> Value {
    Value::bool(x)
}
fn null() -> Value {
    Value::null_dynamic()
}
fn tup(v: Vec<Value>) -> Value {
    Value::tuple(v)
}
fn obj(v: Vec<(&str, Value)>) -> Value {
    Value::object_from(v)
}
fn list(ety: Type, v: Vec<Value>) -> Value {
    Value::list(ety, v)
}
fn set(ety: Type, v: Vec<Value>) -> Value {
    Value::set(ety, v)
}
fn map(ety: Type, v: Vec<(&str, Value)>) -> Value {
    Value::map(
        ety,
        v.into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}
fn num(x: &str) -> Number {
    Number::parse(x).expect("number")
}
fn conv(v: Value, t: Type) -> Value {
    convert(&v, &t).expect("convert")
}

fn cases() -> Vec<(&'static str, Value)> {
    let any_list = Type::list(Type::Dynamic);
    let any_set = Type::set(Type::Dynamic);
    let any_map = Type::map(Type::Dynamic);
    // 1 + 2 - 3 * 4 / 5 % 6
    let t = num("3")
        .mul(&num("4"))
        .and_then(|x| x.div(&num("5")))
        .and_then(|x| x.rem(&num("6")))
        .expect("arith");
    let s18 = num("1")
        .add(&num("2"))
        .and_then(|x| x.sub(&t))
        .expect("arith");
    vec![
        ("s00001", n("3")),
        ("s00018", Value::number(s18)),
        ("s00088", s("a\nb")),
        ("s00089", s("a\tb")),
        ("s00090", s("back\\slash")),
        ("s00092", s("\u{1F600}")),
        ("s00121", s("line1\r\nline2")),
        (
            "s00157",
            tup(vec![map(
                Type::object([("a", Type::Number)]),
                vec![("x", obj(vec![("a", n("1"))]))],
            )]),
        ),
        ("s00170", map(Type::Number, vec![("a", n("1"))])),
        ("s00171", obj(vec![("a", s("1"))])),
        (
            "s00245",
            conv(
                tup(vec![obj(vec![("a", n("1"))]), obj(vec![("b", n("2"))])]),
                any_list.clone(),
            ),
        ),
        ("s00247", list(Type::String, vec![s("a"), s("b")])),
        ("s00252", conv(tup(vec![n("1"), s("1")]), any_set.clone())),
        ("s00253", set(Type::Bool, vec![b(true), b(false), b(true)])),
        (
            "s00254",
            conv(
                tup(vec![tup(vec![n("1")]), tup(vec![n("1")])]),
                any_set.clone(),
            ),
        ),
        (
            "s00255",
            conv(
                tup(vec![obj(vec![("a", n("1"))]), obj(vec![("a", n("1"))])]),
                any_set.clone(),
            ),
        ),
        ("s00256", conv(tup(vec![null()]), any_set.clone())),
        (
            "s00257",
            set(Type::String, vec![s("10"), s("9"), s("a"), s("B")]),
        ),
        (
            "s00259",
            conv(obj(vec![("a", n("1")), ("b", s("x"))]), any_map.clone()),
        ),
        (
            "s00260",
            conv(
                obj(vec![("a", tup(vec![n("1")])), ("b", tup(vec![s("x")]))]),
                any_map.clone(),
            ),
        ),
        ("s00261", conv(Value::empty_object(), any_map.clone())),
        ("s00266", conv(tup(vec![s("a"), null()]), any_list.clone())),
        ("s00270", conv(tup(vec![null()]), any_list.clone())),
        ("s00327", s("\"quoted\"")),
        ("s00344", s("a\n  b\n  c")),
        ("s00346", s("a\n  \n  b\n  ")),
        ("s00363", tup(vec![Value::null(Type::String), s("b")])),
        (
            "s00488",
            map(
                Type::list(Type::String),
                vec![
                    ("1", list(Type::String, vec![s("a")])),
                    ("2", list(Type::String, vec![s("a"), s("b")])),
                    ("3", list(Type::String, vec![s("b")])),
                ],
            ),
        ),
        ("s00516", s(&json::encode(&s("\u{2028}")).expect("json"))),
        ("s00560", Value::unknown_dynamic()),
        ("s00647", n("2").mark_sensitive()),
        ("s00687", s("\n")),
        ("s00694", tup(vec![s("one\n"), s("two")])),
        (
            "s00805",
            obj(vec![
                ("env", null()),
                (
                    "region",
                    tup(vec![b(false), s("Hello World"), n("4294967296")]),
                ),
            ]),
        ),
        (
            "s00811",
            obj(vec![
                ("env", n("100")),
                ("count", tup(vec![s("line\nbreak")])),
            ]),
        ),
        (
            "s00834",
            obj(vec![
                ("region", s("us-east-1")),
                ("Key", s("null")),
                ("env", s("line\nbreak")),
                ("count", s("alpha")),
            ]),
        ),
        ("s00841", Value::null(Type::Number)),
        ("s00879", s("\n  * snake_case\n\n  * a b c\n\n")),
        (
            "s00892",
            conv(
                obj(vec![
                    (
                        "id",
                        obj(vec![
                            ("env", s("ünïcödé")),
                            ("id", s("beta")),
                            ("name", s("x")),
                            ("z", s("${x}")),
                        ]),
                    ),
                    ("count", null()),
                ]),
                any_map.clone(),
            ),
        ),
        (
            "s00943",
            obj(vec![
                ("a", obj(vec![("c", null())])),
                (
                    "c",
                    obj(vec![
                        ("m", s("")),
                        ("b", s("/path/to/file.txt")),
                        ("port", s("eu-west-2")),
                        ("enabled", s("😀")),
                    ]),
                ),
            ]),
        ),
        (
            "s00968",
            tup(vec![
                n("999999999999"),
                n("5"),
                n("1.5"),
                n("3.14159"),
                obj(vec![
                    (
                        "Key",
                        tup(vec![s("line\nbreak"), s("snake_case"), s("alpha")]),
                    ),
                    ("region", null()),
                ]),
            ]),
        ),
        (
            "s01066",
            tup(vec![
                s("line\nbreak"),
                s("prod"),
                s("back\\slash"),
                s("app"),
                s("日本"),
            ]),
        ),
        (
            "s01264",
            conv(
                obj(vec![
                    (
                        "count",
                        obj(vec![("c", s("null")), ("tags", s("eu-west-2"))]),
                    ),
                    ("zone", null()),
                ]),
                any_map.clone(),
            ),
        ),
        ("s01584", Value::null(Type::tuple(vec![Type::Number; 5]))),
        ("s02076", conv(tup(vec![b(true), null()]), any_list.clone())),
        ("s02117", conv(tup(vec![null(), n("10")]), any_list.clone())),
        (
            "s02373",
            conv(
                tup(vec![
                    s("line\nbreak"),
                    s("true"),
                    s("123"),
                    s("123"),
                    s("web"),
                ]),
                any_set,
            ),
        ),
        ("s02864", tup(vec![tup(vec![b(true), null(), b(true)])])),
        ("s00093", s("caf\u{e9}")),
        ("s00091", s("e\u{301}")),
    ]
}

fn load() -> Option<HashMap<String, serde_json::Value>> {
    let text = std::fs::read_to_string(CORPUS).ok()?;
    let mut m = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let id = v.get("id")?.as_str()?.to_string();
        m.insert(id, v);
    }
    Some(m)
}

#[test]
fn console_format_matches_oracle() {
    let Some(oracle) = load() else {
        eprintln!("skipping: {CORPUS} not found");
        return;
    };
    let cases = cases();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for (id, v) in &cases {
        let entry = oracle
            .get(*id)
            .unwrap_or_else(|| panic!("{id} not in corpus"));
        assert_eq!(entry["ok"], serde_json::Value::Bool(true), "{id}");
        let want = entry["output"].as_str().unwrap_or_default();
        let got = format!("{}\n", format_console(v));
        if got != want {
            failures.push(format!(
                "{id}: {}\n got: {got:?}\nwant: {want:?}",
                entry["expr"]
            ));
        }
        // jsonencode output of the same value, when recorded and encodable
        if let Some(j) = entry.get("json").and_then(|j| j["output"].as_str()) {
            if !v.has_marks_deep() && v.is_wholly_known() {
                let enc = json::encode(v).expect("encode");
                let got = format!("{}\n", format_console(&Value::string(enc)));
                if got != j {
                    failures.push(format!("{id} (json): got {got:?} want {j:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `arith`/`numeric_fn` oracle entry whose expression is a plain
/// number literal must print identically after parsing.
#[test]
fn number_literals_match_oracle() {
    let Some(oracle) = load() else {
        eprintln!("skipping: {CORPUS} not found");
        return;
    };
    let mut checked = 0;
    for e in oracle.values() {
        let expr = e["expr"].as_str().unwrap_or_default();
        if e["ok"] != serde_json::Value::Bool(true) {
            continue;
        }
        let lit = expr.strip_prefix('-').unwrap_or(expr);
        if lit.is_empty()
            || !lit
                .bytes()
                .all(|c| c.is_ascii_digit() || c == b'.' || c == b'e')
        {
            continue;
        }
        let Ok(num) = Number::parse(expr) else {
            continue;
        };
        let want = e["output"].as_str().unwrap_or_default();
        assert_eq!(format!("{}\n", num.to_text()), want, "{expr}");
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
}
