//! `terraform-provider-tfptest`: a small protocol-6 provider written on the
//! published `tf-provider` framework, so that terrane's plugin client is
//! exercised by a server whose wire messages come from someone else's
//! `.proto` (tonic-build), not from terrane's hand-written ones.
//!
//! * provider configuration: optional `prefix` (prepended to ids);
//! * resource `tfptest_widget`: nested attributes in all four nesting
//!   modes (`settings` single, `rules` list, `ports` set, `labels` map),
//!   `id` computed on create, `summary` and `rules[*].position` computed
//!   at plan time, `name` forces replacement, validation errors with
//!   attribute paths;
//! * data source `tfptest_echo`: `reversed` computed from `input`;
//! * functions `reverse(string)` (an empty string is an argument error)
//!   and `sum(list(number))` (overflow is a function error).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, FunctionSchema, Parameter,
    Schema, Type,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{
    map, serve, AttributePath, DataSource, Diagnostics, DynamicDataSource, DynamicFunction,
    DynamicResource, Function, Provider, Resource,
};

/// The configured id prefix, shared by the provider and its resource.
type Prefix = Arc<Mutex<String>>;

fn attr(ty: AttributeType, constraint: AttributeConstraint, text: &str) -> Attribute {
    Attribute {
        attr_type: ty,
        description: Description::plain(text),
        constraint,
        ..Default::default()
    }
}

fn string_value(v: &Value<String>) -> Option<&str> {
    match v {
        Value::Value(s) => Some(s.as_str()),
        _ => None,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ProviderConfig {
    prefix: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Settings {
    color: Value<String>,
    size: Value<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Rule {
    key: Value<String>,
    value: Value<String>,
    position: Value<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Port {
    port: Value<i64>,
    protocol: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Label {
    value: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WidgetState {
    id: Value<String>,
    name: Value<String>,
    summary: Value<String>,
    settings: Value<Settings>,
    rules: Value<Vec<Value<Rule>>>,
    ports: Value<BTreeSet<Value<Port>>>,
    labels: Value<BTreeMap<String, Value<Label>>>,
}

fn count<T>(v: &Value<T>, len: impl Fn(&T) -> usize) -> String {
    match v {
        Value::Value(x) => len(x).to_string(),
        Value::Null => "0".to_string(),
        Value::Unknown => "?".to_string(),
    }
}

impl WidgetState {
    /// Fills the attributes computed at plan time.
    fn plan_computed(&mut self) {
        self.summary = Value::Value(format!(
            "{} rules, {} ports, {} labels",
            count(&self.rules, Vec::len),
            count(&self.ports, BTreeSet::len),
            count(&self.labels, BTreeMap::len),
        ));
        if let Value::Value(rules) = &mut self.rules {
            for (i, rule) in rules.iter_mut().enumerate() {
                if let Value::Value(rule) = rule {
                    rule.position = Value::Value(i as i64);
                }
            }
        }
    }
}

struct Widget {
    prefix: Prefix,
}

#[async_trait]
impl Resource for Widget {
    type State<'a> = WidgetState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        Some(Schema {
            version: 2,
            block: Block {
                version: 2,
                description: Description::plain("A widget with nested attributes."),
                attributes: map! {
                    "id" => attr(AttributeType::String, Computed, "Set on create."),
                    "name" => attr(AttributeType::String, Required, "Changing it replaces the widget."),
                    "summary" => attr(AttributeType::String, Computed, "Counts of the nested objects."),
                    "settings" => attr(AttributeType::AttributeSingle(map! {
                        "color" => attr(AttributeType::String, Required, "Colour."),
                        "size" => attr(AttributeType::Number, Optional, "Size."),
                    }), Required, "Single nested object."),
                    "rules" => attr(AttributeType::AttributeList(map! {
                        "key" => attr(AttributeType::String, Required, "Key."),
                        "value" => attr(AttributeType::String, Optional, "Value."),
                        "position" => attr(AttributeType::Number, Computed, "Index in the list."),
                    }), Optional, "List of nested objects."),
                    "ports" => attr(AttributeType::AttributeSet(map! {
                        "port" => attr(AttributeType::Number, Required, "Port number."),
                        "protocol" => attr(AttributeType::String, Optional, "Protocol."),
                    }), Optional, "Set of nested objects."),
                    "labels" => attr(AttributeType::AttributeMap(map! {
                        "value" => attr(AttributeType::String, Required, "Label value."),
                    }), Optional, "Map of nested objects."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if string_value(&config.name) == Some("") {
            diags.error(
                "Invalid name",
                "The name of a widget must not be empty.",
                AttributePath::new("name"),
            );
        }
        if let Value::Value(rules) = &config.rules {
            for (i, rule) in rules.iter().enumerate() {
                if let Value::Value(rule) = rule {
                    if string_value(&rule.key) == Some("") {
                        diags.error(
                            "Invalid rule key",
                            "A rule key must not be empty.",
                            AttributePath::new("rules").index(i as i64).attribute("key"),
                        );
                    }
                }
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let mut planned = proposed_state;
        planned.id = Value::Unknown;
        planned.plan_computed();
        Some((planned, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut planned = proposed_state;
        planned.plan_computed();
        let mut replace = Vec::new();
        if planned.name != prior_state.name {
            replace.push(AttributePath::new("name"));
            planned.id = Value::Unknown;
        } else {
            planned.id = prior_state.id;
        }
        Some((planned, prior_private_state, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(prior_private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some(name) = string_value(&planned_state.name) else {
            diags.root_error("Unknown name", "The planned name must be known at apply.");
            return None;
        };
        let prefix = match self.prefix.lock() {
            Ok(p) => p.clone(),
            Err(_) => String::new(),
        };
        let mut state = planned_state.clone();
        state.id = Value::Value(format!("{prefix}widget-{name}"));
        Some((state, planned_private_state))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((planned_state, planned_private_state))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        Some(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EchoState {
    input: Value<String>,
    reversed: Value<String>,
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    type State<'a> = EchoState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("Echoes its input reversed."),
                attributes: map! {
                    "input" => attr(AttributeType::String, Required, "Text."),
                    "reversed" => attr(AttributeType::String, Computed, "The text reversed."),
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let reversed = match &config.input {
            Value::Value(s) => Value::Value(s.chars().rev().collect()),
            Value::Null => Value::Null,
            Value::Unknown => Value::Unknown,
        };
        Some(EchoState { reversed, ..config })
    }
}

struct Reverse;

#[async_trait]
impl Function for Reverse {
    type Input<'a> = (String,);
    type Output<'a> = String;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<FunctionSchema> {
        Some(FunctionSchema {
            parameters: vec![Parameter {
                name: "input".into(),
                param_type: Type::String,
                description: Description::plain("Text to reverse."),
                ..Default::default()
            }],
            return_type: Type::String,
            summary: "Reverses a string".into(),
            description: Description::plain("Reverses a string by characters."),
            ..Default::default()
        })
    }

    async fn call<'a>(
        &self,
        diags: &mut Diagnostics,
        (input,): Self::Input<'a>,
    ) -> Option<Self::Output<'a>> {
        if input.is_empty() {
            diags.function_error(0, "the string to reverse must not be empty");
            return None;
        }
        Some(input.chars().rev().collect())
    }
}

struct Sum;

#[async_trait]
impl Function for Sum {
    type Input<'a> = (Vec<i64>,);
    type Output<'a> = i64;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<FunctionSchema> {
        Some(FunctionSchema {
            parameters: vec![Parameter {
                name: "numbers".into(),
                param_type: Type::List(Box::new(Type::Number)),
                description: Description::plain("Integers to add."),
                ..Default::default()
            }],
            return_type: Type::Number,
            summary: "Adds integers".into(),
            description: Description::plain("Adds a list of 64-bit integers."),
            ..Default::default()
        })
    }

    async fn call<'a>(
        &self,
        diags: &mut Diagnostics,
        (numbers,): Self::Input<'a>,
    ) -> Option<Self::Output<'a>> {
        let mut total: i64 = 0;
        for n in numbers {
            match total.checked_add(n) {
                Some(t) => total = t,
                None => {
                    diags.root_error_short("the sum overflows a 64-bit integer");
                    return None;
                }
            }
        }
        Some(total)
    }
}

struct TfpTest {
    prefix: Prefix,
}

#[async_trait]
impl Provider for TfpTest {
    type Config<'a> = Value<ProviderConfig>;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("tfptest"),
                attributes: map! {
                    "prefix" => attr(AttributeType::String, AttributeConstraint::Optional, "Prepended to widget ids."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        if let Value::Value(c) = &config {
            if string_value(&c.prefix).is_some_and(|p| p.contains(' ')) {
                diags.error(
                    "Invalid prefix",
                    "The prefix must not contain spaces.",
                    AttributePath::new("prefix"),
                );
            }
        }
        Some(())
    }

    async fn configure<'a>(
        &self,
        _diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let prefix = match config {
            Value::Value(ProviderConfig {
                prefix: Value::Value(p),
            }) => p,
            _ => String::new(),
        };
        if let Ok(mut p) = self.prefix.lock() {
            *p = prefix;
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let widget: Box<dyn DynamicResource> = Box::new(Widget {
            prefix: self.prefix.clone(),
        });
        Some(HashMap::from([("widget".to_string(), widget)]))
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let echo: Box<dyn DynamicDataSource> = Box::new(Echo);
        Some(HashMap::from([("echo".to_string(), echo)]))
    }

    fn get_functions(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicFunction>>> {
        Some(map! {
            "reverse" => Reverse,
            "sum" => Sum,
        })
    }
}

fn main() -> Result<()> {
    // tf-provider appends a captured backtrace to every diagnostic's detail
    // when backtraces are enabled (RUST_BACKTRACE=1 is common in CI); keep
    // the diagnostics stable. Set before any thread exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(
        "tfptest",
        TfpTest {
            prefix: Arc::default(),
        },
    ))
}
