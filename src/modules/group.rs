//! group: local groups through `groupadd`/`groupmod`/`groupdel`.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::inventory::Vars;
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
        result.insert("system".into(), Value::from(args.bool("system", false)?));
        let header = format!("group {name}");
        let diff = |b: &str, a: &str| Diff {
            before_header: header.clone(),
            after_header: header.clone(),
            before: b.to_string(),
            after: a.to_string(),
        };
        match (present, current_gid) {
            (false, None) => Ok(Plan::no_change(result)),
            (false, Some(_)) => {
                let force = if args.bool("force", false)? {
                    " -f"
                } else {
                    ""
                };
                Ok(Plan::change(
                    Change::Remove,
                    result,
                    super::run_named(format!("groupdel{force} -- {q}")),
                )
                .with_diff(Some(diff("state: present\n", "state: absent\n")))
                .touching(Vec::new()))
            }
            (true, None) => {
                let mut f = Vec::new();
                if let Some(g) = args.int("gid")? {
                    f.push(format!("-g {g}"));
                    result.insert("gid".into(), Value::from(g));
                }
                if args.bool("system", false)? {
                    f.push("-r".into());
                }
                if args.bool("non_unique", false)? {
                    f.push("-o".into());
                }
                Ok(Plan::change(
                    Change::Create,
                    result,
                    super::run_named(format!("groupadd {} -- {q}", f.join(" "))),
                )
                .with_diff(Some(diff("state: absent\n", "state: present\n")))
                .touching(Vec::new()))
            }
            (true, Some(gid)) => {
                result.insert("gid".into(), Value::from(gid.parse::<i64>().unwrap_or(-1)));
                match args.int("gid")? {
                    Some(want) if want.to_string() != gid => {
                        result.insert("gid".into(), Value::from(want));
                        let d = diff(&format!("gid: {gid}\n"), &format!("gid: {want}\n"));
                        Ok(Plan::change(
                            Change::Modify(vec!["gid".into()]),
                            result,
                            super::run_named(format!("groupmod -g {want} -- {q}")),
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
