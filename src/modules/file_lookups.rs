//! The file module in check mode warns about an owner or group that does not exist (yet):
//! Ansible's `check_owner_exists`/`check_group_exists`, since a user or group task before
//! it created nothing in check mode.

use super::{Args, ModuleCtx};
use crate::connection::quote;
use crate::diagnostics::Result;

/// The warnings, in Ansible's words, for the task's `owner` and `group`.
pub fn warnings(ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (key, db, what) in [("owner", "passwd", "user"), ("group", "group", "group")] {
        let Some(name) = args.str(key)? else {
            continue;
        };
        // Uncached: a user or group task may create it between two file tasks.
        let found = ctx.sh(&format!("getent {db} {} >/dev/null", quote(&name)), None)?;
        if found.rc == 0 {
            continue;
        }
        let who = if name.parse::<u64>().is_ok() {
            let id = if what == "user" { "uid" } else { "gid" };
            format!("{what} with {id} {name}")
        } else {
            format!("{what} {name}")
        };
        out.push(format!(
            "failed to look up {who}. Create {what} up to this point in real play"
        ));
    }
    Ok(out)
}
