//! Interoperability with the real `ansible-vault`, both ways, formats 1.1 and 1.2.
//!
//! The venv comes from `DROVER_ANSIBLE_VENV` (default `/var/cache/drover-test/venv`). If
//! it is missing these tests FAIL, saying how to create it, unless
//! `DROVER_SKIP_ANSIBLE_TESTS=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEFAULT_VENV: &str = "/var/cache/drover-test/venv";
const PLAIN: &str = "db_password: Interop-Secret-5t6y\nlist:\n  - 1\n";

/// The `ansible-vault` binary, or `None` when the tests are skipped on purpose.
fn ansible_vault() -> Option<PathBuf> {
    let venv = std::env::var_os("DROVER_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VENV));
    let bin = venv.join("bin/ansible-vault");
    if bin.exists() {
        return Some(bin);
    }
    if std::env::var("DROVER_SKIP_ANSIBLE_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "skipped: {} is missing and DROVER_SKIP_ANSIBLE_TESTS=1",
            bin.display()
        );
        return None;
    }
    panic!(
        "{} is missing. Create it with:\n  python3 -m venv {v} && {v}/bin/pip install ansible-core\n\
         (or point DROVER_ANSIBLE_VENV at a venv with ansible-core, or set DROVER_SKIP_ANSIBLE_TESTS=1 to skip)",
        bin.display(),
        v = venv.display()
    );
}

struct Env {
    dir: tempfile::TempDir,
    av: PathBuf,
}

impl Env {
    fn new() -> Option<Env> {
        let av = ansible_vault()?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw-default"), "Default-Pass-1\n").unwrap();
        std::fs::write(dir.path().join("pw-prod"), "Prod-Pass-2\n").unwrap();
        std::fs::write(dir.path().join("pw-new"), "New-Pass-3\n").unwrap();
        std::fs::write(dir.path().join("pw-wrong"), "Wrong-Pass-4\n").unwrap();
        std::fs::write(dir.path().join("plain.yml"), PLAIN).unwrap();
        Some(Env { dir, av })
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn id(&self, label: &str, file: &str) -> String {
        format!("{label}@{}", self.p(file).display())
    }

    fn ansible(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.av)
            .args(args)
            .current_dir(self.dir.path())
            .env("ANSIBLE_LOCAL_TEMP", self.p("ansible-tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .expect("run ansible-vault");
        out
    }

    fn drover(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("vault")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run drover")
    }
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn first_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The blob of an `encrypt_string` output, unindented (what `ansible-vault view` reads).
fn blob_of(inline: &str) -> String {
    inline
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

#[test]
fn ansible_encrypts_drover_decrypts_files_1_1_and_1_2() {
    let Some(e) = Env::new() else { return };
    let pw = e.p("pw-default").display().to_string();
    ok(&e.ansible(&[
        "encrypt",
        "--vault-password-file",
        &pw,
        "--output",
        "a11.yml",
        "plain.yml",
    ]));
    assert_eq!(first_line(&e.p("a11.yml")), "$ANSIBLE_VAULT;1.1;AES256");
    let prod = e.id("prod", "pw-prod");
    ok(&e.ansible(&[
        "encrypt",
        "--vault-id",
        &prod,
        "--output",
        "a12.yml",
        "plain.yml",
    ]));
    assert_eq!(
        first_line(&e.p("a12.yml")),
        "$ANSIBLE_VAULT;1.2;AES256;prod"
    );

    assert_eq!(
        ok(&e.drover(&["view", "--vault-password-file", &pw, "a11.yml"])),
        PLAIN
    );
    // Several ids: the labelled one opens the 1.2 file, the default one the 1.1 file.
    let dflt = e.id("default", "pw-default");
    let both = [
        "view",
        "--vault-id",
        &dflt,
        "--vault-id",
        &prod,
        "a11.yml",
        "a12.yml",
    ];
    assert_eq!(ok(&e.drover(&both)), format!("{PLAIN}{PLAIN}"));
    // Decrypt in place and to --output.
    ok(&e.drover(&[
        "decrypt",
        "--vault-id",
        &prod,
        "a12.yml",
        "--output",
        "out.yml",
    ]));
    assert_eq!(std::fs::read_to_string(e.p("out.yml")).unwrap(), PLAIN);
    ok(&e.drover(&["decrypt", "--vault-password-file", &pw, "a11.yml"]));
    assert_eq!(std::fs::read_to_string(e.p("a11.yml")).unwrap(), PLAIN);
}

#[test]
fn ansible_encrypt_string_drover_decrypts() {
    let Some(e) = Env::new() else { return };
    let pw = e.p("pw-default").display().to_string();
    let prod = e.id("prod", "pw-prod");
    for (args, label) in [
        (vec!["--vault-password-file", pw.as_str()], None),
        (vec!["--vault-id", prod.as_str()], Some("prod")),
    ] {
        let mut a = vec!["encrypt_string", "--name", "tok"];
        a.extend(&args);
        a.push("Str-Secret-8u9i");
        let inline = ok(&e.ansible(&a));
        assert!(inline.starts_with("tok: !vault |\n"), "{inline}");
        if let Some(l) = label {
            assert!(inline.contains(&format!(";1.2;AES256;{l}")), "{inline}");
        }
        std::fs::write(e.p("blob"), blob_of(&inline)).unwrap();
        let mut v = vec!["view"];
        v.extend(&args);
        v.push("blob");
        // `view` ends with a newline, as ansible-vault's does.
        assert_eq!(ok(&e.drover(&v)), "Str-Secret-8u9i\n");
    }
}

#[test]
fn drover_encrypts_ansible_decrypts_1_1_and_1_2() {
    let Some(e) = Env::new() else { return };
    let pw = e.p("pw-default").display().to_string();
    ok(&e.drover(&[
        "encrypt",
        "--vault-password-file",
        &pw,
        "--output",
        "d11.yml",
        "plain.yml",
    ]));
    assert_eq!(first_line(&e.p("d11.yml")), "$ANSIBLE_VAULT;1.1;AES256");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(e.p("d11.yml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        ok(&e.ansible(&["view", "--vault-password-file", &pw, "d11.yml"])),
        PLAIN
    );

    // Two ids: --encrypt-vault-id picks the label written into the 1.2 header.
    let dflt = e.id("default", "pw-default");
    let prod = e.id("prod", "pw-prod");
    let two = ["--vault-id", dflt.as_str(), "--vault-id", prod.as_str()];
    let mut a = vec!["encrypt"];
    a.extend(two);
    a.extend([
        "--encrypt-vault-id",
        "prod",
        "--output",
        "d12.yml",
        "plain.yml",
    ]);
    ok(&e.drover(&a));
    assert_eq!(
        first_line(&e.p("d12.yml")),
        "$ANSIBLE_VAULT;1.2;AES256;prod"
    );
    ok(&e.ansible(&["decrypt", "--vault-id", &prod, "d12.yml"]));
    assert_eq!(std::fs::read_to_string(e.p("d12.yml")).unwrap(), PLAIN);
    // Without --encrypt-vault-id, two ids are ambiguous (as with ansible-vault).
    let mut a = vec!["encrypt"];
    a.extend(two);
    a.extend(["--output", "x.yml", "plain.yml"]);
    let out = e.drover(&a);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--encrypt-vault-id"));
    assert!(!e.p("x.yml").exists());
}

#[test]
fn drover_encrypt_string_reads_in_ansible() {
    let Some(e) = Env::new() else { return };
    let prod = e.id("prod", "pw-prod");
    let inline = ok(&e.drover(&[
        "encrypt_string",
        "--vault-id",
        &prod,
        "--name",
        "tok",
        "Dr-Secret-0o9i",
    ]));
    let lines: Vec<&str> = inline.lines().collect();
    assert_eq!(lines[0], "tok: !vault |");
    assert_eq!(lines[1], "          $ANSIBLE_VAULT;1.2;AES256;prod");
    assert!(lines[2..]
        .iter()
        .all(|l| l.starts_with("          ") && l.len() <= 90));
    std::fs::write(e.p("blob"), blob_of(&inline)).unwrap();
    assert_eq!(
        ok(&e.ansible(&["view", "--vault-id", &prod, "blob"])),
        "Dr-Secret-0o9i\n"
    );
    // Ansible's YAML loader accepts the block as printed: use it as a vars file.
    std::fs::write(e.p("vars.yml"), &inline).unwrap();
    let ansible = e.av.with_file_name("ansible");
    let out = Command::new(ansible)
        .args([
            "localhost",
            "-c",
            "local",
            "-m",
            "debug",
            "-a",
            "var=tok",
            "-e",
            "@vars.yml",
        ])
        .args(["--vault-id", &prod])
        .current_dir(e.dir.path())
        .env("ANSIBLE_LOCAL_TEMP", e.p("ansible-tmp"))
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
        .output()
        .unwrap();
    assert!(ok(&out).contains("Dr-Secret-0o9i"));
}

#[test]
fn rekey_both_ways() {
    let Some(e) = Env::new() else { return };
    let pw = e.p("pw-default").display().to_string();
    let new = e.p("pw-new").display().to_string();
    // ansible encrypts, drover rekeys to a new labelled id, ansible reads it.
    ok(&e.ansible(&[
        "encrypt",
        "--vault-password-file",
        &pw,
        "--output",
        "r.yml",
        "plain.yml",
    ]));
    ok(&e.drover(&[
        "rekey",
        "--vault-password-file",
        &pw,
        "--new-vault-id",
        &e.id("dev", "pw-new"),
        "r.yml",
    ]));
    assert_eq!(first_line(&e.p("r.yml")), "$ANSIBLE_VAULT;1.2;AES256;dev");
    assert_eq!(
        ok(&e.ansible(&["view", "--vault-password-file", &new, "r.yml"])),
        PLAIN
    );
    // ansible rekeys back, drover reads it.
    ok(&e.ansible(&[
        "rekey",
        "--vault-password-file",
        &new,
        "--new-vault-password-file",
        &pw,
        "r.yml",
    ]));
    assert_eq!(
        ok(&e.drover(&["view", "--vault-password-file", &pw, "r.yml"])),
        PLAIN
    );
    // drover rekey with --new-vault-password-file keeps format 1.1.
    ok(&e.drover(&[
        "rekey",
        "--vault-password-file",
        &pw,
        "--new-vault-password-file",
        &new,
        "r.yml",
    ]));
    assert_eq!(first_line(&e.p("r.yml")), "$ANSIBLE_VAULT;1.1;AES256");
    assert_eq!(
        ok(&e.ansible(&["view", "--vault-password-file", &new, "r.yml"])),
        PLAIN
    );
}

#[test]
fn wrong_password_fails_cleanly_and_writes_nothing() {
    let Some(e) = Env::new() else { return };
    let pw = e.p("pw-default").display().to_string();
    let wrong = e.p("pw-wrong").display().to_string();
    ok(&e.ansible(&[
        "encrypt",
        "--vault-password-file",
        &pw,
        "--output",
        "w.yml",
        "plain.yml",
    ]));
    let before = std::fs::read(e.p("w.yml")).unwrap();
    for args in [
        vec![
            "decrypt",
            "--vault-password-file",
            &wrong,
            "w.yml",
            "--output",
            "new.yml",
        ],
        vec!["decrypt", "--vault-password-file", &wrong, "w.yml"],
        vec!["view", "--vault-password-file", &wrong, "w.yml"],
        vec![
            "rekey",
            "--vault-password-file",
            &wrong,
            "--new-vault-password-file",
            &pw,
            "w.yml",
        ],
    ] {
        let out = e.drover(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot decrypt"), "{err}");
        assert!(err.contains("w.yml"), "{err}");
        assert!(
            !err.contains("Wrong-Pass-4") && !err.contains("Default-Pass-1"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!e.p("new.yml").exists(), "{args:?}");
        assert_eq!(std::fs::read(e.p("w.yml")).unwrap(), before, "{args:?}");
    }
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|d| d.ok())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".drover-vault-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // ansible-vault agrees the password is wrong.
    let out = e.ansible(&["view", "--vault-password-file", &wrong, "w.yml"]);
    assert_eq!(out.status.code(), Some(1));
}
