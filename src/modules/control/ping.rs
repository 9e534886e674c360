//! ping: proves the host answers a command.

use super::{ok, spec};
use crate::diagnostics::{Error, Result};
use crate::modules::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use crate::modules::{Args, Module, ModuleCtx, Plan};
use minijinja::Value;

pub struct Ping;

static PING: ModuleSpec = spec("ping", &[arg("data", Str)], FreeForm::KeyValue, false);

impl Module for Ping {
    fn spec(&self) -> &'static ModuleSpec {
        &PING
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let data = args.str("data")?.unwrap_or_else(|| "pong".into());
        if data == "crash" {
            // Ansible's ping raises an exception here; 2.19 reports an uncaught module
            // exception with this wording.
            return Err(Error::module("Task failed: Module failed: boom"));
        }
        let out = ctx.sh("echo pong", None)?;
        if out.rc != 0 {
            return Err(Error::module(format!(
                "ping failed: {}",
                out.stderr_str().trim()
            )));
        }
        Ok(ok(vec![("ping", Value::from(data))]))
    }
}
