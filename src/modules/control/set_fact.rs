//! set_fact: sets host variables (facts) for the rest of the run.

use super::{ok, spec};
use crate::diagnostics::{Error, Result};
use crate::modules::spec::{FreeForm, ModuleSpec};
use crate::modules::{Args, Effect, Module, ModuleCtx, Plan};
use crate::vars::Vars;
use minijinja::Value;

pub struct SetFact;

static SET_FACT: ModuleSpec = ModuleSpec {
    any_keys: true,
    messages: &[],
    ..spec("set_fact", &[], FreeForm::KeyValue, true)
};

impl Module for SetFact {
    fn spec(&self) -> &'static ModuleSpec {
        &SET_FACT
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let facts: Vars = args
            .raw()
            .iter()
            .filter(|(k, _)| k.as_str() != "cacheable")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if facts.is_empty() {
            return Err(Error::module("set_fact needs at least one variable to set"));
        }
        let mut p = ok(vec![("ansible_facts", Value::from_iter(facts.clone()))]);
        p.effects.push(Effect::SetFacts(facts));
        Ok(p)
    }
}
