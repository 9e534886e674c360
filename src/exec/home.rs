//! `~` at the start of a path argument is the home directory of the user the module runs
//! as, on the host: Ansible's modules expand it there (`os.path.expanduser`, after
//! become). drover asks the host once per task that needs it (one round trip, only when
//! a path starts with `~`).

use crate::connection::{exec_as, quote::quote, Become, Connection};
use crate::diagnostics::{Error, Result};
use crate::inventory::Vars;
use minijinja::Value;

/// Arguments that are paths on the host in every module that has them.
const PATH_ARGS: &[&str] = &["path", "dest", "chdir", "creates", "removes"];
/// Modules whose `src` is a path on the host (elsewhere it is on the controller).
const REMOTE_SRC_MODULES: &[&str] = &["file", "slurp"];

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
    module: &str,
    args: &mut Vars,
) -> Result<()> {
    let mut names: Vec<&str> = PATH_ARGS.to_vec();
    if REMOTE_SRC_MODULES.contains(&module) {
        names.push("src");
    }
    for name in names {
        let Some(path) = args.get(name).and_then(|v| v.as_str()).map(str::to_string) else {
            continue;
        };
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
    use super::home_prefix;

    #[test]
    fn prefixes() {
        assert_eq!(home_prefix("~/a"), Some("~"));
        assert_eq!(home_prefix("~"), Some("~"));
        assert_eq!(home_prefix("~deploy/x"), Some("~deploy"));
        assert_eq!(home_prefix("/a/~"), None);
        assert_eq!(home_prefix("~$(id)/x"), None);
    }
}
