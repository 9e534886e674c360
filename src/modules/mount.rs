//! mount (ansible.posix): a mount point's line in fstab (edited on the controller with
//! ansible.posix's rules, written back atomically) and, for `mounted`/`unmounted`/
//! `remounted`/`absent`, the live mount with the host's `mount`/`umount`. Whether a path
//! is mounted is read from `/proc/self/mountinfo`.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::{quote, PutAttrs};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Mount;

static MOUNT: ModuleSpec = ModuleSpec {
    name: "mount",
    aliases: &["ansible.posix.mount"],
    args: &[
        arg("path", Str).required().aliases(&["name"]),
        arg("src", Str),
        arg("fstype", Str),
        arg("opts", Str),
        arg("dump", Str),
        arg("passno", Str),
        arg("fstab", Str),
        arg("boot", Bool),
        arg("backup", Bool),
        arg("opts_no_log", Bool),
        arg("state", Str).required().choices(&[
            "absent",
            "absent_from_fstab",
            "mounted",
            "present",
            "unmounted",
            "remounted",
        ]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// fstab's escapes for space, `&` and backslash, as ansible.posix writes them.
fn escape(v: &str) -> String {
    v.replace('\\', "\\134")
        .replace(' ', "\\040")
        .replace('&', "\\046")
}

/// The entry to have: src, name, fstype, opts, dump, passno (escaped).
#[derive(Clone, Debug)]
pub struct Entry {
    pub src: String,
    pub name: String,
    pub fstype: String,
    pub opts: String,
    pub dump: String,
    pub passno: String,
}

impl Entry {
    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {}\n",
            self.src, self.name, self.fstype, self.opts, self.dump, self.passno
        )
    }
}

/// Set the entry for `e.name`: (new text, changed). A line whose fields differ is
/// rewritten; no line: one appended. Comments, blank and unparsable lines are kept.
pub fn set_entry(text: &str, e: &Entry, src_given: bool) -> (String, bool) {
    let mut out = String::new();
    let (mut exists, mut changed) = (false, false);
    for raw in text.split_inclusive('\n') {
        let line = if raw.ends_with('\n') {
            raw.to_string()
        } else {
            format!("{raw}\n")
        };
        if line.trim().is_empty() || line.trim().starts_with('#') {
            out.push_str(&line);
            continue;
        }
        let fields: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if !(4..=6).contains(&fields.len()) {
            out.push_str(&line);
            continue;
        }
        let mut ld = Entry {
            src: fields[0].into(),
            name: fields[1].into(),
            fstype: fields[2].into(),
            opts: fields[3].into(),
            dump: fields.get(4).copied().unwrap_or("0").into(),
            passno: fields.get(5).copied().unwrap_or("0").into(),
        };
        let other_swap = src_given && ld.name == "none" && ld.fstype == "swap" && ld.src != e.src;
        if ld.name != e.name || other_swap {
            out.push_str(&line);
            continue;
        }
        exists = true;
        let mut this_changed = false;
        for (cur, want) in [
            (&mut ld.src, &e.src),
            (&mut ld.fstype, &e.fstype),
            (&mut ld.opts, &e.opts),
            (&mut ld.dump, &e.dump),
            (&mut ld.passno, &e.passno),
        ] {
            if cur != want {
                *cur = want.clone();
                this_changed = true;
            }
        }
        // As ansible.posix: once a line changed, later matching lines are rewritten too.
        changed |= this_changed;
        if changed {
            out.push_str(&ld.line());
        } else {
            out.push_str(&line);
        }
    }
    if !exists {
        out.push_str(&e.line());
        changed = true;
    }
    (out, changed)
}

/// Remove the entries for `name` (six-field lines only, as ansible.posix).
pub fn unset_entry(text: &str, name: &str, src: Option<&str>) -> (String, bool) {
    let name = escape(name);
    let mut out = String::new();
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let f: Vec<&str> = line.split_whitespace().collect();
        if line.trim().is_empty() || line.trim().starts_with('#') || f.len() != 6 {
            out.push_str(line);
            continue;
        }
        let other_swap = src.is_some_and(|s| f[1] == "none" && f[2] == "swap" && f[0] != s);
        if f[1] != name || other_swap {
            out.push_str(line);
            continue;
        }
        changed = true;
    }
    (out, changed)
}

/// Mount points in `/proc/self/mountinfo` (field 5, octal escapes decoded).
fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            let mut out = Vec::new();
            let b = p.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && i + 3 < b.len() {
                    if let Ok(n) = u8::from_str_radix(&p[i + 1..i + 4], 8) {
                        out.push(n);
                        i += 4;
                        continue;
                    }
                }
                out.push(b[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect()
}

impl Module for Mount {
    fn spec(&self) -> &'static ModuleSpec {
        &MOUNT
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let state = args.req_str("state")?;
        let name = args.req_str("path")?;
        let src = args.str("src")?;
        let fstype = args.str("fstype")?;
        if matches!(state.as_str(), "mounted" | "present") && (src.is_none() || fstype.is_none()) {
            return Err(Error::module(format!(
                "state is {state} but all of the following are missing: {}",
                [("src", &src), ("fstype", &fstype)]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let fstab = args.str("fstab")?.unwrap_or_else(|| "/etc/fstab".into());
        let mut opts = args.str("opts")?.unwrap_or_else(|| "defaults".into());
        let dump = args.str("dump")?.unwrap_or_else(|| "0".into());
        let passno = args.str("passno")?.unwrap_or_else(|| "0".into());
        let mut warnings: Vec<Value> = Vec::new();
        let mut boot = "yes";
        let has_noauto = opts.split(',').any(|o| o == "noauto");
        if args.bool("boot", true)? {
            if has_noauto {
                warnings.push(Value::from(
                    "Ignore the 'boot' due to 'opts' contains 'noauto'.",
                ));
            }
        } else {
            boot = "no";
            opts.push_str(",noauto");
        }
        // One round trip: the fstab (created empty if missing, as ansible.posix does even
        // in check mode), and the mount table.
        let out = ctx.sh(
            &format!(
                "f={}; [ -e \"$f\" ] || {{ mkdir -p -- \"$(dirname -- \"$f\")\" && : >> \"$f\"; }} || exit 3\n\
                 cat -- \"$f\" || exit 3\necho @@drover-mountinfo@@\ncat /proc/self/mountinfo",
                quote(&fstab)
            ),
            None,
        )?;
        if out.rc == 3 {
            return Err(Error::module(format!(
                "Failed to open {fstab} due to {}",
                out.stderr_str().trim()
            )));
        }
        let text = out.stdout_str();
        let (fstab_text, mountinfo) = text
            .split_once("@@drover-mountinfo@@\n")
            .unwrap_or((text.as_str(), ""));
        let mounted = mount_points(mountinfo).contains(&name);
        let entry = Entry {
            src: escape(src.as_deref().unwrap_or_default()),
            name: escape(&name),
            fstype: escape(fstype.as_deref().unwrap_or_default()),
            opts: escape(&opts),
            dump: escape(&dump),
            passno: escape(&passno),
        };
        let mut result = Vars::new();
        result.insert("name".into(), Value::from(name.as_str()));
        result.insert("opts".into(), Value::from(opts.as_str()));
        result.insert("dump".into(), Value::from(dump.as_str()));
        result.insert("passno".into(), Value::from(passno.as_str()));
        result.insert("fstab".into(), Value::from(fstab.as_str()));
        result.insert("boot".into(), Value::from(boot));
        if !warnings.is_empty() {
            result.insert("warnings".into(), Value::from(warnings));
        }
        result.insert("backup_file".into(), Value::from(""));
        if let Some(s) = &src {
            result.insert("src".into(), Value::from(s.as_str()));
        }
        if let Some(t) = &fstype {
            result.insert("fstype".into(), Value::from(t.as_str()));
        }
        let (new_fstab, fstab_changed) = match state.as_str() {
            "present" | "mounted" => set_entry(fstab_text, &entry, src.is_some()),
            "absent" | "absent_from_fstab" => unset_entry(fstab_text, &name, src.as_deref()),
            _ => (fstab_text.to_string(), false),
        };
        let mut script = String::new();
        let t_arg = if fstab != "/etc/fstab" {
            format!("-T {} ", quote(&fstab))
        } else {
            String::new()
        };
        let changed = match state.as_str() {
            "present" | "absent_from_fstab" => fstab_changed,
            "absent" => {
                if fstab_changed {
                    if mounted {
                        script.push_str(&format!("umount -- {n} || exit 4\n", n = quote(&name)));
                    }
                    script.push_str(&format!(
                        "if [ -e {n} ]; then rmdir -- {n} || exit 5; fi\n",
                        n = quote(&name)
                    ));
                }
                fstab_changed
            }
            "unmounted" => {
                if mounted {
                    script.push_str(&format!("umount -- {} || exit 4\n", quote(&name)));
                }
                mounted
            }
            "mounted" => {
                script.push_str(&format!("mkdir -p -- {}\n", quote(&name)));
                if mounted {
                    if fstab_changed {
                        script.push_str(&format!(
                            "mount -o remount {t_arg}{n} || {{ umount -- {n} && mount {t_arg}{n}; }} || exit 6\n",
                            n = quote(&name)
                        ));
                    }
                    fstab_changed
                } else {
                    script.push_str(&format!("mount {t_arg}{} || exit 6\n", quote(&name)));
                    true
                }
            }
            "remounted" => {
                let o = if opts != "defaults" {
                    format!("remount,{opts}")
                } else {
                    "remount".into()
                };
                script.push_str(&format!(
                    "mount -o {} {t_arg}{n} || {{ umount -- {n} && mount {t_arg}{n}; }} || exit 6\n",
                    quote(&o),
                    n = quote(&name)
                ));
                true
            }
            other => {
                return Err(
                    Error::module(format!("mount: state {other} is not supported"))
                        .with_help("ephemeral mounts: use command: mount -t TYPE SRC PATH"),
                )
            }
        };
        if !changed {
            return Ok(Plan::no_change(result));
        }
        let backup = args.bool("backup", false)?;
        let fstab_path = fstab.clone();
        let old = fstab_text.to_string();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let mut extra = Vars::new();
            if fstab_changed {
                let w = ctx.put_file(
                    &fstab_path,
                    new_fstab.as_bytes(),
                    &PutAttrs {
                        backup,
                        ..PutAttrs::default()
                    },
                )?;
                if let Some(b) = w.backup {
                    extra.insert("backup_file".into(), Value::from(b));
                }
            }
            if !script.is_empty() {
                let out = ctx.sh(&script, None)?;
                if out.rc != 0 {
                    let msg = format!("{}{}", out.stdout_str(), out.stderr_str());
                    // A failed mount puts the old fstab back, as ansible.posix does.
                    if out.rc == 6 && fstab_changed {
                        let _ = ctx.put_file(&fstab_path, old.as_bytes(), &PutAttrs::default());
                    }
                    return Err(Error::module(match out.rc {
                        4 => format!(
                            "Error unmounting {}: {}",
                            fstab_path_name(&script),
                            msg.trim()
                        ),
                        5 => format!("Error rmdir: {}", msg.trim()),
                        _ => format!("Error mounting: {}", msg.trim()),
                    }));
                }
            }
            Ok(extra)
        });
        Ok(Plan::change(Change::Modify(vec![state]), result, apply))
    }
}

/// The mount point named in an unmount script (for its error message).
fn fstab_path_name(script: &str) -> String {
    script
        .split("umount -- ")
        .nth(1)
        .and_then(|r| r.split(" ||").next())
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(src: &str, name: &str, opts: &str) -> Entry {
        Entry {
            src: src.into(),
            name: name.into(),
            fstype: "ext4".into(),
            opts: opts.into(),
            dump: "0".into(),
            passno: "0".into(),
        }
    }

    #[test]
    fn fstab_lines() {
        let t = "# c\n/dev/a / ext4 defaults 0 1\n";
        let (n, c) = set_entry(t, &e("/dev/b", "/data", "defaults"), true);
        assert!(c);
        assert_eq!(
            n,
            "# c\n/dev/a / ext4 defaults 0 1\n/dev/b /data ext4 defaults 0 0\n"
        );
        let (n2, c) = set_entry(&n, &e("/dev/b", "/data", "defaults"), true);
        assert!(!c);
        assert_eq!(n2, n);
        let (n3, c) = set_entry(&n, &e("/dev/b", "/data", "noatime"), true);
        assert!(c);
        assert!(n3.ends_with("/dev/b /data ext4 noatime 0 0\n"));
        let (n4, c) = unset_entry(&n3, "/data", None);
        assert!(c);
        assert_eq!(n4, t);
        assert_eq!(escape("/a b&c\\"), "/a\\040b\\046c\\134");
    }

    #[test]
    fn mountinfo_points() {
        let mi = "22 1 0:21 / /proc rw - proc proc rw\n30 22 0:30 / /mnt/a\\040b rw - tmpfs t rw\n";
        assert_eq!(
            mount_points(mi),
            vec!["/proc".to_string(), "/mnt/a b".to_string()]
        );
    }
}
