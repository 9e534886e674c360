//! Host patterns (`--limit`, `hosts:`) against a fixed inventory.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else { return };
    let mut inv = drover::inventory::Inventory::new();
    for (h, g) in [("web1", "web"), ("web2", "web"), ("db1", "db"), ("lb", "edge")] {
        inv.add_host_to_group(h, g);
    }
    inv.add_child("prod", "web");
    inv.finish();
    let _ = drover::inventory::pattern::select(&inv, pattern);
});
