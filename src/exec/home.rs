//! Path arguments are expanded on the host as Ansible's modules expand them there
//! (`type='path'`: `os.path.expanduser(os.path.expandvars(value))`, as the user the
//! module runs as): `$NAME` and `${NAME}` of the host's environment (a name the
//! environment lacks stays as written, as in Python), then a leading `~` (that user's
//! home). drover asks the host only for a task whose paths hold `$` or start with `~`
//! (one round trip each).

use crate::connection::expand::{expand_vars, home_prefix, var_names};
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
