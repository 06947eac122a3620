//! Oracle tests: function-call expressions from the Terraform 1.0.3
//! expression corpus, evaluated with a minimal literal-only evaluator.
