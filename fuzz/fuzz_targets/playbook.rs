//! YAML → playbook front end: any bytes give a playbook or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/nonexistent/fuzz/site.yml");
    let Ok(text) = drover::yaml::loader_decode(data, path) else { return };
    if let Err(e) = drover::playbook::load_playbook_str(&text, path, &[]) {
        // Every error renders, and points somewhere when it has a span.
        let _ = drover::diagnostics::render(&e, false);
    }
});
