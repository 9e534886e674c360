//! The template layer with Ansible's filters: any template renders or errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

// The body lives in the library (src/fuzzing.rs) so tests/fuzz_corpora.rs replays the corpus.
fuzz_target!(|data: &[u8]| drover::fuzzing::template(data));
