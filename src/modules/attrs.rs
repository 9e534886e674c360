//! File attributes shared by the file modules: mode (octal or symbolic), owner, group.

use super::{Args, ModuleCtx};
use crate::connection::{quote, FileState};
use crate::diagnostics::Result;

#[derive(Clone, Debug, Default)]
pub struct Attrs {
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl Attrs {
    pub fn from_args(args: &Args) -> Result<Attrs> {
        Ok(Attrs {
            mode: args.mode("mode")?.filter(|m| m != "preserve"),
            owner: args.str("owner")?,
            group: args.str("group")?,
        })
    }

    /// [`Attrs::from_args`] for a copy of the controller file `src`: `mode: preserve`
    /// gives the copy the source's own permission bits, as Ansible's copy does.
    pub fn from_args_copying(args: &Args, src: &std::path::Path) -> Result<Attrs> {
        let mut attrs = Attrs::from_args(args)?;
        if args.mode("mode")?.as_deref() == Some("preserve") {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(src).map_err(|e| {
                crate::diagnostics::Error::module(format!("cannot read {}: {e}", src.display()))
            })?;
            attrs.mode = Some(format!("0{:o}", meta.permissions().mode() & 0o7777));
        }
        Ok(attrs)
    }

    /// The attributes that differ from the current state, by name.
    pub fn differences(&self, cur: &FileState) -> Vec<String> {
        let mut d = Vec::new();
        if let Some(m) = &self.mode {
            if target_mode(
                m,
                cur.mode,
                cur.kind == crate::connection::FileKind::Directory,
            ) != Some(cur.mode & 0o7777)
            {
                d.push("mode".to_string());
            }
        }
        if let Some(o) = &self.owner {
            if o != &cur.owner && o != &cur.uid.to_string() {
                d.push("owner".to_string());
            }
        }
        if let Some(g) = &self.group {
            if g != &cur.group && g != &cur.gid.to_string() {
                d.push("group".to_string());
            }
        }
        d
    }

    /// Shell commands that set the attributes on `quoted_path`.
    pub fn script(&self, quoted_path: &str, recurse: bool) -> String {
        let r = if recurse { "-R " } else { "" };
        let mut s = String::new();
        match (&self.owner, &self.group) {
            (Some(o), Some(g)) => s.push_str(&format!(
                "chown {r}-h {}:{} -- {quoted_path} || exit 1\n",
                quote(o),
                quote(g)
            )),
            (Some(o), None) => s.push_str(&format!(
                "chown {r}-h {} -- {quoted_path} || exit 1\n",
                quote(o)
            )),
            (None, Some(g)) => s.push_str(&format!(
                "chgrp {r}-h {} -- {quoted_path} || exit 1\n",
                quote(g)
            )),
            (None, None) => {}
        }
        if let Some(m) = &self.mode {
            s.push_str(&format!(
                "chmod {r}{} -- {quoted_path} || exit 1\n",
                quote(m)
            ));
        }
        s
    }

    /// The attributes on a directory and everything below it, through the links below as
    /// Ansible's `recursive_set_attributes` with `follow`: `find -L` walks linked
    /// directories, and chmod/chown of a link reach what it points to; a dangling link
    /// (`-type l` under `-L`) is left alone.
    pub fn following_tree_script(&self, quoted_path: &str) -> String {
        let mut s = self.script(quoted_path, false);
        let below = |cmd: String| {
            format!("find -L {quoted_path} -mindepth 1 ! -type l -exec {cmd} -- {{}} + || exit 1\n")
        };
        match (&self.owner, &self.group) {
            (Some(o), Some(g)) => s.push_str(&below(format!("chown {}:{}", quote(o), quote(g)))),
            (Some(o), None) => s.push_str(&below(format!("chown {}", quote(o)))),
            (None, Some(g)) => s.push_str(&below(format!("chgrp {}", quote(g)))),
            (None, None) => {}
        }
        if let Some(m) = &self.mode {
            s.push_str(&below(format!("chmod {}", quote(m))));
        }
        s
    }

    /// Apply to a path, as an op.
    pub fn op(&self, path: &str) -> super::op::RemoteOp {
        let path = path.to_string();
        super::op::RemoteOp::script(
            self.script(&quote(&path), false),
            Box::new(move |out, _| {
                if out.rc != 0 {
                    return Err(crate::diagnostics::Error::module(format!(
                        "cannot set attributes on {path}: {}",
                        out.stderr_str().trim()
                    )));
                }
                Ok(super::op::Done::default())
            }),
        )
    }

    /// Apply to a path (one round trip).
    pub fn apply(&self, ctx: &mut ModuleCtx<'_>, path: &str) -> Result<()> {
        let s = self.script(&quote(path), false);
        if s.is_empty() {
            return Ok(());
        }
        let out = ctx.sh(&s, None)?;
        if out.rc != 0 {
            return Err(crate::diagnostics::Error::module(format!(
                "cannot set attributes on {path}: {}",
                out.stderr_str().trim()
            )));
        }
        Ok(())
    }
}

/// The mode a `chmod` of `spec` would leave on a file whose mode is `current`.
pub fn target_mode(spec: &str, current: u32, is_dir: bool) -> Option<u32> {
    if spec.chars().all(|c| c.is_ascii_digit()) {
        return u32::from_str_radix(spec, 8).ok();
    }
    let mut mode = current & 0o7777;
    for clause in spec.split(',') {
        let op_at = clause.find(['=', '+', '-'])?;
        let who = &clause[..op_at];
        let mut rest = &clause[op_at..];
        let mask = if who.is_empty() || who.contains('a') {
            0o7777
        } else {
            let mut m = 0;
            if who.contains('u') {
                m |= 0o4700;
            }
            if who.contains('g') {
                m |= 0o2070;
            }
            if who.contains('o') {
                m |= 0o1007;
            }
            m
        };
        while !rest.is_empty() {
            let op = rest.chars().next()?;
            rest = &rest[1..];
            let perms_end = rest.find(['=', '+', '-']).unwrap_or(rest.len());
            let perms = &rest[..perms_end];
            rest = &rest[perms_end..];
            let mut bits = 0u32;
            for p in perms.chars() {
                bits |= match p {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' if is_dir || current & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return None,
                };
            }
            let bits = bits & mask;
            match op {
                '=' => mode = (mode & !(mask & 0o7777)) | bits,
                '+' => mode |= bits,
                '-' => mode &= !bits,
                _ => return None,
            }
        }
    }
    Some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes() {
        assert_eq!(target_mode("0644", 0o777, false), Some(0o644));
        assert_eq!(target_mode("u=rw,g=r,o=r", 0o777, false), Some(0o644));
        assert_eq!(target_mode("u+x", 0o644, false), Some(0o744));
        assert_eq!(target_mode("go-w", 0o666, false), Some(0o644));
        assert_eq!(target_mode("a+X", 0o644, true), Some(0o755));
        assert_eq!(target_mode("a+X", 0o644, false), Some(0o644));
    }
}
