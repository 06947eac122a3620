//! terrane-value: a go-cty compatible value model for terrane.
//!
//! * [`Type`]: the type system (with `Dynamic` for "any").
//! * [`Value`]: known/null/unknown values of any type, with [`Marks`]
//!   (e.g. sensitive), cheap to clone.
//! * [`Number`]: arbitrary-precision binary floats with go-cty's semantics
//!   and Terraform's exact number formatting.
//! * [`convert()`](convert::convert) / [`unify()`](convert::unify): type
//!   conversion and unification as go-cty's `convert` package.
//! * [`format_console`]: display exactly as `terraform console` prints.
//! * [`json`] and [`msgpack`]: go-cty's JSON and msgpack codecs.
//! * [`Path`]: addressing nested values.

#![warn(missing_docs)]

pub mod convert;
pub mod format;
pub mod json;
pub mod msgpack;
pub mod number;
pub mod ops;
pub mod path;
mod set;
pub mod ty;
pub mod value;

pub use convert::{convert, unify, ConversionError};
pub use format::format_console;
pub use number::{ArithError, Number, ParseNumberError};
pub use path::{Path, PathError, PathStep};
pub use set::set_hash;
pub use ty::{AttrTypes, OptionalAttrs, Type, TypeJsonError};
pub use value::{merged_marks, Kind, Mark, Marks, PathMarks, Value, ValueMap, ValueMapIter};
