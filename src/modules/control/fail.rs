//! fail: fails the host with a message.

use super::{ok, spec};
use crate::diagnostics::Result;
use crate::modules::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use crate::modules::{Args, Module, ModuleCtx, Plan};
use minijinja::Value;

pub struct Fail;

static FAIL: ModuleSpec = spec("fail", &[arg("msg", Any)], FreeForm::KeyValue, true);

impl Module for Fail {
    fn spec(&self) -> &'static ModuleSpec {
        &FAIL
    }
    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let msg = args
            .value("msg")
            .cloned()
            .unwrap_or_else(|| Value::from("Failed as requested from task"));
        let mut p = ok(vec![("msg", msg)]);
        p.failed = true;
        Ok(p)
    }
}
