//! The file module's `modification_time` and `access_time` with an explicit time or
//! `now` (state `file` and `directory`; `touch` keeps its own defaults): as Ansible's
//! `update_timestamp_for_file`, a change only when the time differs from what the path
//! has, down to the nanosecond, so setting a fixed time is idempotent.

use super::{Args, ModuleCtx};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::template::ansible::pycompat::py_float_repr;

/// A requested time.
#[derive(Clone, Copy, PartialEq)]
enum When {
    Now,
    At(f64),
}

/// What to change, and the diff's before/after entries.
pub struct Times {
    /// Commands that set the times (run after the attributes).
    pub script: String,
    /// `mtime`/`atime` before, as Ansible's diff shows them.
    pub before: Vec<(&'static str, String)>,
    /// And after.
    pub after: Vec<(&'static str, String)>,
}

/// The time `key` asks for; `None` for `preserve` or when not given.
fn requested(args: &Args, key: &str) -> Result<Option<When>> {
    let Some(text) = args.str(key)? else {
        return Ok(None);
    };
    let format = args
        .str(&format!("{key}_format"))?
        .unwrap_or_else(|| "%Y%m%d%H%M.%S".into());
    match text.as_str() {
        "preserve" => Ok(None),
        "now" => Ok(Some(When::Now)),
        _ => {
            use chrono::TimeZone;
            let naive = chrono::NaiveDateTime::parse_from_str(&text, &format).map_err(|e| {
                Error::module(format!(
                    "Error while obtaining timestamp for time {text} using format {format}: {e}"
                ))
            })?;
            // Python's time.mktime: the time is local.
            let local = chrono::Local
                .from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| {
                    Error::module(format!("{text} does not exist in the local time zone"))
                })?;
            Ok(Some(When::At(local.timestamp() as f64)))
        }
    }
}

/// The times to set on `path`, when `modification_time`/`access_time` ask for a
/// change; `None` when they preserve the times or the path already has them.
pub fn plan(args: &Args, path: &str, ctx: &mut ModuleCtx<'_>) -> Result<Option<Times>> {
    let (m, a) = (
        requested(args, "modification_time")?,
        requested(args, "access_time")?,
    );
    if m.is_none() && a.is_none() {
        return Ok(None);
    }
    let q = quote(path);
    let now = ctx.query(&format!("stat -L -c '%.9Y %.9X' -- {q}"))?;
    let mut parts = now.split_whitespace().map(|s| s.parse::<f64>().ok());
    let (Some(Some(prev_m)), Some(Some(prev_a))) = (parts.next(), parts.next()) else {
        return Err(Error::module(format!("cannot read the times of {path}")));
    };
    let mut t = Times {
        script: String::new(),
        before: Vec::new(),
        after: Vec::new(),
    };
    for (name, flag, want, prev) in [("mtime", "-m", m, prev_m), ("atime", "-a", a, prev_a)] {
        let set = match want {
            None => continue,
            Some(When::Now) => format!("touch {flag} -- {q}"),
            Some(When::At(at)) if at == prev => continue,
            Some(When::At(at)) => format!("touch {flag} -d @{at} -- {q}"),
        };
        t.script.push_str(&format!("{set} || exit 1\n"));
        t.before.push((name, py_float_repr(prev)));
        t.after.push((
            name,
            match want {
                Some(When::At(at)) => py_float_repr(at),
                _ => "now".into(),
            },
        ));
    }
    Ok((!t.script.is_empty()).then_some(t))
}

/// The commands that give a path just created by `touch` the explicit times asked for
/// (`now` and `preserve` need none: touch set both to now).
pub fn explicit_script(args: &Args, path: &str) -> Result<String> {
    let mut out = String::new();
    for (key, flag) in [("modification_time", "-m"), ("access_time", "-a")] {
        if let Some(When::At(at)) = requested(args, key)? {
            out.push_str(&format!(
                "touch {flag} -d @{at} -- {} || exit 1\n",
                quote(path)
            ));
        }
    }
    Ok(out)
}

/// Does `touch` keep or set fixed times only (each of the two given, neither `now`)?
/// Then an existing path changes only when its times differ, as in Ansible.
pub fn touch_keeps_times(args: &Args) -> Result<bool> {
    for key in ["modification_time", "access_time"] {
        match args.str(key)?.as_deref() {
            None | Some("now") => return Ok(false),
            Some(_) => {}
        }
    }
    Ok(true)
}
