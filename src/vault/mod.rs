//! Ansible Vault: formats 1.1 and 1.2 (AES256), secrets from files, scripts and prompts,
//! and masking of every decrypted value in output.
//!
//! - [`envelope`]: the header and the hex text around vault data;
//! - [`cipher`]: PBKDF2 / AES-256-CTR / HMAC-SHA256;
//! - [`secrets`]: password sources, and which password opens or seals what;
//! - [`store`]: the process-wide secrets and the registry of values to mask;
//! - [`undecryptable`]: an inline value no password given opens, failing where used.
//!
//! The rest of drover uses the functions below: the YAML loader and the copy and
//! template modules decrypt with [`decrypt_file`] / [`open_inline`], output calls
//! [`mask`]; an inline value no password opens is an [`undecryptable`] value.

pub(crate) mod cipher;
pub(crate) mod envelope;
pub(crate) mod secrets;
pub(crate) mod store;
pub(crate) mod undecryptable;

pub(crate) use envelope::is_encrypted;
pub(crate) use secrets::Secrets;
pub use store::mask;
pub(crate) use store::{install, installed, register_secret};

use crate::diagnostics::{Error, ErrorKind, Result, Span};
use std::path::Path;

const NO_PASSWORD_HELP: &str =
    "pass --vault-password-file FILE, --vault-id LABEL@SOURCE or --ask-vault-pass";

fn decrypt_help(e: &secrets::DecryptError) -> &'static str {
    match e {
        secrets::DecryptError::Format(_) => {
            "the vault data is damaged or truncated: encrypt it again (drover vault encrypt / encrypt_string)"
        }
        secrets::DecryptError::NoSecrets => NO_PASSWORD_HELP,
        secrets::DecryptError::Failed { .. } => {
            "check the vault password (--vault-password-file, --vault-id, --ask-vault-pass)"
        }
    }
}

/// Decrypt a whole vault-encrypted file's content with `secrets` (the installed ones
/// when `None` is passed by callers that use [`installed`]). Errors name the file.
/// The plaintext is not registered for masking: callers decide what is secret.
pub fn decrypt_file(data: &[u8], path: &Path, secrets: Option<&Secrets>) -> Result<Vec<u8>> {
    let Some(secrets) = secrets.filter(|s| !s.is_empty()) else {
        return Err(Error::new(
            ErrorKind::Invalid,
            // Ansible's words (its loader's).
            format!(
                "A vault password or secret must be specified to decrypt {}",
                path.display()
            ),
        )
        .at(Span::file(path))
        .with_help(NO_PASSWORD_HELP));
    };
    secrets.decrypt(data).map(|(plain, _)| plain).map_err(|e| {
        Error::new(
            ErrorKind::Invalid,
            format!("cannot decrypt {}: {e}", path.display()),
        )
        .at(Span::file(path))
        .with_help(decrypt_help(&e))
    })
}

/// An inline `!vault` value found at `span`, opened if a password given opens it
/// (the plaintext is then registered for masking), else `None`: kept encrypted, it fails
/// where it is used (see [`undecryptable`]), as in ansible-core 2.19. Damaged vault text
/// is an error now.
pub fn open_inline(
    ciphertext: &str,
    span: &Span,
    secrets: Option<&Secrets>,
) -> Result<Option<String>> {
    let located = |e: secrets::DecryptError| {
        Error::invalid(
            format!("cannot decrypt the vault-encrypted value: {e}"),
            span,
        )
        .with_help(decrypt_help(&e))
    };
    if let Err(e) = envelope::Envelope::parse(ciphertext.as_bytes()) {
        return Err(located(secrets::DecryptError::Format(e.0)));
    }
    let Some(secrets) = secrets.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match secrets.decrypt(ciphertext.as_bytes()) {
        Ok((plain, _)) => {
            let text = String::from_utf8(plain)
                .map_err(|_| Error::invalid("the vault-encrypted value is not UTF-8 text", span))?;
            register_secret(&text);
            Ok(Some(text))
        }
        Err(secrets::DecryptError::Failed { padding: false, .. }) => Ok(None),
        Err(e) => Err(located(e)),
    }
}

/// A controller file (copy/template `src`, lookups): decrypted with the installed secrets
/// if it is vault-encrypted, each line of its plaintext registered for masking.
pub fn read_controller_file(data: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !is_encrypted(&data) {
        return Ok(data);
    }
    let plain = decrypt_file(&data, path, installed())?;
    register_secret(&String::from_utf8_lossy(&plain));
    Ok(plain)
}

#[cfg(test)]
mod vectors;
