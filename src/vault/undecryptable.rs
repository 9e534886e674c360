//! An inline `!vault` value that no given password opens. As ansible-core 2.19 does, it
//! is kept encrypted and fails only where it is used (printed, serialized, passed to a
//! module), so content that never touches it runs without the password; the `unvault`
//! filter opens it with an explicit secret.

use crate::diagnostics::Span;
use minijinja::value::{Object, ObjectRepr, Value};
use std::sync::{Arc, Mutex};

/// Ansible's words when such a value is used; the assertion of its own tests looks for
/// "undecryptable variable".
pub const USE_MESSAGE: &str = "Attempt to use undecryptable variable.";

/// The value as templates see it: an opaque object that carries its ciphertext.
#[derive(Debug)]
pub struct Undecryptable {
    pub ciphertext: String,
    /// Where the `!vault` value was written.
    pub origin: Span,
}

impl Object for Undecryptable {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    // Reached only by output that does not check for it first: never the plaintext, and
    // never an empty string that would pass for a value.
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<undecryptable vault value>")
    }
}

/// Where undecryptable values were loaded (for one warning each before the run).
static SEEN: Mutex<Vec<Span>> = Mutex::new(Vec::new());

/// The template value of a `!vault` value written at `origin` that cannot be opened.
pub fn value(ciphertext: &str, origin: &Span) -> Value {
    if let Ok(mut seen) = SEEN.lock() {
        if !seen.contains(origin) {
            seen.push(origin.clone());
        }
    }
    Value::from_object(Undecryptable {
        ciphertext: ciphertext.to_string(),
        origin: origin.clone(),
    })
}

/// The places undecryptable values were loaded from so far, each once.
pub fn seen() -> Vec<Span> {
    SEEN.lock().map(|s| s.clone()).unwrap_or_default()
}

/// `v` itself, if it is an undecryptable value.
pub fn as_undecryptable(v: &Value) -> Option<&Undecryptable> {
    v.downcast_object_ref::<Undecryptable>()
}

/// The first undecryptable value in `v` or anything under it.
pub fn find_in(v: &Value) -> Option<Arc<Undecryptable>> {
    if let Some(u) = v.downcast_object::<Undecryptable>() {
        return Some(u);
    }
    if matches!(
        v.kind(),
        minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map
    ) {
        for key in v.try_iter().into_iter().flatten() {
            let item = if v.kind() == minijinja::value::ValueKind::Map {
                v.get_item(&key).unwrap_or_default()
            } else {
                key
            };
            if let Some(u) = find_in(&item) {
                return Some(u);
            }
        }
    }
    None
}

/// The error for a use of `u`: Ansible's message, then where the value was written and
/// why it could not be opened.
pub fn use_error(u: &Undecryptable) -> minijinja::Error {
    let why = if super::installed().is_some() {
        "none of the vault passwords given opens it"
    } else {
        "no vault password was given"
    };
    minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!(
            "{USE_MESSAGE} The vault-encrypted value written at {}:{}:{} cannot be decrypted: {why} (pass --vault-password-file, --vault-id or --ask-vault-pass)",
            u.origin.file.display(),
            u.origin.line,
            u.origin.col
        ),
    )
}

/// Fail if `v` holds an undecryptable value anywhere.
pub fn ensure_none_in(v: &Value) -> Result<(), minijinja::Error> {
    match find_in(v) {
        Some(u) => Err(use_error(&u)),
        None => Ok(()),
    }
}
