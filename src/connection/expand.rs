//! Python's `os.path.expandvars` and `expanduser`, which Ansible's modules apply on the
//! host (path arguments, and command's arguments under `expand_argument_vars`): the
//! grammar, and shell code that reproduces the expansion where the values live.
//!
//! `$NAME` and `${NAME}` name a variable of the module's environment; one the environment
//! lacks stays as written, and quotes or backslashes around a reference do not matter
//! (Python does not read them). A leading `~` or `~user` is a home directory.

use super::quote::quote;

/// A `$NAME` or `${NAME}` at the start of `s` (just after the `$`): the name and the
/// length of the reference after the `$`.
pub fn reference(s: &str) -> Option<(&str, usize)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let len = body
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
        .count();
    let name = &body[..len];
    match (name.is_empty(), braced) {
        (true, _) => None,
        (false, false) => Some((name, len)),
        (false, true) => body[len..].starts_with('}').then_some((name, len + 2)),
    }
}

/// The environment variables a path names (shell names only).
pub fn var_names(path: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for (at, _) in path.match_indices('$') {
        if let Some((name, _)) = reference(&path[at + 1..]) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// `path` with the variables in `env` replaced (the others left as written).
pub fn expand_vars(path: &str, env: &std::collections::HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match reference(after).and_then(|(n, len)| Some((env.get(n)?, len))) {
            Some((value, len)) => {
                out.push_str(value);
                rest = &after[len..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `~` prefix of a path (`~`, `~/x`, `~user/x`), when it has one drover can expand.
pub fn home_prefix(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('~')?;
    let user = rest.split('/').next().unwrap_or_default();
    let valid = user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then(|| &path[..1 + user.len()])
}

/// Shell code that sets the variable `var` to `arg` expanded as Ansible's run_command
/// expands a command's argument (`expanduser(expandvars(arg))`) in the environment the
/// code runs in. Builtins only: no process is started.
pub fn expanding_assignment(var: &str, arg: &str) -> String {
    let mut code = String::new();
    let mut rest = arg;
    match home_prefix(arg) {
        // Unquoted after `=`: the shell's tilde expansion, which expanduser mirrors.
        Some(prefix) => {
            code.push_str(&format!("{var}={prefix}; "));
            rest = &arg[prefix.len()..];
        }
        None => code.push_str(&format!("{var}=''; ")),
    }
    let mut literal = String::new();
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match reference(after).filter(|(n, _)| super::quote::is_env_name(n)) {
            Some((name, len)) => {
                if !literal.is_empty() {
                    code.push_str(&format!("{var}=${{{var}}}{}; ", quote(&literal)));
                    literal.clear();
                }
                let written = quote(&rest[at..at + 1 + len]);
                code.push_str(&format!(
                    "if [ \"${{{name}+x}}\" ]; then {var}=${{{var}}}${{{name}}}; else {var}=${{{var}}}{written}; fi; "
                ));
                rest = &after[len..];
            }
            None => {
                literal.push('$');
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        code.push_str(&format!("{var}=${{{var}}}{}; ", quote(&literal)));
    }
    code
}

/// Does `arg` hold anything [`expanding_assignment`] would expand?
pub fn expands(arg: &str) -> bool {
    home_prefix(arg).is_some() || !var_names(arg).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_paths() {
        assert_eq!(
            var_names("$HOME/.ssh/${USER}_x/$HOME"),
            vec!["HOME", "USER"]
        );
        assert_eq!(var_names("/a/$1/${x-y}/$"), Vec::<&str>::new());
        let env = [("HOME", "/root"), ("HOMEDIR", "/h")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            expand_vars("$HOME/a/${HOME}/$UNSET/$HOMEDIR/$", &env),
            "/root/a//root/$UNSET//h/$"
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(home_prefix("~/a"), Some("~"));
        assert_eq!(home_prefix("~"), Some("~"));
        assert_eq!(home_prefix("~deploy/x"), Some("~deploy"));
        assert_eq!(home_prefix("/a/~"), None);
        assert_eq!(home_prefix("~$(id)/x"), None);
    }

    /// The generated code, run by the system's sh, gives what Python's expansion gives.
    #[test]
    fn assignments_expand_as_python_does() {
        let cases = [
            ("echo \"\\$TEST\"", "echo \"\\z\""),
            ("${TEST}-$UNSET-${UNSET}-$", "z-$UNSET-${UNSET}-$"),
            ("it's $TEST's", "it's z's"),
            ("~/x$TEST", "/root/xz"),
            ("$1 ${x-y} a=b", "$1 ${x-y} a=b"),
            ("", ""),
        ];
        for (arg, want) in cases {
            let code = format!("{}printf %s \"$w\"", expanding_assignment("w", arg));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&code)
                .env("TEST", "z")
                .env("HOME", "/root")
                .env_remove("UNSET")
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{arg}: {code}");
        }
    }
}
