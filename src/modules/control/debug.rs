//! debug: prints a message or a variable's value (at its `verbosity`).

use super::{ok, spec};
use crate::diagnostics::Result;
use crate::modules::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use crate::modules::{Args, Module, ModuleCtx, Plan};
use minijinja::Value;

pub struct Debug;

static DEBUG: ModuleSpec = ModuleSpec {
    mutually_exclusive: &[&["msg", "var"]],
    ..spec(
        "debug",
        &[arg("msg", Any), arg("var", Str), arg("verbosity", Int)],
        FreeForm::KeyValue,
        true,
    )
};

impl Module for Debug {
    fn spec(&self) -> &'static ModuleSpec {
        &DEBUG
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let verbosity = args.int("verbosity")?.unwrap_or(0);
        if i64::from(ctx.eval.verbosity()) < verbosity {
            let mut p = ok(vec![(
                "skipped_reason",
                Value::from("Verbosity threshold not met."),
            )]);
            p.skipped = true;
            return Ok(p);
        }
        if let Some(var) = args.str("var")? {
            // ansible-core 2.19 shows the error in place of the value.
            let value = match ctx.eval.eval_expr(&var) {
                Ok(v) if !v.is_undefined() => v,
                Ok(_) => Value::from(format!("<< error 1 - '{}' is undefined >>", var.trim())),
                Err(e) => {
                    let msg = e.message.split(" in '").next().unwrap_or_default();
                    Value::from(format!("<< error 1 - {msg} >>"))
                }
            };
            let mut p = ok(vec![(var.as_str(), value.clone())]);
            if let Some(err) = value.as_str().and_then(|v| v.strip_prefix("<< error 1 - ")) {
                let err = err.trim_end_matches(" >>");
                p.result.insert(
                    "warnings".into(),
                    Value::from(vec![format!(
                        "Encountered 1 template error.\nerror 1 - {err}"
                    )]),
                );
            }
            return Ok(p);
        }
        let msg = args
            .value("msg")
            .cloned()
            .unwrap_or_else(|| Value::from("Hello world!"));
        Ok(ok(vec![("msg", msg)]))
    }
}
