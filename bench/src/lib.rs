//! Benchmark tools: a deterministic generator of realistic native bundles, and the decode-only
//! floor the analyzer is measured against.
