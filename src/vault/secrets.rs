//! Vault secrets: where passwords come from (`--vault-password-file`, `--vault-id
//! label@source`, `--ask-vault-pass`) and which one decrypts or encrypts what.
//!
//! Sources, as Ansible reads them:
//! - a plain file: its whole content with surrounding whitespace stripped;
//! - an executable file: run it, its standard output with trailing CR/LF stripped; a
//!   script whose name ends in `-client` (before any extension) gets `--vault-id LABEL`;
//! - `prompt`: asked on the terminal without echo.
//!
//! Passwords never appear in an error message or in `Debug` output.

use super::cipher::{self, CipherError};
use super::envelope::{Envelope, DEFAULT_LABEL};
use crate::diagnostics::{Error, ErrorKind, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// One password and the vault id label it is known by.
#[derive(Clone)]
pub struct VaultSecret {
    pub label: String,
    /// Where it came from (a path or `prompt`), for messages.
    pub source: String,
    password: Vec<u8>,
}

impl fmt::Debug for VaultSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultSecret({}@{})", self.label, self.source)
    }
}

impl Drop for VaultSecret {
    fn drop(&mut self) {
        self.password.fill(0);
    }
}

impl VaultSecret {
    /// A secret from bytes already in hand; an empty password is refused, as Ansible does.
    pub fn new(label: &str, source: &str, password: Vec<u8>) -> Result<Self> {
        if password.is_empty() {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("the vault password from {source} is empty"),
            ));
        }
        Ok(VaultSecret {
            label: label.to_string(),
            source: source.to_string(),
            password,
        })
    }

    pub fn password(&self) -> &[u8] {
        &self.password
    }
}

/// How to get one secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Prompt,
}

/// One `--vault-id`: `label@source`, or just `source` (label `default`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultId {
    pub label: String,
    pub source: Source,
}

impl VaultId {
    pub fn parse(spec: &str) -> VaultId {
        let (label, source) = match spec.split_once('@') {
            Some((l, s)) if !l.is_empty() => (l.to_string(), s),
            Some((_, s)) => (DEFAULT_LABEL.to_string(), s),
            None => (DEFAULT_LABEL.to_string(), spec),
        };
        let source = if source == "prompt" || source == "prompt_ask_vault_pass" {
            Source::Prompt
        } else {
            Source::File(PathBuf::from(source))
        };
        VaultId { label, source }
    }

    pub fn file(path: &Path) -> VaultId {
        VaultId {
            label: DEFAULT_LABEL.to_string(),
            source: Source::File(path.to_path_buf()),
        }
    }

    pub fn prompt() -> VaultId {
        VaultId {
            label: DEFAULT_LABEL.to_string(),
            source: Source::Prompt,
        }
    }

    /// Read the secret. `confirm` asks a prompt twice (for new passwords).
    pub fn load(&self, confirm: bool) -> Result<VaultSecret> {
        match &self.source {
            Source::File(path) => {
                let pw = read_password_file(path, &self.label)?;
                VaultSecret::new(&self.label, &path.display().to_string(), pw)
            }
            Source::Prompt => {
                let what = if self.label == DEFAULT_LABEL {
                    "Vault password".to_string()
                } else {
                    format!("Vault password ({})", self.label)
                };
                let what = if confirm { format!("New {what}") } else { what };
                let first = prompt(&format!("{what}: "))?;
                if confirm {
                    let again = prompt(&format!("Confirm {what}: "))?;
                    if first != again {
                        return Err(Error::new(ErrorKind::Invalid, "the passwords do not match"));
                    }
                }
                VaultSecret::new(&self.label, "prompt", first.into_bytes())
            }
        }
    }
}

fn prompt(text: &str) -> Result<String> {
    rpassword::prompt_password(text).map_err(|e| {
        Error::io(format!(
            "cannot prompt for the vault password: {e} (is there a terminal?)"
        ))
        .with_help("use --vault-password-file FILE when there is no terminal")
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `NAME-client` or `NAME-client.EXT`: a script that is told which vault id is wanted.
fn is_client_script(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.ends_with("-client"))
        || path
            .file_name()
            .and_then(|s| s.to_str())
            .is_some_and(|s| s.ends_with("-client"))
}

fn read_password_file(path: &Path, label: &str) -> Result<Vec<u8>> {
    if is_executable(path) {
        let mut cmd = std::process::Command::new(path);
        if is_client_script(path) {
            cmd.arg("--vault-id").arg(label);
        }
        let out = cmd
            .stdin(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| {
                Error::io(format!(
                    "cannot run the vault password script {}: {e}",
                    path.display()
                ))
            })?;
        if !out.status.success() {
            return Err(Error::io(format!(
                "the vault password script {} failed ({})",
                path.display(),
                out.status
            )));
        }
        let mut pw = out.stdout;
        while pw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            pw.pop();
        }
        return Ok(pw);
    }
    let data = std::fs::read(path).map_err(|e| {
        Error::io_at(path, &e).with_help("--vault-password-file and --vault-id name a file holding the password, or an executable printing it")
    })?;
    Ok(data.trim_ascii().to_vec())
}

/// Every secret given on the command line, in order (the first is preferred).
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    list: Vec<VaultSecret>,
}

/// Why no secret could decrypt a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecryptError {
    Format(String),
    NoSecrets,
    /// Every secret was tried; their labels.
    Failed {
        tried: Vec<String>,
        padding: bool,
    },
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::Format(m) => write!(f, "malformed vault data: {m}"),
            DecryptError::NoSecrets => f.write_str("no vault password was given"),
            DecryptError::Failed { padding: true, .. } => {
                f.write_str("the vault data is corrupt (invalid padding)")
            }
            DecryptError::Failed { tried, .. } => write!(
                f,
                "decryption failed: no vault password could decrypt it (tried vault id{} {}; wrong password, or the data was modified)",
                if tried.len() == 1 { "" } else { "s" },
                tried.join(", ")
            ),
        }
    }
}

impl Secrets {
    pub fn new(list: Vec<VaultSecret>) -> Self {
        Secrets { list }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &VaultSecret> {
        self.list.iter()
    }

    /// Load every id (each prompt is asked once).
    pub fn load(ids: &[VaultId]) -> Result<Secrets> {
        let mut list = Vec::new();
        for id in ids {
            list.push(id.load(false)?);
        }
        Ok(Secrets { list })
    }

    /// Decrypt a vault blob; returns the plaintext and the secret that opened it.
    /// The secrets labelled like the blob (`default` for format 1.1) are tried first,
    /// then all the others, as Ansible does.
    pub fn decrypt(&self, data: &[u8]) -> Result<(Vec<u8>, &VaultSecret), DecryptError> {
        let env = Envelope::parse(data).map_err(|e| DecryptError::Format(e.0))?;
        if self.list.is_empty() {
            return Err(DecryptError::NoSecrets);
        }
        let want = env.label.as_deref().unwrap_or(DEFAULT_LABEL);
        let ordered = self
            .list
            .iter()
            .filter(|s| s.label == want)
            .chain(self.list.iter().filter(|s| s.label != want));
        let mut tried = Vec::new();
        let mut padding = false;
        for secret in ordered {
            match cipher::decrypt(&env, &secret.password) {
                Ok(plain) => return Ok((plain, secret)),
                Err(CipherError::Padding) => padding = true,
                Err(_) => {}
            }
            if !tried.contains(&secret.label) {
                tried.push(secret.label.clone());
            }
        }
        Err(DecryptError::Failed { tried, padding })
    }

    /// The secret to encrypt with: the one named by `--encrypt-vault-id`, else the only
    /// one; several distinct ids without `--encrypt-vault-id` is an error (as Ansible).
    pub fn for_encrypt(&self, encrypt_vault_id: Option<&str>) -> Result<&VaultSecret> {
        let labels: Vec<&str> = {
            let mut l: Vec<&str> = Vec::new();
            for s in &self.list {
                if !l.contains(&s.label.as_str()) {
                    l.push(&s.label);
                }
            }
            l
        };
        match encrypt_vault_id {
            Some(id) => self.list.iter().find(|s| s.label == id).ok_or_else(|| {
                Error::new(
                    ErrorKind::Invalid,
                    format!(
                        "--encrypt-vault-id {id} matches none of the vault ids given ({})",
                        labels.join(", ")
                    ),
                )
            }),
            None if labels.len() > 1 => Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "the vault ids {} are available to encrypt with",
                    labels.join(", ")
                ),
            )
            .with_help("choose one with --encrypt-vault-id")),
            None => self.list.first().ok_or_else(|| {
                Error::new(ErrorKind::Invalid, "a vault password is needed to encrypt")
                    .with_help("pass --vault-password-file, --vault-id or --ask-vault-pass")
            }),
        }
    }
}

/// Encrypt `plaintext` with `secret`; its label goes into the header.
pub fn encrypt(plaintext: &[u8], secret: &VaultSecret) -> Result<String> {
    if super::envelope::is_encrypted(plaintext) {
        return Err(Error::new(
            ErrorKind::Invalid,
            "the input is already vault-encrypted",
        ));
    }
    cipher::encrypt(plaintext, &secret.password, Some(&secret.label))
        .map(|e| e.format())
        .map_err(|e| Error::io(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(label: &str, pw: &str) -> VaultSecret {
        VaultSecret::new(label, "test", pw.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn vault_id_specs() {
        assert_eq!(
            VaultId::parse("prod@/x/pw"),
            VaultId {
                label: "prod".into(),
                source: Source::File("/x/pw".into())
            }
        );
        assert_eq!(VaultId::parse("/x/pw").label, "default");
        assert_eq!(VaultId::parse("dev@prompt").source, Source::Prompt);
        assert_eq!(VaultId::parse("@f").label, "default");
    }

    #[test]
    fn labelled_secret_is_tried_first_then_all() {
        let s = Secrets::new(vec![secret("dev", "devpw"), secret("prod", "prodpw")]);
        let blob = encrypt(b"hello", &secret("prod", "prodpw")).unwrap();
        assert!(blob.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
        let (plain, used) = s.decrypt(blob.as_bytes()).unwrap();
        assert_eq!(plain, b"hello");
        assert_eq!(used.label, "prod");
        // A label that matches nothing still decrypts with whichever password fits.
        let blob = encrypt(b"hi", &secret("other", "devpw")).unwrap();
        assert_eq!(s.decrypt(blob.as_bytes()).unwrap().1.label, "dev");
    }

    #[test]
    fn wrong_passwords_name_the_ids_tried_never_the_password() {
        let s = Secrets::new(vec![secret("default", "nope-one"), secret("x", "nope-two")]);
        let blob = encrypt(b"hello", &secret("default", "right")).unwrap();
        let err = s.decrypt(blob.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("default, x"), "{err}");
        assert!(!err.contains("nope"), "{err}");
        assert_eq!(
            Secrets::default().decrypt(blob.as_bytes()).unwrap_err(),
            DecryptError::NoSecrets
        );
    }

    #[test]
    fn encrypt_secret_selection() {
        let s = Secrets::new(vec![secret("a", "1111"), secret("b", "2222")]);
        assert!(s.for_encrypt(None).is_err());
        assert_eq!(s.for_encrypt(Some("b")).unwrap().label, "b");
        assert!(s.for_encrypt(Some("c")).is_err());
        assert!(Secrets::default().for_encrypt(None).is_err());
        assert!(encrypt(b"$ANSIBLE_VAULT;1.1;AES256\n00", &secret("a", "1")).is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", secret("a", "hunter22"));
        assert!(!text.contains("hunter22"));
    }

    #[test]
    fn password_files_and_scripts() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "  pass word \n\n").unwrap();
        assert_eq!(
            VaultId::file(&f).load(false).unwrap().password(),
            b"pass word"
        );
        let script = dir.path().join("get-client.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\nprintf 'from-script %s %s\\r\\n' \"$1\" \"$2\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        let id = VaultId::parse(&format!("lab@{}", script.display()));
        assert_eq!(
            id.load(false).unwrap().password(),
            b"from-script --vault-id lab"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(VaultId::file(&empty).load(false).is_err());
        let failing = dir.path().join("fail");
        std::fs::write(&failing, "#!/bin/sh\nexit 3\n").unwrap();
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(VaultId::file(&failing).load(false).is_err());
        assert!(VaultId::file(&dir.path().join("missing"))
            .load(false)
            .is_err());
    }
}
