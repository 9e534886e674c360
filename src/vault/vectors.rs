//! Known-answer tests against blobs written by the real `ansible-vault`
//! (tests/fixtures/vault/, see its README).

use super::cipher;
use super::envelope::Envelope;
use super::secrets::{Secrets, VaultId};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vault")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn secrets(ids: &[&str]) -> Secrets {
    let ids: Vec<VaultId> = ids
        .iter()
        .map(|s| {
            let (l, f) = s.split_once('@').unwrap();
            VaultId::parse(&format!("{l}@{}", fixture(f).display()))
        })
        .collect();
    Secrets::load(&ids).unwrap()
}

/// The `$ANSIBLE_VAULT…` block of an `encrypt_string` output, unindented.
fn inline_blob(name: &str) -> String {
    let text = String::from_utf8(read(name)).unwrap();
    text.lines()
        .skip(1)
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

#[test]
fn decrypts_ansible_format_1_1_file() {
    let s = secrets(&["default@password.txt"]);
    let (plain, used) = s.decrypt(&read("v11.yml")).unwrap();
    assert_eq!(plain, read("plain.yml"));
    assert_eq!(used.label, "default");
}

#[test]
fn decrypts_ansible_format_1_2_file_with_label() {
    let env = Envelope::parse(&read("v12-prod.yml")).unwrap();
    assert_eq!(env.label.as_deref(), Some("prod"));
    assert_eq!(env.salt.len(), cipher::SALT_LEN);
    let s = secrets(&["default@password.txt", "prod@prod-password.txt"]);
    let (plain, used) = s.decrypt(&read("v12-prod.yml")).unwrap();
    assert_eq!(plain, read("plain.yml"));
    assert_eq!(used.label, "prod");
}

#[test]
fn decrypts_ansible_encrypt_string_output() {
    let s = secrets(&["default@password.txt", "prod@prod-password.txt"]);
    let (plain, _) = s.decrypt(inline_blob("inline-v11.yml").as_bytes()).unwrap();
    assert_eq!(plain, b"s3cr3t-value");
    let (plain, used) = s.decrypt(inline_blob("inline-v12.yml").as_bytes()).unwrap();
    assert_eq!(plain, b"tok-12345");
    assert_eq!(used.label, "prod");
}

#[test]
fn same_salt_gives_ansibles_exact_bytes() {
    let expected = String::from_utf8(read("fixed-salt.yml")).unwrap();
    let env = cipher::encrypt_with_salt(
        &read("plain.yml"),
        b"correct horse battery staple",
        b"drover-fixed-salt-0123456789abcd",
        None,
    );
    assert_eq!(env.format(), expected);
}

#[test]
fn wrong_password_on_ansible_data() {
    let s = secrets(&["default@prod-password.txt"]);
    let err = s.decrypt(&read("v11.yml")).unwrap_err().to_string();
    assert!(err.contains("decryption failed"), "{err}");
    assert!(!err.contains("prod-Vault-pass"), "{err}");
}

#[test]
fn tampered_ansible_data_is_refused() {
    let s = secrets(&["default@password.txt"]);
    let mut env = Envelope::parse(&read("v11.yml")).unwrap();
    let last = env.ciphertext.len() - 1;
    env.ciphertext[last] ^= 0x01;
    let err = s.decrypt(env.format().as_bytes()).unwrap_err().to_string();
    assert!(err.contains("decryption failed"), "{err}");
    // One flipped hex digit in the text breaks the HMAC too.
    let text = String::from_utf8(read("v11.yml")).unwrap();
    let pos = text.len() - 2;
    let flipped = if &text[pos..pos + 1] == "3" { "4" } else { "3" };
    let tampered = format!("{}{flipped}{}", &text[..pos], &text[pos + 1..]);
    assert!(s.decrypt(tampered.as_bytes()).is_err());
}
