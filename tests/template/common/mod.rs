#![allow(dead_code)]

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};

/// An environment configured the way drover configures it.
pub fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    drover::template::ansible::register(&mut env);
    env
}

fn context() -> Value {
    let json = r#"{
        "users": [{"name": "bob", "age": 30, "admin": true}, {"name": "al", "age": 20}],
        "d": {"a": 1, "b": {"c": [1, 2]}},
        "ml": "line1\nline2\n",
        "res_ok": {"changed": true, "failed": false},
        "res_fail": {"failed": true, "msg": "boom"},
        "res_skip": {"skipped": true, "changed": false},
        "res_loop": {"results": [{"changed": false}, {"changed": true}]},
        "empty": ""
    }"#;
    let parsed: serde_json::Value = serde_json::from_str(json).expect("valid test context");
    Value::from_serialize(parsed)
}

/// Renders a template with the shared test context, panicking on errors.
pub fn render(src: &str) -> String {
    let env = env();
    match env.render_str(src, context()) {
        Ok(s) => s,
        Err(e) => panic!("render of {src:?} failed: {e:#}"),
    }
}

/// Renders a template that must fail and returns the error text.
pub fn render_err(src: &str) -> String {
    let env = env();
    match env.render_str(src, context()) {
        Ok(s) => panic!("render of {src:?} unexpectedly succeeded with {s:?}"),
        Err(e) => format!("{e:#}"),
    }
}

/// Asserts that a template fails with a message containing `needle`.
pub fn assert_err(src: &str, needle: &str) {
    let msg = render_err(src);
    assert!(
        msg.contains(needle),
        "error for {src:?} was {msg:?}, expected it to contain {needle:?}"
    );
}
