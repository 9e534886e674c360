//! Process-wide vault state: the secrets given on the command line (installed once at
//! startup) and the decrypted values that output must never show.
//!
//! Every plaintext drover decrypts is registered with [`register_secret`]; [`mask`]
//! replaces each registered value with `********`. Output applies it in one place per
//! channel (human text, JSON lines, rendered errors). Values shorter than
//! [`MIN_MASK_LEN`] characters are not registered: masking `yes` or `80` everywhere
//! would mangle output while protecting nothing.

use super::secrets::Secrets;
use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

/// Shorter values are not masked (see the module docs).
pub const MIN_MASK_LEN: usize = 4;
/// What a masked value is replaced with.
pub const MASK: &str = "********";

static SECRETS: OnceLock<Secrets> = OnceLock::new();
/// Registered values, longest first so a secret containing another is masked whole.
static MASKED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Install the command line's secrets; only the first call has an effect (returns false
/// after that).
pub fn install(secrets: Secrets) -> bool {
    SECRETS.set(secrets).is_ok()
}

/// The installed secrets, if any were given.
pub fn installed() -> Option<&'static Secrets> {
    SECRETS.get().filter(|s| !s.is_empty())
}

/// Remember a decrypted value so that output masks it. A multi-line value is also
/// registered line by line (diffs show lines). Its JSON-escaped form is registered too,
/// so JSON output masks it as well.
pub fn register_secret(value: &str) {
    let mut candidates: Vec<&str> = vec![value.trim()];
    if value.contains('\n') {
        candidates.extend(value.lines().map(str::trim));
    }
    let mut new: Vec<String> = Vec::new();
    for c in candidates {
        if c.chars().count() < MIN_MASK_LEN {
            continue;
        }
        new.push(c.to_string());
        let escaped = serde_json::to_string(c).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != c && escaped.chars().count() >= MIN_MASK_LEN {
            new.push(escaped.to_string());
        }
    }
    if new.is_empty() {
        return;
    }
    let mut masked = match MASKED.write() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    for n in new {
        if !masked.contains(&n) {
            masked.push(n);
        }
    }
    masked.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Every registered secret in `text` replaced with `********`.
pub fn mask(text: &str) -> Cow<'_, str> {
    let masked = match MASKED.read() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut out = Cow::Borrowed(text);
    for secret in masked.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_masked() {
        register_secret("Zq9-unit-secret-value");
        register_secret("abc"); // too short: never masked
        let out = mask("pw=Zq9-unit-secret-value; abc");
        assert_eq!(out, "pw=********; abc");
        assert!(matches!(mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_and_json_forms_are_masked() {
        register_secret("first-Qx7 line\nsecond \"Qx7\" line\nok\n");
        assert_eq!(mask("- first-Qx7 line"), "- ********");
        assert_eq!(
            mask(r#"{"a":"second \"Qx7\" line"}"#),
            r#"{"a":"********"}"#
        );
        assert_eq!(mask("ok"), "ok");
    }

    #[test]
    fn longer_secrets_win() {
        register_secret("Kp4-long-secret");
        register_secret("Kp4-long-secret-and-more");
        assert_eq!(mask("x Kp4-long-secret-and-more y"), "x ******** y");
    }
}
