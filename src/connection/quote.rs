//! The one quoting function: every value that reaches a remote shell goes through it.

/// Quote `s` for POSIX `sh` so that it is always one literal word: spaces, quotes,
/// `$()`, backticks, globs, newlines and leading dashes lose any meaning.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
        && !s.starts_with('-')
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\"'\"'");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quote a path argument; a leading `-` is made harmless by prefixing `./` for relative
/// paths so that no command ever reads it as an option.
#[cfg(test)]
pub fn quote_path(p: &str) -> String {
    if p.starts_with('-') {
        quote(&format!("./{p}"))
    } else {
        quote(p)
    }
}

/// Is `name` a variable name a POSIX shell can `export` (`[A-Za-z_][A-Za-z0-9_]*`)?
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `export NAME=value` lines for a task's environment (names checked).
pub fn exports(environment: &[(String, String)]) -> crate::diagnostics::Result<String> {
    let mut full = String::new();
    for (k, v) in environment {
        // Checked when the task's environment is built; never export what a shell
        // would read as more than a name.
        if !is_env_name(k) {
            return Err(env_name_error(k));
        }
        full.push_str(&format!("export {}={}\n", k, quote(v)));
    }
    Ok(full)
}

/// The error for an environment name that is not one, with what to do.
pub fn env_name_error(name: &str) -> crate::diagnostics::Error {
    crate::diagnostics::Error::new(
        crate::diagnostics::ErrorKind::Invalid,
        format!(
            "environment variable name {name:?} is not valid: a name is a letter or '_' followed by letters, digits or '_'"
        ),
    )
    .with_help("rename the key of `environment:`; its value may hold any text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn echo_back(s: &str) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote(s)))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn hostile_strings_round_trip_through_sh() {
        for s in [
            "plain",
            "with space",
            "it's",
            "$(touch /tmp/drover-canary)",
            "`id`",
            "a\nb",
            "-rf",
            "*",
            "\"double\"",
            "back\\slash",
            "",
            "ünïcode ✓",
            "'''",
        ] {
            assert_eq!(echo_back(s), s, "{s:?}");
        }
    }

    #[test]
    fn safe_words_are_left_alone() {
        assert_eq!(quote("/etc/hosts"), "/etc/hosts");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("-x"), "'-x'");
        assert_eq!(quote_path("-x"), "./-x");
    }
}
