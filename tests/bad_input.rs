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
    (
        "async_poll0_module.yml",
        4,
        "'poll: 0' (run in the background) is not supported by drover for the module 'file'",
    ),
    ("async_negative.yml", 4, "'async' must be 0 or more seconds"),
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
    ("required_missing.yml", 3, "missing required arguments: src"),
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
    ("bad_delegate.yml", 4, "delegate_to names no host"),
    (
        "shipped_module/site.yml",
        4,
        "it is module code shipped with the content (",
    ),
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
    (
        "undefined_in_arg.yml",
        4,
        "'who' is undefined for host localhost",
    ),
    ("undefined_in_when.yml", 4, "'enabled_flag' is undefined"),
    ("undefined_in_loop.yml", 4, "'pkgs' is undefined"),
    ("bad_when_syntax.yml", 4, "invalid expression 'x =='"),
    ("bad_jinja.yml", 4, "template syntax error"),
    (
        "tmpl_undefined/site.yml",
        0,
        "'missing_var' is undefined for host localhost in template t.j2",
    ),
    ("tmpl_syntax/site.yml", 0, "template syntax error"),
    ("missing_template.yml", 3, "template 'nope.j2' not found"),
    ("loop_and_with_items.yml", 5, "only one loop"),
    (
        "listen_on_task.yml",
        4,
        "'listen' is only valid on handlers",
    ),
    ("bad_pattern_bracket.yml", 1, "unclosed '['"),
    ("serial_zero.yml", 2, "serial: 0"),
    ("missing_vars_file.yml", 3, "nope.yml"),
    // missing_include_tasks.yml: include_tasks is read when a host reaches it (as
    // Ansible); tests/dynamic_includes.rs checks the warning and the failure there.
    ("missing_include_role.yml", 3, "role 'nope' not found"),
    (
        "missing_import_playbook.yml",
        1,
        "imported playbook 'nope.yml' not found",
    ),
    ("notify_typo.yml", 3, "did you mean 'restart nginx'"),
    ("when_on_play.yml", 2, "'when' is not valid on a play"),
    ("include_removed.yml", 3, "'include' was removed"),
    ("free_form_not_kv.yml", 3, "is not a key=value argument"),
    ("bad_mode_int.yml", 3, "out of range for a mode"),
    ("task_not_mapping.yml", 3, "a task must be a mapping"),
    ("tasks_not_list.yml", 3, "a task list must be a list"),
    (
        "bad_serial.yml",
        2,
        "serial must be a number or a percentage",
    ),
    (
        "become_method_bad.yml",
        2,
        "become_method 'doas' is not supported",
    ),
    ("unknown_block_key.yml", 5, "did you mean 'rescue'"),
    (
        "bad_register_name.yml",
        4,
        "'my-result' is not a valid variable name",
    ),
    (
        "import_tasks_templated.yml",
        3,
        "import_tasks needs a literal file name",
    ),
    ("alias_unknown.yml", 0, "YAML syntax error"),
    ("bom_then_error.yml", 3, "unsupported argument 'bogus'"),
    ("role_bad_arg/site.yml", 0, "did you mean 'owner'"),
];

/// (inventory file, expected line, text the message must contain)
const INVENTORY_CASES: &[(&str, u32, &str)] = &[
    ("inv/ini_unclosed.ini", 1, "missing its closing ']'"),
    ("inv/ini_bad_kv.ini", 2, "expected key=value"),
    ("inv/yaml_unknown_key.yml", 2, "did you mean 'hosts'"),
    ("inv/yaml_cycle.yml", 0, "group cycle in inventory"),
    (
        "inv/ini_vars_no_eq.ini",
        2,
        "expected key=value in [web:vars]",
    ),
    (
        "inv/ini_bad_section.ini",
        1,
        "unknown section type ':nonsense'",
    ),
];

/// Run drover; describe what is wrong with the refusal, if anything.
fn refusal_problem(
    args: &[&std::ffi::OsStr],
    located_at: &Path,
    line: u32,
    needle: &str,
) -> Option<String> {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(cwd.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let located = line == 0 || err.contains(&format!("{}:{line}:", located_at.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(1) || !err.contains(needle) || !located || err.contains("panicked")
    {
        return Some(format!("exit {:?}, stderr:\n{err}", out.status.code()));
    }
    if !stdout.trim().is_empty() {
        return Some(format!("something ran before the error: {stdout}"));
    }
    None
}

fn check_all(cases: &[(&str, u32, &str)], args_for: impl Fn(&Path) -> Vec<std::ffi::OsString>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(file, line, needle)| {
            let path = dir.join(file);
            let args = args_for(&path);
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
            refusal_problem(&args, &path, *line, needle).map(|p| format!("{file}: {p}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_bad_input_is_refused_with_a_location() {
    check_all(CASES, |path| {
        vec![
            "apply".into(),
            path.into(),
            "-i".into(),
            "localhost,web1,".into(),
        ]
    });
}

#[test]
fn every_bad_inventory_is_refused_with_a_location() {
    let ok_play = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/ok_play.yml");
    check_all(INVENTORY_CASES, |inv| {
        vec![
            "apply".into(),
            ok_play.clone().into(),
            "-i".into(),
            inv.into(),
        ]
    });
}

#[test]
fn a_bad_limit_is_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(["apply", "--limit", "wbe1"])
        .arg(dir.join("ok_play.yml"))
        .args(["-i", "localhost,web1,"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("did you mean 'web1'"), "{err}");
}
