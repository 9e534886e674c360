//! The file module's `attributes` (`attr`): the ext2-style flags `lsattr` shows and
//! `chattr` sets, compared as Ansible's `set_attributes_if_different` compares them.
//!
//! `A` sets exactly these flags (`chattr =A`), `+A` adds and `-A` removes. As in Ansible,
//! the host is changed when the flags given differ from the path's whole flag string, or
//! always for `-` (so `+A` on a file that also has `e` reports a change each time), and an
//! empty value does nothing. drover reads the flags only for a task that asks for them
//! (one `lsattr`), on a path that exists (see `file::with_flags`).

use super::op::RemoteOp;
use super::ModuleCtx;
use crate::connection::quote;
use crate::diagnostics::{Error, Result};

/// What `chattr` says on stderr, after this marker, when it fails.
const CHATTR_FAILED: &str = "__drover_chattr_failed__";

/// A flags change to make: `chattr {change} path`.
pub struct FlagsChange {
    pub change: String,
    pub path: String,
}

/// The change `attributes` asks for on the existing `path`, if any.
pub fn planned(
    ctx: &mut ModuleCtx<'_>,
    attributes: &str,
    path: &str,
) -> Result<Option<FlagsChange>> {
    let (op, flags) = match attributes.chars().next() {
        Some(c @ ('+' | '-')) => (c, &attributes[1..]),
        _ => ('=', attributes),
    };
    if flags.is_empty() {
        return Ok(None);
    }
    let out = ctx.sh(&format!("lsattr -d -- {} 2>/dev/null", quote(path)), None)?;
    let text = out.stdout_str();
    // As Ansible: no flags when lsattr cannot read them.
    let current = match text.split_whitespace().next() {
        Some(field) if out.rc == 0 => field.replace('-', ""),
        _ => String::new(),
    };
    Ok((current != flags || op == '-').then(|| FlagsChange {
        change: format!("{op}{flags}"),
        path: path.to_string(),
    }))
}

impl FlagsChange {
    /// The shell lines that make the change, run after the rest of the task's work.
    pub fn script(&self) -> String {
        format!(
            "drover_flags=$(chattr {} -- {} 2>&1) && [ -z \"$drover_flags\" ] || {{ printf '{CHATTR_FAILED}%s' \"$drover_flags\" >&2; exit 1; }}\n",
            quote(&self.change),
            quote(&self.path)
        )
    }

    /// `op` with the change appended: its failure is Ansible's `chattr failed`.
    pub fn append_to(&self, mut op: RemoteOp) -> RemoteOp {
        op.script = format!("{}\n{}", op.script, self.script());
        let finish = op.finish;
        let path = self.path.clone();
        op.finish = Box::new(move |out, described| {
            let stderr = out.stderr_str();
            match stderr.split_once(CHATTR_FAILED) {
                Some((_, details)) if out.rc != 0 => Err(failure(&path, details)),
                _ => finish(out, described),
            }
        });
        op
    }

    /// The change as an op of its own (nothing else to do on the path).
    pub fn op(&self) -> RemoteOp {
        let path = self.path.clone();
        RemoteOp::script(
            self.script(),
            Box::new(move |out, _| {
                if out.rc != 0 {
                    let stderr = out.stderr_str();
                    let details = stderr
                        .split_once(CHATTR_FAILED)
                        .map_or(stderr.as_ref(), |(_, d)| d);
                    return Err(failure(&path, details));
                }
                Ok(super::op::Done::default())
            }),
        )
    }
}

/// Ansible's result when chattr fails.
fn failure(path: &str, details: &str) -> Error {
    Error::module("chattr failed")
        .with_result_key("path", path)
        .with_result_key(
            "details",
            // chattr's message ends with a newline; the script's $(…) took it off.
            format!("Error while setting attributes: {}\n", details.trim_end()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reports_chattr_failures_after_a_marker() {
        let change = FlagsChange {
            change: "=A".into(),
            path: "/no/such file".into(),
        };
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(change.script())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(CHATTR_FAILED), "{stderr}");
        assert!(stderr.contains("/no/such file"), "{stderr}");
    }
}
