//! Hostile strings in paths, contents and command arguments are handled literally: the
//! exact files appear, and nothing else runs (a canary file would prove it did).

use proptest::prelude::*;
use std::path::Path;
use std::process::Command;

/// Names built from the characters shells care about (no `{`: that is Jinja's business).
fn hostile_name() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        " ",
        "'",
        "\"",
        "$(touch CANARY)",
        "`touch CANARY`",
        "\n",
        "-",
        "--",
        ";",
        "&&",
        "|",
        "*",
        "?",
        "[a]",
        "\\",
        // `$` before names no environment sets (`$x`, `$file`) stays literal; a set one
        // (`$HOME`) is expanded in path arguments as Ansible's modules expand it there
        // (conformance case mod_path_env_expansion), so it is not a hostile literal.
        "$",
        "~",
        "%s",
        "é",
        "\t",
        "#",
        "!",
        "<",
        ">",
        "x",
        "file",
    ]);
    prop::collection::vec(atoms, 1..6).prop_map(|v| {
        let s: String = v.concat();
        // A file name cannot hold '/' or be '.'/'..'; make it start safely distinct.
        format!("n{}", s.replace('/', "_"))
    })
}

fn run(dir: &Path, names: &[String]) -> std::process::Output {
    let canary = dir.join("CANARY");
    let mut y = String::from("- hosts: localhost\n  gather_facts: no\n  tasks:\n");
    for (i, n) in names.iter().enumerate() {
        let path = serde_json::to_string(&format!("{}/{n}", dir.display())).unwrap();
        let content = serde_json::to_string(&format!("{n}\n")).unwrap();
        y.push_str(&format!(
            "    - copy: {{content: {content}, dest: {path}}}\n"
        ));
        let ln = serde_json::to_string(&format!("{}/line-{i}-{n}", dir.display())).unwrap();
        // A line is one line: newlines inside it are not lineinfile's business.
        let line = serde_json::to_string(&n.replace('\n', " ")).unwrap();
        y.push_str(&format!(
            "    - lineinfile: {{path: {ln}, line: {line}, create: yes}}\n"
        ));
        let d = serde_json::to_string(&format!("{}/dir-{i}-{n}", dir.display())).unwrap();
        y.push_str(&format!(
            "    - file: {{path: {d}, state: directory, mode: \"0750\"}}\n"
        ));
        let arg = serde_json::to_string(n).unwrap();
        let out = serde_json::to_string(&format!("{}/argv-{i}", dir.display())).unwrap();
        y.push_str(&format!("    - command:\n        argv: [\"/bin/sh\", \"-c\", 'printf %s \"$1\" > \"$2\"', \"sh\", {arg}, {out}]\n"));
        // Environment values reach the command as data.
        let env_out = serde_json::to_string(&format!("{}/env-{i}", dir.display())).unwrap();
        y.push_str(&format!(
            "    - shell: 'printf %s \"$HOSTILE\" > \"$OUT\"'\n      environment: {{HOSTILE: {arg}, OUT: {env_out}}}\n"
        ));
    }
    let play = dir.join("play.yml");
    std::fs::write(&play, y).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(!canary.exists(), "something ran a hostile string");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hostile_names_create_exactly_those_files(names in prop::collection::vec(hostile_name(), 1..4)) {
        let mut names = names;
        names.sort();
        names.dedup();
        let dir = tempfile::tempdir().unwrap();
        let out = run(dir.path(), &names);
        prop_assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        for (i, n) in names.iter().enumerate() {
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(n)).unwrap(), format!("{n}\n"));
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(format!("line-{i}-{n}"))).unwrap(), format!("{}\n", n.replace('\n', " ")));
            let d = dir.path().join(format!("dir-{i}-{n}"));
            prop_assert!(d.is_dir(), "{} is not a directory", d.display());
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(format!("argv-{i}"))).unwrap(), n.clone());
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(format!("env-{i}"))).unwrap(), n.clone());
        }
        // Exactly those, plus the playbook: no stray files from word splitting or globs.
        let count = std::fs::read_dir(dir.path()).unwrap().count();
        prop_assert_eq!(count, names.len() * 5 + 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// A hostile environment variable NAME (it reaches the remote shell as `export NAME=`)
    /// is refused before any host is touched, with the task's location.
    #[test]
    fn hostile_environment_names_are_refused_up_front(name in hostile_name()) {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let key = serde_json::to_string(&format!("X{name}; touch CANARY; Y")).unwrap();
        let play = format!(
            "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - file: {{path: {m}, state: touch}}\n    - command: 'true'\n      environment: {{{key}: v}}\n",
            m = serde_json::to_string(&marker.display().to_string()).unwrap()
        );
        std::fs::write(dir.path().join("play.yml"), play).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .args(["apply", "play.yml"])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        prop_assert_eq!(out.status.code(), Some(1), "{}", text);
        prop_assert!(text.contains("is not valid") && text.contains("play.yml:"), "{}", text);
        prop_assert!(!marker.exists(), "a task ran before the refusal");
        prop_assert!(!dir.path().join("CANARY").exists());
    }
}

#[test]
fn a_known_nasty_set() {
    let names: Vec<String> = [
        "a b",
        "it's",
        "$(touch CANARY)",
        "`touch CANARY`",
        "new\nline",
        "-rf",
        "*",
        "x;touch CANARY",
        "\"q\"",
    ]
    .iter()
    .map(|s| format!("n{s}"))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &names);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for n in &names {
        assert!(dir.path().join(n).exists(), "{n:?}");
    }
}

/// The same hostile names through the arguments of tempfile, find, getent, fetch,
/// script, ini_file, mount and known_hosts that reach a remote command (paths, prefixes,
/// suffixes, keys, chdir, creates, fstab): exactly the expected files appear, and the
/// canary never does.
fn run_new_modules(dir: &Path, names: &[String]) -> std::process::Output {
    let canary = dir.join("CANARY");
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("s.sh"), "#!/bin/sh\npwd > ran-here\n").unwrap();
    let mut y = String::from("- hosts: localhost\n  gather_facts: no\n  tasks:\n");
    let j = |s: String| serde_json::to_string(&s).unwrap();
    for (i, n) in names.iter().enumerate() {
        let d = j(format!("{}/dir-{i}-{n}", dir.display()));
        let f = j(format!("{}/{n}", dir.display()));
        let nn = j(n.clone());
        let prefix = j(format!("p{n}"));
        y.push_str(&format!(
            "    - file: {{path: {d}, state: directory}}\n\
             \x20   - copy: {{content: {nn}, dest: {f}}}\n\
             \x20   - tempfile: {{path: {d}, prefix: {prefix}, suffix: {nn}}}\n\
             \x20     register: t{i}\n\
             \x20   - find: {{paths: {d}, patterns: '*'}}\n\
             \x20     register: f{i}\n\
             \x20   - copy: {{content: \"{{{{ f{i}.matched }}}} {{{{ t{i}.path.startswith(dp + '/p') }}}}\", dest: {found}}}\n\
             \x20     vars: {{dp: {d}}}\n\
             \x20   - getent: {{database: passwd, key: {nn}, fail_key: no}}\n\
             \x20   - getent: {{database: {nn}, key: {nn}}}\n\
             \x20     ignore_errors: yes\n\
             \x20   - fetch: {{src: {f}, dest: {fetched}, flat: yes}}\n\
             \x20   - script: s.sh\n\
             \x20     args: {{chdir: {d}, creates: {missing}}}\n\
             \x20   - ini_file: {{path: {ini}, section: s, option: o, value: v}}\n\
             \x20   - mount: {{fstab: {fstab}, path: /x, src: /dev/x, fstype: ext4, state: present}}\n\
             \x20   - known_hosts: {{path: {kh}, name: example.com, key: 'example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDlq8qzsPu/Gc9wOnfA81kX63FZzd/5OeljrB4sGFHHw'}}\n",
            ini = j(format!("{}/ini-{i}-{n}", dir.display())),
            fstab = j(format!("{}/fstab-{i}-{n}", dir.display())),
            kh = j(format!("{}/kh-{i}-{n}", dir.display())),
            found = j(format!("{}/found-{i}", dir.display())),
            fetched = j(format!("{}/fetched-{i}/", dir.display())),
            missing = j(format!("{}/missing-{i}-{n}", dir.display())),
        ));
    }
    let play = dir.join("play.yml");
    std::fs::write(&play, y).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(!canary.exists(), "something ran a hostile string");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn hostile_names_in_the_newer_modules(names in prop::collection::vec(hostile_name(), 1..3)) {
        let mut names = names;
        names.sort();
        names.dedup();
        let dir = tempfile::tempdir().unwrap();
        let out = run_new_modules(dir.path(), &names);
        prop_assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        for (i, n) in names.iter().enumerate() {
            let d = dir.path().join(format!("dir-{i}-{n}"));
            // The temp file (its name made of the hostile prefix and suffix) and the
            // script's mark, both inside the hostile directory, nothing else.
            let inside: Vec<String> = std::fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            prop_assert_eq!(inside.len(), 2, "{:?}", inside);
            prop_assert!(inside.iter().any(|f| f.starts_with(&format!("p{n}")) && f.ends_with(n.as_str())), "{:?}", inside);
            let ran = std::fs::read_to_string(d.join("ran-here")).unwrap();
            prop_assert_eq!(ran.strip_suffix('\n').unwrap_or(&ran), d.display().to_string());
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(format!("found-{i}"))).unwrap(), "1 True");
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(format!("fetched-{i}")).join(n)).unwrap(), n.clone());
        }
        for (i, n) in names.iter().enumerate() {
            let read = |what: &str| std::fs::read_to_string(dir.path().join(format!("{what}-{i}-{n}"))).unwrap();
            prop_assert_eq!(read("ini"), "\n[s]\no = v\n");
            prop_assert_eq!(read("fstab"), "/dev/x /x ext4 defaults 0 0\n");
            prop_assert!(read("kh").starts_with("example.com ssh-ed25519 "));
        }
        // files/, play.yml, and per name: its file, dir, found, fetched, ini, fstab, kh.
        let count = std::fs::read_dir(dir.path()).unwrap().count();
        prop_assert_eq!(count, names.len() * 7 + 2);
    }
}
