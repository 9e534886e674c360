//! Bad input is refused before any host is touched, with file:line:column and a message a
//! person can act on, and never a panic.

use std::path::Path;
use std::process::Command;

/// (fixture, expected line, text the message must contain)
const CASES: &[(&str, u32, &str)] = &[
    ("malformed_yaml.yml", 3, "YAML syntax error"),
    ("unknown_module.yml", 4, "unknown module 'copyy'"),
    ("misspelled_arg.yml", 3, "did you mean 'dest'"),
    ("unknown_arg.yml", 3, "unsupported argument 'colour'"),
    ("wrong_type.yml", 3, "must be a file mode"),
    ("wrong_choice.yml", 3, "must be one of file, directory"),
    ("duplicate_key.yml", 4, "duplicate key 'name'"),
    ("two_modules.yml", 4, "only one module"),
    ("unknown_play_key.yml", 2, "did you mean 'tasks'"),
    ("unsupported_async.yml", 4, "'async' is not supported"),
    ("missing_role.yml", 3, "role 'nosuchrole' not found"),
    ("bad_pattern.yml", 1, "'webz' matches no group or host"),
    ("missing_handler.yml", 3, "no handler named 'restart it'"),
    ("not_a_list.yml", 1, "must be a list of plays"),
    ("missing_import.yml", 3, "task file 'nope.yml' not found"),
    (
        "bad_var_name.yml",
        3,
        "'bad-name' is not a valid variable name",
    ),
    ("empty_task.yml", 3, "empty task"),
    ("no_hosts.yml", 1, "play has no 'hosts'"),
    (
        "required_missing.yml",
        3,
        "template needs the argument 'src'",
    ),
    ("exclusive_args.yml", 3, "mutually exclusive"),
    (
        "bad_loop_control.yml",
        5,
        "unknown loop_control key 'loop_vra'",
    ),
    (
        "strategy_linear.yml",
        2,
        "strategy 'linear' is not supported",
    ),
    ("bad_delegate.yml", 4, "delegate_to: db1 is not supported"),
    (
        "collection_module.yml",
        3,
        "unknown module 'community.general.ufw'",
    ),
    ("bad_tag_type.yml", 4, "must be a string"),
    ("bad_become.yml", 2, "become must be a boolean"),
    ("bad_yaml_tab.yml", 1, "YAML syntax error"),
    ("unknown_yaml_tag.yml", 3, "unsupported YAML tag '!env'"),
    (
        "role_cycle/site.yml",
        0,
        "role dependency cycle: a -> b -> a",
    ),
    ("import_loop.yml", 0, "import each other in a loop"),
    ("invalid_utf8.yml", 1, "not valid UTF-8"),
];

#[test]
fn every_bad_input_is_refused_with_a_location() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let canary = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (file, line, needle) in CASES {
        let path = dir.join(file);
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&path)
            .arg("-i")
            .arg("localhost,web1,")
            .env("NO_COLOR", "1")
            .current_dir(canary.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let located = *line == 0 || err.contains(&format!("{}:{line}:", path.display()));
        if out.status.code() != Some(1)
            || !err.contains(needle)
            || !located
            || err.contains("panicked")
        {
            failures.push(format!(
                "{file}: exit {:?}, stderr:\n{err}",
                out.status.code()
            ));
        }
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            failures.push(format!(
                "{file}: something ran before the error: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
