//! meta: the run's own actions (`flush_handlers`, `end_play`, `end_host`, `noop`,
//! `clear_host_errors`), carried out by the engine.

use super::{ok, spec};
use crate::diagnostics::{Error, Result};
use crate::modules::spec::{FreeForm, ModuleSpec};
use crate::modules::{Args, Effect, MetaAction, Module, ModuleCtx, Plan};

pub struct Meta;

static META: ModuleSpec = spec("meta", &[], FreeForm::RawParams, true);

impl Module for Meta {
    fn spec(&self) -> &'static ModuleSpec {
        &META
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let what = args.str("_raw_params")?.unwrap_or_default();
        let action = match what.trim() {
            "flush_handlers" => MetaAction::FlushHandlers,
            "end_play" => MetaAction::EndPlay,
            "end_host" => MetaAction::EndHost,
            "noop" | "reset_connection" | "refresh_inventory" => MetaAction::Noop,
            "clear_host_errors" => MetaAction::ClearHostErrors,
            other => return Err(Error::module(format!("meta: '{other}' is not supported"))
                .with_help(
                    "drover supports flush_handlers, end_play, end_host, noop, clear_host_errors",
                )),
        };
        let mut p = ok(vec![]);
        p.effects.push(Effect::Meta(action));
        Ok(p)
    }
}
