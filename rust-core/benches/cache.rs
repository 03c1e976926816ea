//! Benchmarks of the token cache.
fn main() {}
