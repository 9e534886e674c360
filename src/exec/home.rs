//! Path arguments are expanded on the host as Ansible's modules expand them there
//! (`type='path'`: `os.path.expanduser(os.path.expandvars(value))`, as the user the
//! module runs as): `$NAME` and `${NAME}` of the host's environment (a name the
//! environment lacks stays as written, as in Python), then a leading `~` (that user's
//! home). drover asks the host only for a task whose paths hold `$` or start with `~`
//! (one round trip each).

use crate::connection::{exec_as, quote::quote, Become, Connection};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

/// Arguments that are paths on the host in every module that has them.
const PATH_ARGS: &[&str] = &["path", "dest", "chdir", "creates", "removes"];
/// Modules whose `src` is a path on the host (elsewhere it is on the controller).
const REMOTE_SRC_MODULES: &[&str] = &["file", "slurp"];
/// Modules whose `src` is on the host with `remote_src: true`.
const REMOTE_SRC_WHEN_ASKED: &[&str] = &["copy", "unarchive"];

/// A `$NAME` or `${NAME}` at the start of `s` (just after the `$`): the name and the
/// length of the reference after the `$`.
fn reference(s: &str) -> Option<(&str, usize)> {
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
fn var_names(path: &str) -> Vec<&str> {
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
fn expand_vars(path: &str, env: &std::collections::HashMap<String, String>) -> String {
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
fn home_prefix(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('~')?;
    let user = rest.split('/').next().unwrap_or_default();
    let valid = user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then(|| &path[..1 + user.len()])
}

/// Replace a leading `~` in the module's path arguments by the host's home directory.
pub fn expand_home(
    conn: &mut dyn Connection,
    become_: Option<&Become>,
    environment: &[(String, String)],
    module: &str,
    args: &mut Vars,
) -> Result<()> {
    let mut names: Vec<&str> = PATH_ARGS.to_vec();
    let remote_src = args
        .get("remote_src")
        .and_then(crate::modules::args::to_bool)
        .unwrap_or(false);
    if REMOTE_SRC_MODULES.contains(&module)
        || (remote_src && REMOTE_SRC_WHEN_ASKED.contains(&module))
    {
        names.push("src");
    }
    for name in names {
        let Some(mut path) = args.get(name).and_then(|v| v.as_str()).map(str::to_string) else {
            continue;
        };
        let vars = var_names(&path);
        if !vars.is_empty() {
            // NAME=value NUL for each variable set in the module's environment (the
            // task's `environment:` included).
            let mut script = crate::connection::quote::exports(environment)?;
            for v in &vars {
                script.push_str(&format!(
                    "[ -z \"${{{v}+x}}\" ] || printf '%s=%s\\0' {v} \"${v}\"; "
                ));
            }
            let out = exec_as(conn, &script, None, become_)?;
            let env = out
                .stdout
                .split(|b| *b == 0)
                .filter_map(|kv| {
                    let kv = String::from_utf8_lossy(kv);
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_string(), v.to_string()))
                })
                .collect();
            path = expand_vars(&path, &env);
            args.insert(name.to_string(), Value::from(path.as_str()));
        }
        let Some(prefix) = home_prefix(&path) else {
            continue;
        };
        // The prefix is `~` plus a checked user name: safe unquoted, and the shell's own
        // tilde expansion is what Python's expanduser mirrors.
        let script = format!("printf '%s' {prefix}");
        let out = exec_as(conn, &script, None, become_)?;
        let home = out.stdout_str().to_string();
        if out.rc != 0 || home.is_empty() || home.starts_with('~') {
            return Err(Error::module(format!(
                "cannot expand {} in {name}={}: the host has no such home directory",
                prefix,
                quote(&path)
            )));
        }
        args.insert(
            name.to_string(),
            Value::from(format!("{home}{}", &path[prefix.len()..])),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{expand_vars, home_prefix, var_names};

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
}
