//! command, shell and raw.

use super::probe::{glob_word, Probe};
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{result, Args, Change, Module, ModuleCtx, Plan};
use crate::clock::{format_delta, format_timestamp};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::inventory::Vars;
use minijinja::Value;
use std::time::{Instant, SystemTime};

pub struct Command;
pub struct Shell;
pub struct Raw;

static COMMAND: ModuleSpec = ModuleSpec {
    name: "command",
    aliases: &[],
    args: &[
        arg("cmd", Str),
        arg("argv", List),
        arg("chdir", Str),
        arg("creates", Str),
        arg("removes", Str),
        arg("stdin", Str),
        arg("stdin_add_newline", Bool),
        arg("strip_empty_ends", Bool),
        arg("expand_argument_vars", Bool),
    ],
    free_form: FreeForm::RawParams,
    required_one_of: &[&["cmd", "argv"]],
    mutually_exclusive: &[&["cmd", "argv"]],
    controller_only: false,
    any_keys: false,
};

static SHELL: ModuleSpec = ModuleSpec {
    name: "shell",
    aliases: &[],
    args: &[
        arg("cmd", Str),
        arg("chdir", Str),
        arg("creates", Str),
        arg("removes", Str),
        arg("stdin", Str),
        arg("stdin_add_newline", Bool),
        arg("strip_empty_ends", Bool),
        arg("executable", Str),
    ],
    free_form: FreeForm::RawParams,
    required_one_of: &[&["cmd"]],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
};

static RAW: ModuleSpec = ModuleSpec {
    name: "raw",
    aliases: &[],
    args: &[arg("executable", Str)],
    free_form: FreeForm::RawParams,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
};

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    Command,
    Shell,
    Raw,
}

impl Module for Command {
    fn spec(&self) -> &'static ModuleSpec {
        &COMMAND
    }
    fn probes(&self, args: &Args) -> Vec<Probe> {
        guard_probes(args)
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_command(ctx, args, Flavor::Command)
    }
}

impl Module for Shell {
    fn spec(&self) -> &'static ModuleSpec {
        &SHELL
    }
    fn probes(&self, args: &Args) -> Vec<Probe> {
        guard_probes(args)
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_command(ctx, args, Flavor::Shell)
    }
}

impl Module for Raw {
    fn spec(&self) -> &'static ModuleSpec {
        &RAW
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_command(ctx, args, Flavor::Raw)
    }
}

/// The script that runs the command, and the `cmd` shown in the result.
fn build_script(args: &Args, flavor: Flavor) -> Result<(String, Value)> {
    let text = match args.str("cmd")? {
        Some(c) => Some(c),
        None => args.str("_raw_params")?,
    };
    match flavor {
        Flavor::Command => {
            let argv: Vec<String> = if args.has("argv") {
                args.str_list("argv")?
            } else {
                let t = text.ok_or_else(|| {
                    Error::module("command needs a command line (cmd, argv or free-form text)")
                })?;
                shlex::split(&t).ok_or_else(|| {
                    Error::module(format!(
                        "cannot split command line '{t}': unbalanced quotes"
                    ))
                })?
            };
            if argv.is_empty() {
                return Err(Error::module("command: the command line is empty"));
            }
            let script = format!(
                "exec {}",
                argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
            );
            Ok((script, Value::from(argv)))
        }
        Flavor::Shell | Flavor::Raw => {
            let t =
                text.ok_or_else(|| Error::module("shell needs a command (cmd or free-form text)"))?;
            let exe = args
                .str("executable")?
                .unwrap_or_else(|| "/bin/sh".to_string());
            let script = format!("exec {} -c {}", quote(&exe), quote(&t));
            Ok((script, Value::from(t)))
        }
    }
}

fn plan_command(ctx: &mut ModuleCtx<'_>, args: &Args, flavor: Flavor) -> Result<Plan> {
    let (script, cmd) = build_script(args, flavor)?;
    let chdir = args.str("chdir")?;
    let creates = args.str("creates")?;
    let removes = args.str("removes")?;
    let decided = match (&creates, &removes) {
        (None, None) => None,
        _ => Some(guard_outcome(
            ctx,
            creates.as_deref(),
            removes.as_deref(),
            chdir.as_deref(),
        )?),
    };
    // As Ansible's command module: "Would" in check mode, "Did" otherwise.
    let shoulda = if ctx.check { "Would" } else { "Did" };
    if let Some(said) = decided {
        let reason = match said {
            Guard::Creates => {
                let c = creates.clone().unwrap_or_default();
                Some((
                    format!("{shoulda} not run command since '{c}' exists"),
                    format!("skipped, since {c} exists"),
                ))
            }
            Guard::Removes => {
                let r = removes.clone().unwrap_or_default();
                Some((
                    format!("{shoulda} not run command since '{r}' does not exist"),
                    format!("skipped, since {r} does not exist"),
                ))
            }
            Guard::Run => None,
        };
        if let Some((msg, stdout)) = reason {
            return Ok(Plan::no_change(result(&[
                ("cmd", cmd),
                ("rc", Value::from(0)),
                ("stdout", Value::from(stdout.clone())),
                ("stderr", Value::from("")),
                ("stdout_lines", Value::from(vec![Value::from(stdout)])),
                ("stderr_lines", Value::from(Vec::<Value>::new())),
                ("msg", Value::from(msg)),
            ])));
        }
    }
    let check_result = result(&[
        ("cmd", cmd.clone()),
        ("rc", Value::from(0)),
        ("stdout", Value::from("")),
        ("stderr", Value::from("")),
        ("stdout_lines", Value::from(Vec::<Value>::new())),
        ("stderr_lines", Value::from(Vec::<Value>::new())),
        (
            "msg",
            Value::from("Command would have run if not in check mode"),
        ),
    ]);
    let stdin = args.str("stdin")?.map(|s| {
        let mut data = s.into_bytes();
        if args.bool("stdin_add_newline", true).unwrap_or(true) {
            data.push(b'\n');
        }
        data
    });
    let strip = args.bool("strip_empty_ends", true)?;
    let full = match &chdir {
        Some(c) => format!("cd {} || exit 1\n{script}", quote(c)),
        None => script,
    };
    let mut plan = Plan::change(
        Change::Run,
        Vars::new(),
        Box::new(move |ctx: &mut ModuleCtx<'_>| run(ctx, &full, stdin.as_deref(), cmd, strip)),
    );
    if ctx.check {
        // Without creates/removes the command is skipped; with them it would run (a
        // change), as Ansible reports it.
        plan.result.extend(check_result);
        if creates.is_none() && removes.is_none() {
            plan.skipped = true;
        }
    }
    Ok(plan)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    Creates,
    Removes,
    Run,
}

/// `creates`/`removes` paths, made absolute against `chdir` (they may be globs).
fn guard_path(p: &str, chdir: Option<&str>) -> String {
    match chdir {
        Some(d) if !p.starts_with('/') => format!("{}/{p}", d.trim_end_matches('/')),
        _ => p.to_string(),
    }
}

/// Whether `creates`/`removes` stop the command: from the batched probes when they were
/// fetched, else with one remote check.
fn guard_outcome(
    ctx: &mut ModuleCtx<'_>,
    creates: Option<&str>,
    removes: Option<&str>,
    chdir: Option<&str>,
) -> Result<Guard> {
    let mut exists = |p: &str| -> Result<bool> {
        let path = guard_path(p, chdir);
        if let Some(b) = ctx.cached_exists(&path) {
            return Ok(b);
        }
        let out = ctx.sh(
            &format!(
                "for p in {}; do [ -e \"$p\" ] && {{ echo yes; exit 0; }}; done; echo no",
                glob_word(&path)
            ),
            None,
        )?;
        Ok(out.stdout_str().trim() == "yes")
    };
    if let Some(c) = creates {
        if exists(c)? {
            return Ok(Guard::Creates);
        }
    }
    if let Some(r) = removes {
        if !exists(r)? {
            return Ok(Guard::Removes);
        }
    }
    Ok(Guard::Run)
}

/// What `creates`/`removes` will look at, for the batched prefetch.
fn guard_probes(args: &Args) -> Vec<Probe> {
    let chdir = args.str("chdir").ok().flatten();
    ["creates", "removes"]
        .iter()
        .filter_map(|k| args.str(k).ok().flatten())
        .map(|p| Probe::Exists {
            pattern: guard_path(&p, chdir.as_deref()),
        })
        .collect()
}

fn run(
    ctx: &mut ModuleCtx<'_>,
    script: &str,
    stdin: Option<&[u8]>,
    cmd: Value,
    strip: bool,
) -> Result<Vars> {
    let start = SystemTime::now();
    let t0 = Instant::now();
    let out = ctx.sh(script, stdin)?;
    let end = SystemTime::now();
    let mut stdout = out.stdout_str();
    let mut stderr = out.stderr_str();
    if strip {
        stdout = stdout.trim_end_matches(['\n', '\r']).to_string();
        stderr = stderr.trim_end_matches(['\n', '\r']).to_string();
    }
    let lines = |s: &str| Value::from(s.lines().map(Value::from).collect::<Vec<_>>());
    let mut r = result(&[
        ("cmd", cmd),
        ("rc", Value::from(out.rc)),
        ("stdout", Value::from(stdout.as_str())),
        ("stderr", Value::from(stderr.as_str())),
        ("stdout_lines", lines(&stdout)),
        ("stderr_lines", lines(&stderr)),
        ("start", Value::from(format_timestamp(start))),
        ("end", Value::from(format_timestamp(end))),
        ("delta", Value::from(format_delta(t0.elapsed()))),
        (
            "msg",
            Value::from(if out.rc == 0 {
                ""
            } else {
                "non-zero return code"
            }),
        ),
    ]);
    if out.rc != 0 {
        r.insert("failed".into(), Value::from(true));
    }
    Ok(r)
}
