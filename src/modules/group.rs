//! group: local groups through `groupadd`/`groupmod`/`groupdel`.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Group;

static SPEC: ModuleSpec = ModuleSpec {
    name: "group",
    aliases: &[],
    args: &[
        arg("name", Str).required(),
        arg("state", Str).choices(&["present", "absent"]),
        arg("gid", Int),
        arg("system", Bool),
        arg("non_unique", Bool),
        arg("force", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

fn query_script(name: &str) -> String {
    format!("getent group {} || echo missing", quote(name))
}

impl Module for Group {
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
            return Err(Error::module(format!("'{name}' is not a valid group name")));
        }
        let out = ctx.query(&query_script(&name))?;
        let current_gid = out
            .lines()
            .next()
            .filter(|l| *l != "missing")
            .and_then(|l| l.split(':').nth(2))
            .map(str::to_string);
        let present = args.str("state")?.as_deref() != Some("absent");
        let q = quote(&name);
        let mut result = Vars::new();
        result.insert("name".into(), Value::from(name.as_str()));
        result.insert(
            "state".into(),
            Value::from(if present { "present" } else { "absent" }),
        );
        let system = args.bool("system", false)?;
        // Like Ansible: check mode reports only `changed` for a group it would create or
        // remove; `system` and `gid` describe a group that exists after the task.
        let reported = if ctx.check {
            Vars::new()
        } else {
            result.clone()
        };
        result.insert("system".into(), Value::from(system));
        let header = format!("group {name}");
        let diff = |b: &str, a: &str| Diff {
            before_header: header.clone(),
            after_header: header.clone(),
            before: b.to_string(),
            after: a.to_string(),
        };
        match (present, current_gid) {
            (false, None) => {
                result.shift_remove("system");
                Ok(Plan::no_change(result))
            }
            (false, Some(_)) => {
                let force = if args.bool("force", false)? {
                    " -f"
                } else {
                    ""
                };
                Ok(Plan::change(
                    Change::Remove,
                    reported,
                    super::run_named(format!("groupdel{force} -- {q}")),
                )
                .with_diff(Some(diff("state: present\n", "state: absent\n")))
                .touching(Vec::new()))
            }
            (true, None) => {
                let mut f = Vec::new();
                if let Some(g) = args.int("gid")? {
                    f.push(format!("-g {g}"));
                }
                if system {
                    f.push("-r".into());
                }
                if args.bool("non_unique", false)? {
                    f.push("-o".into());
                }
                let mut reported = reported;
                if !ctx.check {
                    reported.insert("system".into(), Value::from(system));
                }
                Ok(Plan::change(
                    Change::Create,
                    reported,
                    change_then_report(format!("groupadd {} -- {q}", f.join(" ")), name),
                )
                .with_diff(Some(diff("state: absent\n", "state: present\n")))
                .touching(Vec::new()))
            }
            (true, Some(gid)) => {
                result.insert("gid".into(), Value::from(gid.parse::<i64>().unwrap_or(-1)));
                match args.int("gid")? {
                    Some(want) if want.to_string() != gid => {
                        let d = diff(&format!("gid: {gid}\n"), &format!("gid: {want}\n"));
                        Ok(Plan::change(
                            Change::Modify(vec!["gid".into()]),
                            result,
                            change_then_report(format!("groupmod -g {want} -- {q}"), name),
                        )
                        .with_diff(Some(d))
                        .touching(Vec::new()))
                    }
                    _ => Ok(Plan::no_change(result)),
                }
            }
        }
    }
}

/// Run `script` (groupadd, groupmod), then read the group's gid in the same round trip:
/// Ansible's result shows the gid the group has after the change.
fn change_then_report(script: String, name: String) -> super::ApplyFn {
    Box::new(move |ctx: &mut ModuleCtx<'_>| {
        let what = script.split_whitespace().next().unwrap_or("command");
        let out = super::sh_checked(
            ctx,
            &format!("{script} || exit $?\n{}", query_script(&name)),
            what,
        )?;
        let mut r = Vars::new();
        if let Some(gid) = out
            .stdout_str()
            .lines()
            .last()
            .and_then(|l| l.split(':').nth(2))
            .and_then(|g| g.parse::<i64>().ok())
        {
            r.insert("gid".into(), Value::from(gid));
        }
        Ok(r)
    })
}
