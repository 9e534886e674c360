//! A generated corpus of bad inputs, built from drover's own tables (every module's
//! arguments, every refused keyword) plus YAML and file-level damage. Each must be refused
//! before any host is touched: exit 1, a located message, nothing run, no panic.

use drover::modules::{registry, ArgType};
use drover::playbook::keywords::UNSUPPORTED;
use std::path::Path;
use std::process::Command;

struct Case {
    name: String,
    text: Vec<u8>,
    /// Text the error must contain.
    needle: String,
    /// The line the error must point at (0: only that it names the file).
    line: u32,
}

fn task(body: &str) -> String {
    format!("- hosts: all\n  gather_facts: no\n  tasks:\n    - name: t\n{body}")
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let mut add = |name: String, text: String, needle: &str, line: u32| {
        v.push(Case {
            name,
            text: text.into_bytes(),
            needle: needle.into(),
            line,
        })
    };
    for m in registry() {
        let spec = m.spec();
        // The name a task calls it by: a module drover has from a collection by its
        // FQCN (a short name only its collection provides is unknown without
        // `collections:`, as in Ansible).
        let call = spec
            .aliases
            .iter()
            .copied()
            .find(|a| a.matches('.').count() >= 2 && !a.starts_with("ansible."))
            .unwrap_or(spec.name);
        if !spec.any_keys && spec.name != "meta" {
            add(
                format!("{}-unknown-arg", spec.name),
                task(&format!("      {call}:\n        zz_not_an_arg: 1\n")),
                "unsupported argument 'zz_not_an_arg'",
                6,
            );
        }
        for a in spec.args {
            let bad = match a.ty {
                ArgType::Bool => Some(("maybe-not", "must be a boolean")),
                ArgType::Int => Some(("twelve", "must be an integer")),
                ArgType::Mode => Some(("rwxr-x", "must be a file mode")),
                ArgType::Dict => Some(("[1, 2]", "must be a mapping")),
                ArgType::Float => Some(("fast", "must be a number")),
                _ if !a.choices.is_empty() => Some(("zz-no-such-choice", "must be one of")),
                _ => None,
            };
            if let Some((value, needle)) = bad {
                add(
                    format!("{}-{}-bad-value", spec.name, a.name),
                    task(&format!("      {call}:\n        {}: {value}\n", a.name)),
                    needle,
                    6,
                );
            }
        }
        for a in spec.args.iter().filter(|a| a.required) {
            if spec.args.len() > 1 {
                let other = spec
                    .args
                    .iter()
                    .find(|o| o.name != a.name && !o.required)
                    .map(|o| o.name)
                    .unwrap_or("zz");
                let value = match spec.args.iter().find(|o| o.name == other).map(|o| o.ty) {
                    Some(ArgType::Bool) => "yes",
                    Some(ArgType::Int) => "1",
                    Some(ArgType::Mode) => "'0644'",
                    Some(ArgType::List) => "[a]",
                    Some(ArgType::Dict) => "{}",
                    _ => "x",
                };
                let choice_ok = spec
                    .args
                    .iter()
                    .find(|o| o.name == other)
                    .and_then(|o| o.choices.first().copied());
                let value = choice_ok.unwrap_or(value);
                // Ansible's words; copy's action plugin has its own for dest.
                let expected = if (spec.name, a.name) == ("copy", "dest") {
                    "dest is required"
                } else {
                    "missing required arguments: "
                };
                add(
                    format!("{}-missing-{}", spec.name, a.name),
                    task(&format!("      {call}:\n        {other}: {value}\n")),
                    expected,
                    0,
                );
            }
        }
    }
    for (kw, _) in UNSUPPORTED {
        add(
            format!("task-{kw}"),
            task(&format!("      debug: msg=x\n      {kw}: 1\n")),
            &format!("'{kw}' is not supported"),
            6,
        );
        add(
            format!("play-{kw}"),
            format!("- hosts: all\n  {kw}: 1\n  tasks: []\n"),
            &format!("'{kw}' is not supported"),
            2,
        );
    }
    let play_types: &[(&str, &str, &str)] = &[
        ("become", "maybe", "become must be a boolean"),
        ("gather_facts", "perhaps", "gather_facts must be a boolean"),
        ("serial", "lots", "serial must be a number"),
        ("vars", "[1, 2]", "an entry of vars must be a mapping"),
        (
            "any_errors_fatal",
            "sometimes",
            "any_errors_fatal must be a boolean",
        ),
        (
            "max_fail_percentage",
            "many",
            "max_fail_percentage must be a number",
        ),
        ("roles", "web", "roles must be a list"),
        ("tasks", "{a: 1}", "a task list must be a list"),
        ("check_mode", "kinda", "check_mode must be a boolean"),
        ("force_handlers", "yess", "force_handlers must be a boolean"),
    ];
    for (k, val, needle) in play_types {
        add(
            format!("play-{k}-type"),
            format!("- hosts: all\n  {k}: {val}\n"),
            needle,
            2,
        );
    }
    let task_types: &[(&str, &str, &str)] = &[
        ("register", "'bad name'", "is not a valid variable name"),
        ("loop_control", "x", "loop_control must be a mapping"),
        (
            "when",
            "{a: 1}",
            "a condition must be a string or a boolean",
        ),
        (
            "changed_when",
            "[{a: 1}]",
            "a condition must be a string or a boolean",
        ),
        ("become", "perhaps", "become must be a boolean"),
        ("no_log", "kinda", "no_log must be a boolean"),
        ("vars", "[1]", "an entry of vars must be a mapping"),
        ("notify", "{a: 1}", "notify must be a string"),
        ("delegate_to", "''", "delegate_to names no host"),
        (
            "delegate_facts",
            "sometimes",
            "delegate_facts must be a boolean",
        ),
        (
            "become_method",
            "pbrun",
            "become_method 'pbrun' is not supported",
        ),
        ("bogus_keyword", "1", "is not a valid keyword for a task"),
        ("nmae", "x", "did you mean"),
    ];
    for (k, val, needle) in task_types {
        add(
            format!("task-{k}-type"),
            task(&format!("      debug: msg=x\n      {k}: {val}\n")),
            needle,
            6,
        );
    }
    let yaml: &[(&str, &str, u32)] = &[
        ("unclosed-flow-seq", "- hosts: all\n  tasks: [\n", 0),
        ("unclosed-flow-map", "- hosts: {a: 1\n", 0),
        ("unclosed-quote", "- hosts: \"all\n  tasks: []\n", 0),
        ("bad-indent", "- hosts: all\n tasks: []\n", 0),
        ("tab-indent", "- hosts: all\n\ttasks: []\n", 0),
        ("unknown-anchor", "- hosts: *nowhere\n", 0),
        ("dup-play-key", "- hosts: all\n  hosts: web\n", 2),
        ("dup-var", "- hosts: all\n  vars:\n    a: 1\n    a: 2\n", 4),
        ("bad-tag", "- hosts: !!binary all\n", 1),
        ("custom-tag", "- hosts: all\n  vars:\n    a: !Ref x\n", 3),
        ("int-tag-bad", "- hosts: all\n  vars:\n    a: !!int x\n", 3),
        ("stray-colon", "- hosts: all: web\n", 0),
        (
            "block-scalar-bad",
            "- hosts: all\n  vars:\n    a: |\n  b\n",
            0,
        ),
        ("doc-marker-junk", "--- !!map\n- hosts: all\n", 0),
    ];
    for (n, t, line) in yaml {
        add(format!("yaml-{n}"), t.to_string(), "", *line);
    }
    let mut deep = String::from("- hosts: all\n  vars:\n    a: ");
    deep.push_str(&"[".repeat(400));
    deep.push_str(&"]".repeat(400));
    deep.push('\n');
    add("yaml-deep-nesting".into(), deep, "nesting deeper than", 3);
    let mut bomb =
        String::from("- hosts: all\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!("    a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    add("yaml-alias-bomb".into(), bomb, "alias bomb", 0);
    add("var-recursion".into(), "- hosts: all\n  vars:\n    a: \"{{ b }}\"\n    b: \"{{ a }}\"\n  tasks:\n    - debug: msg={{ a }}\n".into(), "refer to each other in a loop", 0);
    add(
        "var-self-recursion".into(),
        "- hosts: all\n  vars:\n    a: \"{{ a }}-x\"\n  tasks:\n    - debug: msg={{ a }}\n".into(),
        "refer to each other in a loop",
        0,
    );
    v.push(Case {
        name: "binary-file".into(),
        text: vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 0xff, 0xfe],
        needle: "".into(),
        line: 1,
    });
    v.push(Case {
        name: "utf16-bom".into(),
        text: b"\xff\xfe-\x00 \x00h\x00".to_vec(),
        needle: "not valid UTF-8".into(),
        line: 1,
    });
    v.push(Case {
        name: "latin1".into(),
        text: b"- hosts: all\n  vars:\n    a: caf\xe9\n".to_vec(),
        needle: "not valid UTF-8".into(),
        line: 3,
    });
    v.push(Case {
        name: "nul-byte".into(),
        text: b"- hosts: all\n\0\n".to_vec(),
        needle: "NUL byte".into(),
        line: 2,
    });
    v.push(Case {
        name: "empty-play".into(),
        text: b"- {}\n".to_vec(),
        needle: "play has no 'hosts'".into(),
        line: 1,
    });
    v.push(Case {
        name: "scalar-doc".into(),
        text: b"just words\n".to_vec(),
        needle: "must be a list of plays".into(),
        line: 1,
    });
    v
}

fn check(dir: &Path, case: &Case, failures: &mut Vec<String>) {
    let path = dir.join(format!("{}.yml", case.name));
    std::fs::write(&path, &case.text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&path)
        .args(["-i", "localhost,", "-e", "root=/nonexistent-drover-root"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let located = if case.line == 0 {
        err.contains(&path.display().to_string())
    } else {
        err.contains(&format!("{}:{}:", path.display(), case.line))
    };
    let problems = [
        (out.status.code() != Some(1), "exit code is not 1"),
        (
            !err.contains(&case.needle),
            "message lacks the expected text",
        ),
        (!located, "error does not point at the file/line"),
        (err.contains("panicked"), "panic"),
        (
            !String::from_utf8_lossy(&out.stdout).trim().is_empty(),
            "something ran",
        ),
        (
            !err.contains("help:")
                && !err.contains("= help")
                && case.needle.is_empty()
                && !err.contains("YAML syntax error")
                && !err.contains("unsupported YAML tag")
                && !err.contains("duplicate key")
                && !err.contains("UTF-8"),
            "no help text",
        ),
    ];
    for (bad, what) in problems {
        if bad {
            failures.push(format!(
                "{}: {what} (exit {:?})\n{err}",
                case.name,
                out.status.code()
            ));
            return;
        }
    }
}

#[test]
fn generated_bad_inputs_are_refused_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let all = cases();
    assert!(all.len() >= 150, "only {} generated cases", all.len());
    let mut failures = Vec::new();
    for c in &all {
        check(dir.path(), c, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} of {} generated cases wrong:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn a_file_too_large_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(40 * 1024 * 1024).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than the 32 MiB"));
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_in_roles_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("roles/web")).unwrap();
    std::os::unix::fs::symlink("tasks", dir.path().join("roles/web/tasks")).unwrap();
    let play = dir.path().join("site.yml");
    std::fs::write(&play, "- hosts: all\n  roles: [web]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("roles/web/tasks"), "{err}");
}
