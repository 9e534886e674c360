//! INI inventory parser, then patterns and variable merging over what it produced.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut inv = drover::inventory::Inventory::new();
    if drover::inventory::ini::parse(text, Path::new("hosts"), &mut inv).is_ok() {
        inv.finish();
        for h in inv.hosts.keys().take(8).cloned().collect::<Vec<_>>() {
            let _ = inv.host_vars(&h);
            let _ = inv.group_names(&h);
        }
        let _ = drover::inventory::pattern::select(&inv, "all:!ungrouped");
    }
});
