//! The bodies of the `cargo fuzz` targets (`fuzz/fuzz_targets/`), kept here so that
//! `tests/fuzz_corpora.rs` replays every stored corpus input through exactly the code the
//! fuzzer exercises: an input that once crashed stays a test. Each function must return
//! (an `Ok` or an error, rendered), never panic.

use minijinja::Value;
use std::path::Path;

/// YAML → playbook front end: any bytes give a playbook or a located error.
pub fn playbook(data: &[u8]) {
    let path = Path::new("/nonexistent/fuzz/site.yml");
    let Ok(text) = crate::yaml::loader_decode(data, path) else {
        return;
    };
    if let Err(e) = crate::playbook::load_playbook_str(&text, path, &[]) {
        // Every error renders, and points somewhere when it has a span.
        let _ = crate::diagnostics::render(&e, false);
    }
}

/// The INI inventory parser, then what the engine asks of a parsed inventory.
pub fn ini_inventory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut inv = crate::inventory::Inventory::new();
    if crate::inventory::ini::parse(text, Path::new("hosts"), &mut inv).is_ok() {
        inv.finish();
        for h in inv.hosts.keys().take(8).cloned().collect::<Vec<_>>() {
            let _ = inv.host_vars(&h);
            let _ = inv.group_names(&h);
        }
        let _ = crate::inventory::pattern::select(&inv, "all:!ungrouped");
    }
}

/// The template layer with Ansible's filters: any template renders or errors.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Long inputs only slow the fuzzer down without reaching new code.
    if text.len() > 4096 {
        return;
    }
    let env = crate::template::environment();
    let ctx = Value::from_iter([
        ("name", Value::from("web1")),
        (
            "items",
            Value::from(vec![Value::from(1), Value::from("two"), Value::from(3.5)]),
        ),
        (
            "conf",
            Value::from_iter([("port", Value::from(80)), ("tls", Value::from(true))]),
        ),
    ]);
    let _ = crate::template::render_str(&env, text, &ctx);
}

/// Host patterns against a small inventory with groups and a child group.
pub fn host_pattern(data: &[u8]) {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    let mut inv = crate::inventory::Inventory::new();
    for (h, g) in [
        ("web1", "web"),
        ("web2", "web"),
        ("db1", "db"),
        ("lb", "edge"),
    ] {
        inv.add_host_to_group(h, g);
    }
    inv.add_child("prod", "web");
    inv.finish();
    let _ = crate::inventory::pattern::select(&inv, pattern);
}
