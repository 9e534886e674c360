//! setup and gather_facts: the host's facts, gathered by the same single command as a
//! play's `gather_facts` (no Python on the host), returned as `ansible_facts` and merged
//! into the host's facts. `filter` keeps the facts whose `ansible_` name matches one of
//! its patterns (shell-style, as Ansible's fnmatch); `gather_subset` is accepted and, as
//! drover gathers one fixed set, only `!all`/`min` style narrowing by `filter` applies.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Effect, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Setup;
pub struct GatherFacts;

static SETUP: ModuleSpec = ModuleSpec {
    name: "setup",
    aliases: &[],
    args: &[
        arg("gather_subset", List),
        arg("gather_timeout", Int),
        arg("filter", List),
        arg("fact_path", Str),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

static GATHER_FACTS: ModuleSpec = ModuleSpec {
    name: "gather_facts",
    aliases: &[],
    args: &[arg("parallel", Bool)],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// The facts (keys without `ansible_`) whose `ansible_` name matches one of `filters`;
/// all of them without filters.
pub fn keep(facts: Vars, filters: &[String]) -> Result<Vars> {
    let patterns: Vec<globset::GlobMatcher> = filters
        .iter()
        .map(|f| {
            globset::Glob::new(f)
                .map(|g| g.compile_matcher())
                .map_err(|e| Error::module(format!("setup: bad filter '{f}': {e}")).caused_by(e))
        })
        .collect::<Result<_>>()?;
    Ok(facts
        .into_iter()
        .filter(|(k, _)| {
            patterns.is_empty() || patterns.iter().any(|p| p.is_match(format!("ansible_{k}")))
        })
        .collect())
}

/// What the play's fact gathering takes from `setup`'s module_defaults (rendered): the
/// `filter` patterns. The other arguments are read as the setup task reads them.
pub fn play_gathering_filter(defaults: Vars) -> Result<Vec<String>> {
    let args = Args::new(&SETUP, defaults)?;
    if args.has("fact_path") {
        return Err(Error::module(
            "setup: fact_path (local facts from the host's .fact files) is not supported (from module_defaults)",
        )
        .with_help("remove fact_path from the play's module_defaults for setup"));
    }
    args.str_list("filter")
}

/// Gather, keep what `filter` asks for, and return it as Ansible's setup does.
fn gather(ctx: &mut ModuleCtx<'_>, filters: &[String]) -> Result<Plan> {
    // Bad patterns fail before the host is asked.
    keep(Vars::new(), filters)?;
    ctx.settle()?;
    let facts = crate::exec::gather_facts(ctx.conn, crate::exec::PythonFact::Skip)?;
    let kept = keep(facts, filters)?;
    let shown: Vars = kept
        .iter()
        .map(|(k, v)| (format!("ansible_{k}"), v.clone()))
        .collect();
    let mut plan = Plan::no_change(Vars::from_iter([(
        "ansible_facts".to_string(),
        Value::from_iter(shown),
    )]));
    plan.effects.push(Effect::UpdateFacts(kept));
    Ok(plan)
}

impl Module for Setup {
    fn spec(&self) -> &'static ModuleSpec {
        &SETUP
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        if args.has("fact_path") {
            return Err(Error::module(
                "setup: fact_path (local facts from the host's .fact files) is not supported",
            )
            .with_help("read the file with slurp or command and set_fact"));
        }
        gather(ctx, &args.str_list("filter")?)
    }
}

impl Module for GatherFacts {
    fn spec(&self) -> &'static ModuleSpec {
        &GATHER_FACTS
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, _args: &Args) -> Result<Plan> {
        gather(ctx, &[])
    }
}
