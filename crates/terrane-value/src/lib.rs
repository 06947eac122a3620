//! terrane-value: a go-cty compatible value model.

pub mod number;

pub use number::{ArithError, Number, ParseNumberError};
