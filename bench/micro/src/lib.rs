//! Micro-benchmarks for terrane; see benches/ and README.md.
