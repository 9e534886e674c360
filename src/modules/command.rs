//! command, shell and raw.

use super::background::{Background, Job};
use super::probe::{glob_word, Probe};
use super::spec::{arg, ArgType::*, Check, FreeForm, ModuleSpec};
use super::{result, Args, Change, Module, ModuleCtx, Plan};
use crate::clock::{format_delta, format_timestamp};
use crate::connection::{expand, quote};
use crate::diagnostics::{Error, Result};
use crate::template::ansible::filters::shell_quote;
use crate::vars::Vars;
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
        // Accepted and ignored with Ansible's warning (the command module runs no shell).
        arg("executable", Str),
    ],
    free_form: FreeForm::RawParams,
    // Ansible's groups (its messages name them): the free-form text is one of the ways.
    required_one_of: &[&["_raw_params", "cmd", "argv"]],
    mutually_exclusive: &[&["_raw_params", "cmd", "argv"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
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
    // Ansible's shell runs its command module, whose group (and message) has argv too;
    // shell refuses argv as an unknown argument before this is looked at.
    required_one_of: &[&["_raw_params", "cmd", "argv"]],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    // Shell's action plugin refuses command's one argument shell lacks, in these words.
    messages: &[(
        Check::Unsupported("expand_argument_vars"),
        "Unsupported parameters for (shell) module: expand_argument_vars",
    )],
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
    messages: &[],
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
    fn probes_optional(&self) -> bool {
        true
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_command(ctx, args, Flavor::Command)
    }
    fn can_background(&self) -> bool {
        true
    }
    fn background(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Option<Result<Background>> {
        Some(background_command(ctx, args, Flavor::Command))
    }
}

impl Module for Shell {
    fn spec(&self) -> &'static ModuleSpec {
        &SHELL
    }
    fn probes(&self, args: &Args) -> Vec<Probe> {
        guard_probes(args)
    }
    fn probes_optional(&self) -> bool {
        true
    }
    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_command(ctx, args, Flavor::Shell)
    }
    fn can_background(&self) -> bool {
        true
    }
    fn background(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Option<Result<Background>> {
        Some(background_command(ctx, args, Flavor::Shell))
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
            // As Ansible's run_command: each argument's `$NAME` and leading `~` are
            // expanded in the module's environment unless `expand_argument_vars: false`.
            let expand = args.bool("expand_argument_vars", true)?;
            let mut script = String::new();
            let mut words = Vec::new();
            for (i, a) in argv.iter().enumerate() {
                if expand && expand::expands(a) {
                    let var = format!("drover_arg{i}");
                    script.push_str(&expand::expanding_assignment(&var, a));
                    words.push(format!("\"${var}\""));
                } else {
                    words.push(quote(a));
                }
            }
            // Ansible's run_command fails before any output when the program cannot be
            // started (Python's exec error): found out here, said on stderr.
            script.push_str(&format!(
                "drover_exe={}\ncase $drover_exe in\n\
                 */*) if [ ! -e \"$drover_exe\" ]; then echo {EXEC_FAILED} 2 >&2; exit 127; \
                 elif [ -d \"$drover_exe\" ] || [ ! -x \"$drover_exe\" ]; then echo {EXEC_FAILED} 13 >&2; exit 126; fi ;;\n\
                 *) command -v -- \"$drover_exe\" >/dev/null 2>&1 || {{ echo {EXEC_FAILED} 2 >&2; exit 127; }} ;;\n\
                 esac\n",
                words[0]
            ));
            script.push_str(&format!("exec {}", words.join(" ")));
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
    let guards = Guards {
        creates: creates.clone(),
        removes: removes.clone(),
        chdir: chdir.clone(),
    };
    // As Ansible, the module changes directory first, in check mode too.
    if let (true, Some(dir)) = (ctx.check, &chdir) {
        if ctx.stat(dir, true, false)?.kind != crate::connection::FileKind::Directory {
            return Err(Error::module(CHDIR_FAILED_MSG));
        }
    }
    // Known from the batch, or asked now in check mode. Otherwise the test travels with
    // the command itself: one round trip whether it runs or not.
    let decided = match guards.cached(ctx) {
        Some(g) => Some(g),
        None if guards.any() && ctx.check => Some(guards.ask(ctx)?),
        None => None,
    };
    if let Some(skip) = decided.and_then(|g| guards.skipped_result(g, ctx.check, &cmd)) {
        return Ok(Plan::no_change(skip));
    }
    let folded_guard = match decided {
        None if guards.any() => Some(guards.clone()),
        _ => None,
    };
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
    let mut full = match &chdir {
        Some(c) => format!(
            "cd -P -- {} 2>/dev/null || {{ echo {CHDIR_FAILED} >&2; exit 1; }}\n{script}",
            quote(c)
        ),
        None => script,
    };
    let marker = guard_marker();
    if let Some(g) = &folded_guard {
        full = format!("{}{full}", g.script(&marker));
    }
    let warning = match (flavor, args.str("executable")?) {
        (Flavor::Command, Some(exe)) => Some(format!(
            "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{exe}'."
        )),
        _ => None,
    };
    let mut plan = Plan::change(
        Change::Run,
        Vars::new(),
        Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let mut out = run(ctx, &full, stdin.as_deref(), cmd.clone(), strip)?;
            if chdir_failed(&out) {
                return Ok(chdir_failed_result(cmd.clone()));
            }
            if let Some(errno) = exec_failed(&out) {
                return Ok(exec_failed_result(&cmd, errno));
            }
            if let Some(w) = &warning {
                out.insert("warnings".into(), Value::from(vec![w.clone()]));
            }
            let said = out
                .get("stdout")
                .and_then(|s| s.as_str().map(str::to_string));
            match (&folded_guard, said) {
                (Some(g), Some(s)) if s.strip_prefix(marker.as_str()).is_some() => {
                    let guard = if s.ends_with("creates") {
                        Guard::Creates
                    } else {
                        Guard::Removes
                    };
                    let mut skip = g.skipped_result(guard, false, &cmd).unwrap_or_default();
                    skip.insert("changed".into(), Value::from(false));
                    Ok(skip)
                }
                _ => Ok(out),
            }
        }),
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

/// command/shell left running on the host (`poll: 0`): the same script as a run in the
/// foreground, its `creates`/`removes` decided now (a stopped command's result is the
/// job's at once), and the results the script itself decides (`chdir`, exec failures)
/// given to the job as Ansible's module would report them.
fn background_command(ctx: &mut ModuleCtx<'_>, args: &Args, flavor: Flavor) -> Result<Background> {
    let (script, cmd) = build_script(args, flavor)?;
    let chdir = args.str("chdir")?;
    let guards = Guards {
        creates: args.str("creates")?,
        removes: args.str("removes")?,
        chdir: chdir.clone(),
    };
    let decided = match guards.cached(ctx) {
        Some(g) => g,
        None => guards.ask(ctx)?,
    };
    if let Some(mut skip) = guards.skipped_result(decided, false, &cmd) {
        skip.shift_remove("stdout_lines");
        skip.shift_remove("stderr_lines");
        skip.insert("changed".into(), Value::from(false));
        return Ok(Background::Finished(skip));
    }
    let stdin = args.str("stdin")?.map(|s| {
        let mut data = s.into_bytes();
        if args.bool("stdin_add_newline", true).unwrap_or(true) {
            data.push(b'\n');
        }
        data
    });
    let full = match &chdir {
        Some(c) => format!(
            "cd -P -- {} 2>/dev/null || {{ echo {CHDIR_FAILED} >&2; exit 1; }}\n{script}",
            quote(c)
        ),
        None => script,
    };
    let mut extra = Vars::new();
    if let (Flavor::Command, Some(exe)) = (flavor, args.str("executable")?) {
        extra.insert(
            "warnings".into(),
            Value::from(vec![format!(
                "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{exe}'."
            )]),
        );
    }
    let lines_dropped = |mut r: Vars| {
        r.shift_remove("stdout_lines");
        r.shift_remove("stderr_lines");
        r
    };
    Ok(Background::Run(Job {
        script: full,
        stdin,
        cmd: cmd.clone(),
        strip: args.bool("strip_empty_ends", true)?,
        fixed: vec![
            (
                1,
                CHDIR_FAILED.into(),
                lines_dropped(chdir_failed_result(cmd.clone())),
            ),
            (
                127,
                format!("{EXEC_FAILED} 2"),
                lines_dropped(exec_failed_result(&cmd, 2)),
            ),
            (
                126,
                format!("{EXEC_FAILED} 13"),
                lines_dropped(exec_failed_result(&cmd, 13)),
            ),
        ],
        extra,
    }))
}

/// What the script says on stderr when its `chdir` does not exist (then exits 1).
const CHDIR_FAILED: &str = "__drover_chdir_failed__";
const CHDIR_FAILED_MSG: &str = "Unable to change directory before execution.";

fn chdir_failed(out: &Vars) -> bool {
    out.get("rc").and_then(|v| i64::try_from(v.clone()).ok()) == Some(1)
        && out
            .get("stderr")
            .and_then(|v| v.as_str().map(|s| s.trim_end() == CHDIR_FAILED))
            .unwrap_or(false)
}

/// Ansible's result when `chdir` fails: the command never ran, so its keys are empty.
fn chdir_failed_result(cmd: Value) -> Vars {
    let none = || Value::from(());
    result(&[
        ("changed", Value::from(false)),
        ("stdout", Value::from("")),
        ("stderr", Value::from("")),
        ("rc", none()),
        ("cmd", cmd),
        ("start", none()),
        ("end", none()),
        ("delta", none()),
        ("msg", Value::from(CHDIR_FAILED_MSG)),
        ("failed", Value::from(true)),
        ("stdout_lines", Value::from(Vec::<Value>::new())),
        ("stderr_lines", Value::from(Vec::<Value>::new())),
    ])
}

/// What the script says on stderr, with the errno, when the program cannot be started.
const EXEC_FAILED: &str = "__drover_exec_failed__";

/// The errno of a program that could not be started.
fn exec_failed(out: &Vars) -> Option<i64> {
    let rc = out.get("rc").and_then(|v| i64::try_from(v.clone()).ok())?;
    let stderr = out.get("stderr")?.as_str()?.trim_end();
    let errno = stderr.strip_prefix(EXEC_FAILED)?.trim().parse().ok()?;
    matches!(rc, 126 | 127).then_some(errno)
}

/// Ansible's result when the exec fails: `rc` is the errno, `cmd` the command line as
/// Python's shlex.quote joins it.
fn exec_failed_result(cmd: &Value, errno: i64) -> Vars {
    let line = match cmd.try_iter() {
        Ok(args) if cmd.as_str().is_none() => args
            .map(|a| shell_quote(&a.as_str().map_or_else(|| a.to_string(), str::to_string)))
            .collect::<Vec<_>>()
            .join(" "),
        _ => cmd.to_string(),
    };
    result(&[
        ("changed", Value::from(false)),
        ("cmd", Value::from(line)),
        ("failed", Value::from(true)),
        ("msg", Value::from("Error executing command.")),
        ("rc", Value::from(errno)),
        ("stderr", Value::from("")),
        ("stderr_lines", Value::from(Vec::<Value>::new())),
        ("stdout", Value::from("")),
        ("stdout_lines", Value::from(Vec::<Value>::new())),
        // Ansible's text when tracebacks are not collected (the default).
        ("exception", Value::from("(traceback unavailable)")),
    ])
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

/// A command's `creates`/`removes` guards.
#[derive(Clone)]
struct Guards {
    creates: Option<String>,
    removes: Option<String>,
    chdir: Option<String>,
}

impl Guards {
    fn any(&self) -> bool {
        self.creates.is_some() || self.removes.is_some()
    }

    fn paths(&self) -> (Option<String>, Option<String>) {
        let abs = |p: &Option<String>| p.as_deref().map(|p| guard_path(p, self.chdir.as_deref()));
        (abs(&self.creates), abs(&self.removes))
    }

    /// The outcome from the batched probes, when they answered every guard.
    fn cached(&self, ctx: &ModuleCtx<'_>) -> Option<Guard> {
        let (creates, removes) = self.paths();
        if let Some(c) = creates {
            if ctx.cached_exists(&c)? {
                return Some(Guard::Creates);
            }
        }
        if let Some(r) = removes {
            if !ctx.cached_exists(&r)? {
                return Some(Guard::Removes);
            }
        }
        Some(Guard::Run)
    }

    /// The outcome asked of the host now (one round trip).
    fn ask(&self, ctx: &mut ModuleCtx<'_>) -> Result<Guard> {
        let marker = guard_marker();
        let out = ctx.sh(&format!("{}echo run", self.script(&marker)), None)?;
        Ok(
            match out.stdout_str().trim().strip_prefix(marker.as_str()) {
                Some("creates") => Guard::Creates,
                Some("removes") => Guard::Removes,
                _ => Guard::Run,
            },
        )
    }

    /// Shell that prints `MARKERcreates` / `MARKERremoves` and exits when a guard stops
    /// the command, and falls through otherwise.
    fn script(&self, marker: &str) -> String {
        let (creates, removes) = self.paths();
        let mut s = String::new();
        if let Some(c) = creates {
            s.push_str(&format!(
                "for p in {}; do [ -e \"$p\" ] && {{ echo {marker}creates; exit 0; }}; done\n",
                glob_word(&c)
            ));
        }
        if let Some(r) = removes {
            s.push_str(&format!(
                "r=; for p in {}; do [ -e \"$p\" ] && r=1; done; [ -n \"$r\" ] || {{ echo {marker}removes; exit 0; }}\n",
                glob_word(&r)
            ));
        }
        s
    }

    /// The result of a command a guard stopped (as Ansible's: "Would" in check mode,
    /// "Did" otherwise); `None` when it runs.
    fn skipped_result(&self, guard: Guard, check: bool, cmd: &Value) -> Option<Vars> {
        let shoulda = if check { "Would" } else { "Did" };
        let (msg, stdout) = match guard {
            Guard::Creates => {
                let c = self.creates.clone().unwrap_or_default();
                (
                    format!("{shoulda} not run command since '{c}' exists"),
                    format!("skipped, since {c} exists"),
                )
            }
            Guard::Removes => {
                let r = self.removes.clone().unwrap_or_default();
                (
                    format!("{shoulda} not run command since '{r}' does not exist"),
                    format!("skipped, since {r} does not exist"),
                )
            }
            Guard::Run => return None,
        };
        Some(result(&[
            ("cmd", cmd.clone()),
            ("rc", Value::from(0)),
            ("stdout", Value::from(stdout.clone())),
            ("stderr", Value::from("")),
            ("stdout_lines", Value::from(vec![Value::from(stdout)])),
            ("stderr_lines", Value::from(Vec::<Value>::new())),
            ("msg", Value::from(msg)),
        ]))
    }
}

/// A word no command can print by accident: the guard's answer on stdout.
fn guard_marker() -> String {
    let mut b = [0u8; 8];
    // Without randomness the marker is still unusual; it only has to be unpredictable
    // enough not to be printed by the command by chance.
    let _ = getrandom::fill(&mut b);
    format!("__drover_guard_{}_", u64::from_le_bytes(b))
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
    let out = match ctx.timeout {
        Some(secs) => {
            let out = ctx.sh(&super::timeout::wrap(script, secs), stdin)?;
            if super::timeout::expired(out.rc, t0.elapsed(), secs) {
                return Ok(super::timeout::result_for(secs));
            }
            out
        }
        None => ctx.sh(script, stdin)?,
    };
    let end = SystemTime::now();
    let mut stdout = out.stdout_str();
    let mut stderr = out.stderr_str();
    if strip {
        stdout = stdout.trim_end_matches(['\n', '\r']).to_string();
        stderr = stderr.trim_end_matches(['\n', '\r']).to_string();
    }
    // Python's splitlines, as Ansible's `stdout_lines` (a lone `\r` ends a line too).
    let lines = |s: &str| Value::from(crate::template::ansible::pycompat::splitlines(s, false));
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
