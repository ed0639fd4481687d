//! Editor frame cost (filled in below).
fn main() {}
