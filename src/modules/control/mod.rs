//! Modules that act on the run rather than the host, one per file: debug, assert, fail,
//! set_fact, meta, include_vars, ping. This file holds what their specs and results share.

use super::spec::{FreeForm, ModuleSpec};
use super::Plan;
use minijinja::Value;

mod assert;
mod debug;
mod fail;
mod include_vars;
mod meta;
mod ping;
mod set_fact;

pub(crate) use assert::Assert;
pub(crate) use debug::Debug;
pub(crate) use fail::Fail;
pub(crate) use include_vars::IncludeVars;
pub(crate) use meta::Meta;
pub(crate) use ping::Ping;
pub(crate) use set_fact::SetFact;

/// A spec with no aliases, argument groups or free keys: what most of these modules need.
pub(super) const fn spec(
    name: &'static str,
    args: &'static [super::ArgSpec],
    free_form: FreeForm,
    controller_only: bool,
) -> ModuleSpec {
    ModuleSpec {
        name,
        aliases: &[],
        args,
        free_form,
        required_one_of: &[],
        mutually_exclusive: &[],
        controller_only,
        any_keys: false,
        messages: &[],
    }
}

/// A result without change from its keys and values.
pub(super) fn ok(pairs: Vec<(&str, Value)>) -> Plan {
    Plan::no_change(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}
