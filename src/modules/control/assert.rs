//! assert: fails the host unless every condition in `that` holds.

use super::{ok, spec};
use crate::diagnostics::Result;
use crate::modules::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use crate::modules::{Args, Module, ModuleCtx, Plan};
use minijinja::Value;

pub struct Assert;

static ASSERT: ModuleSpec = ModuleSpec {
    required_one_of: &[&["that"]],
    ..spec(
        "assert",
        &[
            arg("that", List).required(),
            arg("fail_msg", Any).aliases(&["msg"]),
            arg("success_msg", Any),
            arg("quiet", Bool),
        ],
        FreeForm::KeyValue,
        true,
    )
};

impl Module for Assert {
    fn spec(&self) -> &'static ModuleSpec {
        &ASSERT
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        // A single condition may hold commas (`version('2.12', '>=')`): Ansible's assert
        // takes a string as one condition, it does not split it like a list argument.
        let conds = match args.value("that") {
            Some(v) if v.kind() == minijinja::value::ValueKind::String => vec![v.clone()],
            _ => args.list("that")?,
        };
        for cond in conds {
            if !ctx.eval.eval_cond(&cond)? {
                let msg = args
                    .value("fail_msg")
                    .cloned()
                    .unwrap_or_else(|| Value::from("Assertion failed"));
                let mut p = ok(vec![
                    ("msg", msg),
                    ("assertion", cond.clone()),
                    ("evaluated_to", Value::from(false)),
                ]);
                p.failed = true;
                return Ok(p);
            }
        }
        let msg = args
            .value("success_msg")
            .cloned()
            .unwrap_or_else(|| Value::from("All assertions passed"));
        Ok(ok(vec![("msg", msg)]))
    }
}
