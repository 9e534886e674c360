//! getent: a name-service database (passwd, group, hosts, services …) read with the
//! host's `getent`, returned as the fact `getent_<database>`: each line's first field is
//! the key, the rest its list of fields (several lines with one key: a list of lists).

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Effect, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use indexmap::IndexMap;
use minijinja::Value;

pub struct Getent;

static GETENT: ModuleSpec = ModuleSpec {
    name: "getent",
    aliases: &[],
    args: &[
        arg("database", Str).required(),
        arg("key", Str),
        arg("service", Str),
        arg("split", Str),
        arg("fail_key", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Databases whose fields are colon-separated when `split` is not given.
const COLON: &[&str] = &["passwd", "shadow", "group", "gshadow"];

/// Parse getent's output as Ansible's module does. `split: None` splits on runs of
/// whitespace (Python's `str.split()`).
pub fn parse(out: &str, split: Option<&str>) -> IndexMap<String, Value> {
    let mut tree: IndexMap<String, Value> = IndexMap::new();
    let mut seen: IndexMap<String, usize> = IndexMap::new();
    for line in out.lines() {
        let record: Vec<String> = match split {
            Some(sep) if !sep.is_empty() => line.split(sep).map(str::to_string).collect(),
            _ => line.split_whitespace().map(str::to_string).collect(),
        };
        let Some((key, rest)) = record.split_first() else {
            continue;
        };
        let fields = Value::from(rest.to_vec());
        match seen.get_mut(key) {
            Some(n) => {
                let prev = tree.get(key).cloned().unwrap_or_default();
                let mut list: Vec<Value> = if *n == 1 {
                    vec![prev]
                } else {
                    prev.try_iter().map(|i| i.collect()).unwrap_or_default()
                };
                list.push(fields);
                tree.insert(key.clone(), Value::from(list));
                *n += 1;
            }
            None => {
                tree.insert(key.clone(), fields);
                seen.insert(key.clone(), 1);
            }
        }
    }
    tree
}

impl Module for Getent {
    fn spec(&self) -> &'static ModuleSpec {
        &GETENT
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let database = args.req_str("database")?;
        let key = args.str("key")?;
        let service = args.str("service")?;
        let fail_key = args.bool("fail_key", true)?;
        let split = args
            .str("split")?
            .or_else(|| COLON.contains(&database.as_str()).then(|| ":".to_string()));
        let mut cmd = format!("getent {}", quote(&database));
        if let Some(k) = &key {
            cmd.push_str(&format!(" -- {}", quote(k)));
        }
        if let Some(s) = &service {
            // Options before `--`: getent reads them wherever they are, drover keeps
            // them ahead of the key so a key like `-s` stays a key.
            cmd = format!("getent -s {} {}", quote(s), &cmd["getent ".len()..]);
        }
        let out = ctx.sh(
            &format!("command -v getent >/dev/null || exit 127\n{cmd}"),
            None,
        )?;
        let fact = format!("getent_{database}");
        let facts_of = |tree: IndexMap<String, Value>| {
            Vars::from_iter([(fact.clone(), Value::from_iter(tree))])
        };
        let msg = match out.rc {
            0 => {
                let facts = facts_of(parse(&out.stdout_str(), split.as_deref()));
                let mut p = Plan::no_change(Vars::from_iter([(
                    "ansible_facts".to_string(),
                    Value::from_iter(facts.clone()),
                )]));
                p.effects.push(Effect::ModuleFacts(facts));
                return Ok(p);
            }
            1 => "Missing arguments, or database unknown.",
            2 if !fail_key => {
                let msg = "One or more supplied key could not be found in the database.";
                let mut tree = IndexMap::new();
                tree.insert(key.clone().unwrap_or_default(), Value::from(()));
                let facts = facts_of(tree);
                let mut p = Plan::no_change(Vars::from_iter([
                    ("ansible_facts".to_string(), Value::from_iter(facts.clone())),
                    ("msg".to_string(), Value::from(msg)),
                ]));
                p.effects.push(Effect::ModuleFacts(facts));
                return Ok(p);
            }
            2 => "One or more supplied key could not be found in the database.",
            3 => "Enumeration not supported on this database.",
            127 => {
                return Err(Error::module(format!(
                    "getent: the host {} has no getent command",
                    ctx.host
                ))
                .with_help("install libc-bin (Debian) or glibc-common"))
            }
            _ => "Unexpected failure!",
        };
        let mut p = Plan::no_change(Vars::from_iter([("msg".to_string(), Value::from(msg))]));
        p.failed = true;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_and_whitespace_records() {
        let t = parse("root:x:0:0:root:/root:/bin/bash\n", Some(":"));
        assert_eq!(
            t["root"].to_string(),
            r#"["x", "0", "0", "root", "/root", "/bin/bash"]"#
        );
        // Several lines with one key become a list of lists.
        let t = parse(
            "127.0.0.1       localhost\n127.0.0.1  a b\n127.0.0.1 c\n::1 localhost\n",
            None,
        );
        assert_eq!(
            t["127.0.0.1"].to_string(),
            r#"[["localhost"], ["a", "b"], ["c"]]"#
        );
        assert_eq!(t["::1"].to_string(), r#"["localhost"]"#);
        // Empty lines are skipped.
        assert_eq!(parse("\n", None).len(), 0);
    }
}
