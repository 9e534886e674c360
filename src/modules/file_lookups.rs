//! The file module in check mode warns about an owner or group that does not exist (yet):
//! Ansible's `check_owner_exists`/`check_group_exists`, since a user or group task before
//! it created nothing in check mode. On a path that exists, the module then goes on to
//! compare the owner and fails on the name it cannot look up, as Ansible's
//! `set_owner_if_different` does even in check mode (a numeric id is not looked up).

use super::{Args, ModuleCtx};
use crate::connection::quote;
use crate::diagnostics::Result;

/// What the lookups found.
#[derive(Debug, Default)]
pub struct Lookups {
    /// In Ansible's words, for the task's `owner` and `group`.
    pub warnings: Vec<String>,
    /// The failure on an existing path: the first name (not id) that cannot be looked up.
    pub failure: Option<String>,
}

/// Look the task's `owner` and `group` up on the host.
pub fn lookups(ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Lookups> {
    let mut out = Lookups::default();
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
            if out.failure.is_none() {
                let verb = if what == "user" { "chown" } else { "chgrp" };
                out.failure = Some(format!("{verb} failed: failed to look up {what} {name}"));
            }
            format!("{what} {name}")
        };
        out.warnings.push(format!(
            "failed to look up {who}. Create {what} up to this point in real play"
        ));
    }
    Ok(out)
}
