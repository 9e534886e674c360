//! user: local accounts through `useradd`/`usermod`/`userdel` (shadow-utils).

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct User;

static SPEC: ModuleSpec = ModuleSpec {
    name: "user",
    aliases: &[],
    args: &[
        arg("name", Str).required().aliases(&["user"]),
        arg("state", Str).choices(&["present", "absent"]),
        arg("uid", Int),
        arg("group", Str),
        arg("groups", List),
        arg("append", Bool),
        arg("shell", Str),
        arg("home", Str),
        arg("create_home", Bool).aliases(&["createhome"]),
        arg("move_home", Bool),
        arg("system", Bool),
        arg("comment", Str),
        arg("password", Str),
        arg("update_password", Str).choices(&["always", "on_create"]),
        arg("remove", Bool),
        arg("force", Bool),
        arg("non_unique", Bool),
        arg("expires", Float),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// What the account databases say about a user.
#[derive(Debug, Default, Clone)]
struct Account {
    uid: String,
    gid: String,
    primary: String,
    groups: Vec<String>,
    comment: String,
    home: String,
    shell: String,
    password: Option<String>,
    /// The shadow entry's account expiry in days since the epoch (-1: none, as an empty
    /// field reads in Ansible); `None` without a readable shadow entry.
    expires: Option<i64>,
}

/// `expires` (seconds since the epoch, as Ansible takes it) as useradd/usermod's `-e`
/// value: a UTC date, or empty (never) for a negative value.
fn expiry_flag(expires: f64) -> String {
    if expires < 0.0 {
        return "-e ''".into();
    }
    let date = chrono::DateTime::from_timestamp(expires.floor() as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    format!("-e {date}")
}

/// Does the account's expiry differ from `expires`? As Ansible's Linux user: a negative
/// value wants none (a day count of 0 or more differs; no shadow entry reads as day 0);
/// another compares the UTC dates.
fn expiry_differs(current: Option<i64>, expires: f64) -> bool {
    let current = current.unwrap_or(0);
    if expires < 0.0 {
        return current >= 0;
    }
    let day = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).map(|d| d.date_naive());
    current < 0 || day(current * 86400) != day(expires.floor() as i64)
}

fn query_script(name: &str) -> String {
    let q = quote(name);
    format!(
        "if e=$(getent passwd {q}); then echo \"P:$e\"; echo \"G:$(id -Gn -- {q})\"; echo \"F:$(id -gn -- {q})\"; \
         s=$(getent shadow {q} 2>/dev/null) && echo \"S:$s\"; else echo missing; fi"
    )
}

fn parse(out: &str) -> Option<Account> {
    if out.trim() == "missing" || out.trim().is_empty() {
        return None;
    }
    let mut a = Account::default();
    for line in out.lines() {
        if let Some(p) = line.strip_prefix("P:") {
            let f: Vec<&str> = p.split(':').collect();
            if f.len() >= 7 {
                a.uid = f[2].to_string();
                a.gid = f[3].to_string();
                a.comment = f[4].to_string();
                a.home = f[5].to_string();
                a.shell = f[6].to_string();
            }
        } else if let Some(g) = line.strip_prefix("G:") {
            a.groups = g.split_whitespace().map(str::to_string).collect();
        } else if let Some(g) = line.strip_prefix("F:") {
            a.primary = g.trim().to_string();
        } else if let Some(s) = line.strip_prefix("S:") {
            a.password = s.split(':').nth(1).map(str::to_string);
            a.expires = s.split(':').nth(7).map(|e| e.trim().parse().unwrap_or(-1));
        }
    }
    Some(a)
}

impl Module for User {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("name") {
            Ok(Some(n)) => vec![Probe::Query {
                script: query_script(&n),
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let name = args.req_str("name")?;
        if name.is_empty() || name.starts_with('-') || name.contains([':', '\n', ' ', '/']) {
            return Err(Error::module(format!("'{name}' is not a valid user name")));
        }
        let current = parse(&ctx.query(&query_script(&name))?);
        let present = args.str("state")?.as_deref() != Some("absent");
        let q = quote(&name);
        let mut result = Vars::new();
        result.insert("name".into(), Value::from(name.as_str()));
        result.insert(
            "state".into(),
            Value::from(if present { "present" } else { "absent" }),
        );
        // Like Ansible, check mode reports only `changed` for an account it would create or
        // remove; a real change reports the account as the databases have it afterwards.
        let reported: Vars = if ctx.check {
            Vars::new()
        } else {
            result.clone()
        };
        if !present {
            let Some(_) = current else {
                return Ok(Plan::no_change(result));
            };
            let (remove, force) = (args.bool("remove", false)?, args.bool("force", false)?);
            let mut result = reported;
            if !ctx.check {
                result.insert("force".into(), Value::from(force));
                result.insert("remove".into(), Value::from(remove));
            }
            let mut cmd = String::from("userdel");
            if remove {
                cmd.push_str(" -r");
            }
            if force {
                cmd.push_str(" -f");
            }
            let script = format!("{cmd} -- {q}");
            let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
                let out = super::sh_checked(ctx, &script, "userdel")?;
                let mut r = Vars::new();
                tool_output(&mut r, &out.stdout_str(), &out.stderr_str());
                Ok(r)
            });
            let diff = Diff {
                before_header: format!("user {name}"),
                after_header: format!("user {name}"),
                before: "state: present\n".into(),
                after: "state: absent\n".into(),
            };
            return Ok(Plan::change(Change::Remove, result, apply).with_diff(Some(diff)));
        }
        let groups = args.str_list("groups")?;
        let requested_groups = args.has("groups").then(|| groups.join(","));
        let append = args.bool("append", false)?;
        if args.has("password") {
            result.insert("password".into(), Value::from("NOT_LOGGING_PASSWORD"));
        }
        let mut flags: Vec<String> = Vec::new();
        let mut what: Vec<String> = Vec::new();
        let (mut before, mut after) = (String::new(), String::new());
        let mut note = |field: &str,
                        old: &str,
                        new: &str,
                        flags: &mut Vec<String>,
                        flag: &str,
                        value: &str| {
            what.push(field.to_string());
            before.push_str(&format!("{field}: {old}\n"));
            after.push_str(&format!("{field}: {new}\n"));
            flags.push(format!("{flag} {}", quote(value)));
        };
        match &current {
            None => {
                let mut f = Vec::new();
                if let Some(uid) = args.int("uid")? {
                    f.push(format!("-u {uid}"));
                }
                if let Some(g) = args.str("group")? {
                    f.push(format!("-g {}", quote(&g)));
                }
                if !groups.is_empty() {
                    f.push(format!("-G {}", quote(&groups.join(","))));
                }
                for (k, flag) in [
                    ("shell", "-s"),
                    ("home", "-d"),
                    ("comment", "-c"),
                    ("password", "-p"),
                ] {
                    if let Some(v) = args.str(k)? {
                        f.push(format!("{flag} {}", quote(&v)));
                    }
                }
                let (system, create_home) =
                    (args.bool("system", false)?, args.bool("create_home", true)?);
                if system {
                    f.push("-r".into());
                }
                f.push(if create_home {
                    "-m".into()
                } else {
                    "-M".into()
                });
                if args.bool("non_unique", false)? {
                    f.push("-o".into());
                }
                if let Some(e) = args.float("expires")? {
                    f.push(expiry_flag(e));
                }
                let script = format!("useradd {} -- {q}", f.join(" "));
                let diff = Diff {
                    before_header: format!("user {name}"),
                    after_header: format!("user {name}"),
                    before: "state: absent\n".into(),
                    after: "state: present\n".into(),
                };
                let mut result = reported;
                if !ctx.check {
                    result.insert("system".into(), Value::from(system));
                    result.insert("create_home".into(), Value::from(create_home));
                }
                let apply = change_then_report(script, name, requested_groups);
                return Ok(Plan::change(Change::Create, result, apply).with_diff(Some(diff)));
            }
            Some(cur) => {
                if let Some(uid) = args.int("uid")? {
                    if cur.uid != uid.to_string() {
                        note(
                            "uid",
                            &cur.uid,
                            &uid.to_string(),
                            &mut flags,
                            "-u",
                            &uid.to_string(),
                        );
                    }
                }
                if let Some(g) = args.str("group")? {
                    if g != cur.primary && g != cur.gid {
                        note("group", &cur.primary, &g, &mut flags, "-g", &g);
                    }
                }
                if !groups.is_empty() || (args.has("groups") && !append) {
                    let secondary: Vec<&String> =
                        cur.groups.iter().filter(|g| **g != cur.primary).collect();
                    let missing: Vec<&String> =
                        groups.iter().filter(|g| !cur.groups.contains(g)).collect();
                    let extra = !append && secondary.iter().any(|g| !groups.contains(g));
                    if !missing.is_empty() || extra {
                        let old = secondary
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(",");
                        let new = if append {
                            let mut all: Vec<String> =
                                secondary.iter().map(|s| s.to_string()).collect();
                            all.extend(missing.iter().map(|s| s.to_string()));
                            all.join(",")
                        } else {
                            groups.join(",")
                        };
                        note("groups", &old, &new, &mut flags, "-G", &groups.join(","));
                        if append {
                            flags.push("-a".into());
                        }
                    }
                }
                for (k, cur_v, flag) in [
                    ("shell", &cur.shell, "-s"),
                    ("home", &cur.home, "-d"),
                    ("comment", &cur.comment, "-c"),
                ] {
                    if let Some(v) = args.str(k)? {
                        if &v != cur_v {
                            note(k, cur_v, &v, &mut flags, flag, &v);
                            if k == "home" && args.bool("move_home", false)? {
                                flags.push("-m".into());
                            }
                        }
                    }
                }
                if let Some(p) = args.str("password")? {
                    let always = args.str("update_password")?.as_deref() != Some("on_create");
                    if always && cur.password.as_deref() != Some(p.as_str()) {
                        what.push("password".into());
                        before.push_str("password: (hidden)\n");
                        after.push_str("password: (changed)\n");
                        flags.push(format!("-p {}", quote(&p)));
                    }
                }
                if let Some(e) = args.float("expires")? {
                    if expiry_differs(cur.expires, e) {
                        what.push("expires".into());
                        let shown = |d: Option<i64>| match d {
                            Some(d) if d >= 0 => d.to_string(),
                            _ => "never".into(),
                        };
                        before.push_str(&format!("expires: {}\n", shown(cur.expires)));
                        after.push_str(&format!(
                            "expires: {}\n",
                            if e < 0.0 {
                                "never".into()
                            } else {
                                ((e.floor() as i64) / 86400).to_string()
                            }
                        ));
                        flags.push(expiry_flag(e));
                    }
                }
                result.insert("append".into(), Value::from(append));
                result.insert(
                    "move_home".into(),
                    Value::from(args.bool("move_home", false)?),
                );
                add_current(&mut result, cur, requested_groups.as_deref());
            }
        }
        if flags.is_empty() {
            return Ok(Plan::no_change(result));
        }
        let script = format!("usermod {} -- {q}", flags.join(" "));
        let apply = change_then_report(script, name.clone(), requested_groups);
        let diff = Diff {
            before_header: format!("user {name}"),
            after_header: format!("user {name}"),
            before,
            after,
        };
        Ok(Plan::change(Change::Modify(what), result, apply).with_diff(Some(diff)))
    }
}

/// Run `script` (useradd, usermod), then read the account again in the same round trip:
/// Ansible's result shows the account as it is after the change.
fn change_then_report(script: String, name: String, groups: Option<String>) -> super::ApplyFn {
    Box::new(move |ctx: &mut ModuleCtx<'_>| {
        let what = script.split_whitespace().next().unwrap_or("command");
        let out = super::sh_checked(
            ctx,
            &format!(
                "{script} || exit $?\necho @drover-account\n{}",
                query_script(&name)
            ),
            what,
        )?;
        let text = out.stdout_str();
        let (said, after) = text.split_once("@drover-account\n").unwrap_or(("", ""));
        let mut r = Vars::new();
        tool_output(&mut r, said, &out.stderr_str());
        if let Some(a) = parse(after) {
            add_current(&mut r, &a, groups.as_deref());
        }
        Ok(r)
    })
}

/// What useradd/usermod/userdel printed, under the keys Ansible's result uses (only when
/// they printed something).
fn tool_output(r: &mut Vars, stdout: &str, stderr: &str) {
    for (k, v) in [("stdout", stdout), ("stderr", stderr)] {
        if !v.is_empty() {
            r.insert(k.into(), Value::from(v));
            r.insert(
                format!("{k}_lines"),
                Value::from(crate::template::ansible::pycompat::splitlines(v, false)),
            );
        }
    }
}

/// The account's keys in Ansible's result; `groups` echoes the requested groups, as there.
fn add_current(r: &mut Vars, a: &Account, groups: Option<&str>) {
    r.insert(
        "uid".into(),
        Value::from(a.uid.parse::<i64>().unwrap_or(-1)),
    );
    r.insert(
        "group".into(),
        Value::from(a.gid.parse::<i64>().unwrap_or(-1)),
    );
    if let Some(g) = groups {
        r.insert("groups".into(), Value::from(g));
    }
    r.insert("home".into(), Value::from(a.home.as_str()));
    r.insert("shell".into(), Value::from(a.shell.as_str()));
    r.insert("comment".into(), Value::from(a.comment.as_str()));
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_the_account_databases() {
        let a = parse("P:deploy:x:1001:1001:Deploy User:/home/deploy:/bin/bash\nG:deploy sudo adm\nF:deploy\nS:deploy:$6$abc:19000:0:99999:7:::\n").unwrap();
        assert_eq!(
            (a.uid.as_str(), a.shell.as_str(), a.primary.as_str()),
            ("1001", "/bin/bash", "deploy")
        );
        assert_eq!(a.groups, ["deploy", "sudo", "adm"]);
        assert_eq!(a.password.as_deref(), Some("$6$abc"));
        assert!(parse("missing\n").is_none());
        // An empty expiry field is "never" (-1), as Ansible reads it.
        assert_eq!(a.expires, Some(-1));
    }

    #[test]
    fn expiry_is_compared_and_written_as_ansibles_linux_user() {
        use super::{expiry_differs, expiry_flag};
        assert_eq!(expiry_flag(-1.0), "-e ''");
        assert_eq!(expiry_flag(1_422_403_387.0), "-e 2015-01-28");
        // Never wanted: no entry (day 0) or a date differs, "never" (-1) does not.
        assert!(expiry_differs(None, -1.0));
        assert!(expiry_differs(Some(16463), -1.0));
        assert!(!expiry_differs(Some(-1), -1.0));
        // A date: the same UTC day does not differ, another day or "never" does.
        assert!(!expiry_differs(Some(16463), 1_422_403_387.0));
        assert!(expiry_differs(Some(16464), 1_422_403_387.0));
        assert!(expiry_differs(Some(-1), 1_422_403_387.0));
    }
}
