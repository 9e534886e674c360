//! The template layer with Ansible's filters: any template renders or errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minijinja::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if text.len() > 4096 {
        return;
    }
    let env = drover::template::environment();
    let ctx = Value::from_iter([
        ("name", Value::from("web1")),
        ("items", Value::from(vec![Value::from(1), Value::from("two"), Value::from(3.5)])),
        ("conf", Value::from_iter([("port", Value::from(80)), ("tls", Value::from(true))])),
    ]);
    let _ = drover::template::render_str(&env, text, &ctx);
});
