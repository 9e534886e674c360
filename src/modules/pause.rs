//! pause: wait `seconds`/`minutes`, or for the operator to answer `prompt`. Runs once per
//! task for the whole batch (Ansible's action bypasses the host loop), on the controller.
//! A `prompt` without a duration needs a terminal on stdin: without one (CI) the task
//! fails saying so, rather than waiting forever or silently answering nothing.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use minijinja::Value;
use std::time::{Duration, Instant};

pub struct Pause;

static PAUSE: ModuleSpec = ModuleSpec {
    name: "pause",
    aliases: &[],
    args: &[
        arg("minutes", Float),
        arg("seconds", Float),
        arg("prompt", Str),
        arg("echo", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["minutes", "seconds"]],
    controller_only: true,
    any_keys: false,
    messages: &[],
};

/// Python's `str()` of a float rounded to 2 places (`1.0`, `0.02`, `12.5`).
fn py_round2(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.1}")
    } else {
        format!("{r}")
    }
}

/// `datetime.now()` as Python prints it, in the controller's local time.
fn now_text() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes only into the struct we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_micros()
    )
}

/// Sleep, but stop early when the run is interrupted (SIGINT/SIGTERM).
fn sleep_interruptible(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && crate::exec::interrupt::received().is_none() {
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(100)));
    }
}

fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

impl Module for Pause {
    fn spec(&self) -> &'static ModuleSpec {
        &PAUSE
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let echo = args.bool("echo", true)?;
        // Ansible reads both with int(): 1.9 is 1.
        let (seconds, unit) = match (args.float("minutes")?, args.float("seconds")?) {
            (Some(m), _) => (Some((m.trunc() as i64).saturating_mul(60)), "minutes"),
            (None, Some(s)) => (Some(s.trunc() as i64), "seconds"),
            (None, None) => (None, "minutes"),
        };
        let prompt = args.str("prompt")?;
        let start = Instant::now();
        let start_text = now_text();
        let mut user_input = String::new();
        match seconds {
            Some(s) => {
                let s = s.max(1);
                eprintln!("Pausing for {s} seconds");
                sleep_interruptible(Duration::from_secs(s as u64));
            }
            None => {
                if !stdin_is_terminal() {
                    return Err(Error::module(
                        "pause: the prompt needs an answer, and stdin is not a terminal",
                    )
                    .with_help(
                        "run drover from a terminal, give the pause seconds: or minutes:, or remove the prompt (CI has no one to answer)",
                    ));
                }
                let text = format!(
                    "[{}]\n{}{}:",
                    ctx.task.display_name().trim(),
                    prompt
                        .as_deref()
                        .unwrap_or("Press enter to continue, Ctrl+C to interrupt"),
                    if echo { "" } else { " (output is hidden)" }
                );
                user_input = if echo {
                    eprint!("{text}");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| {
                        Error::module(format!("pause: cannot read stdin: {e}")).caused_by(e)
                    })?;
                    line.trim_end_matches(['\n', '\r']).to_string()
                } else {
                    rpassword::prompt_password(text).map_err(|e| {
                        Error::module(format!("pause: cannot read stdin: {e}")).caused_by(e)
                    })?
                };
                if crate::exec::interrupt::received().is_some() {
                    return Err(Error::module("user requested abort!"));
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let shown = if unit == "minutes" {
            py_round2(elapsed / 60.0)
        } else {
            py_round2(elapsed)
        };
        Ok(Plan::no_change(super::result(&[
            ("rc", Value::from(0)),
            ("stderr", Value::from("")),
            ("stdout", Value::from(format!("Paused for {shown} {unit}"))),
            ("start", Value::from(start_text)),
            ("stop", Value::from(now_text())),
            ("delta", Value::from(elapsed as i64)),
            ("echo", Value::from(echo)),
            ("user_input", Value::from(user_input)),
        ])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_as_python_prints_it() {
        assert_eq!(py_round2(1.0012), "1.0");
        assert_eq!(py_round2(0.0167), "0.02");
        assert_eq!(py_round2(12.5), "12.5");
        assert_eq!(now_text().len(), 26);
    }
}
