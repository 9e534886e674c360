//! INI inventory parser, then patterns and variable merging over what it produced.
#![no_main]
use libfuzzer_sys::fuzz_target;

// The body lives in the library (src/fuzzing.rs) so tests/fuzz_corpora.rs replays the corpus.
fuzz_target!(|data: &[u8]| drover::fuzzing::ini_inventory(data));
