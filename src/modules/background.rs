//! Jobs left running on the host (`poll: 0`), as Ansible's `async_wrapper` leaves them,
//! without Python: a detached `sh` (its own session, every stream closed, so neither the
//! SSH session ending nor its hangup stops it) runs the command under `timeout(1)` and
//! writes the job's status file, JSON, atomically (temp file + rename), in the async
//! directory (`~/.ansible_async` unless `ansible_async_dir` says otherwise):
//!
//! - at once `{"started": true, "finished": false, "ansible_job_id": JID}`;
//! - when it ends, the module's own result (command's `cmd`, `stdout`, `stderr`, `rc`,
//!   `start`, `end`, `delta`, `msg`, `changed`, `failed`), composed by `awk` from the
//!   captured output; when the limit is reached the job is killed (its whole process
//!   group) and the file says `{"msg": "Timeout exceeded", "failed": true, "child_pid": PID}`,
//!   as Ansible's watcher writes it.
//!
//! `async_status` reads the file back (`modules::async_status`).

use super::ModuleCtx;
use crate::connection::quote::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

/// What a module leaves running in the background.
pub enum Background {
    /// A command to run detached; its result is composed on the host when it ends.
    Run(Job),
    /// Nothing to run (a `creates`/`removes` guard stopped it, or check mode): the
    /// job's final result, written at once.
    Finished(Vars),
}

/// A command to run detached.
pub struct Job {
    /// The `sh` script that runs it (its `chdir` included).
    pub script: String,
    /// Bytes for its stdin (`None`: `/dev/null`).
    pub stdin: Option<Vec<u8>>,
    /// The result's `cmd`.
    pub cmd: Value,
    /// Strip trailing newlines from stdout and stderr (`strip_empty_ends`).
    pub strip: bool,
    /// Results decided by the script itself: when it exits with this code and its whole
    /// stderr is this text, the job's result is this (a `chdir` that failed, a program
    /// that could not be started), not the command's output.
    pub fixed: Vec<(i32, String, Vars)>,
    /// Keys added to the result (`warnings`).
    pub extra: Vars,
}

/// A job started on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// Ansible's form: `j` + a random number + `.` + the launcher's pid.
    pub jid: String,
    /// The status file, the async directory expanded on the host.
    pub results_file: String,
}

/// The async directory as a shell word: a leading `~` or `~user` stays unquoted, so the
/// host's shell expands it for the (become) user, as Ansible's `_remote_expand_user`.
pub fn dir_word(dir: &str) -> String {
    if let Some(rest) = dir.strip_prefix('~') {
        let (user, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return if tail.is_empty() {
                format!("~{user}")
            } else {
                format!("~{user}{}", quote(tail))
            };
        }
    }
    quote(dir)
}

/// A random job number, as Ansible's `secrets.randbelow(999999999999)`.
fn random_number() -> u64 {
    let mut b = [0u8; 8];
    // Without randomness the number is still unusual; the pid makes the jid unique.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b) % 999_999_999_999
}

/// The lines that make the async directory and name a new job in it: `$d` the
/// directory, `$jid`, `$f` the status file.
fn prologue(dir: &str) -> String {
    format!(
        "d={}\nmkdir -p -- \"$d\" || {{ echo \"could not create directory: $d\" >&2; exit 1; }}\n\
         case $d in /*) ;; *) d=$(cd -- \"$d\" && pwd) || exit 1 ;; esac\n\
         jid=j{}.$$\nf=$d/$jid\n",
        dir_word(dir),
        random_number()
    )
}

/// Write `json` (a shell word) to the status file atomically.
fn write_status(json_word: &str) -> String {
    format!("printf '%s' {json_word} > \"$f.tmp\" && mv -f -- \"$f.tmp\" \"$f\"")
}

/// The async directory, made on the host, and a job id in it, for a task that runs in
/// the foreground under `async` (its result still names them, as Ansible's does).
pub fn reserve(ctx: &mut ModuleCtx<'_>, dir: &str) -> Result<Started> {
    let out = ctx.sh(
        &format!("{}echo \"$jid\"; echo \"$f\"", prologue(dir)),
        None,
    )?;
    parse_started(&out)
}

/// Start `job` detached on the host (or write its finished result at once) and return
/// its id. `limit` is the async limit in seconds.
pub fn launch(ctx: &mut ModuleCtx<'_>, dir: &str, limit: u64, job: Background) -> Result<Started> {
    let mut script = prologue(dir);
    let first = "{\"started\": true, \"finished\": false, \"ansible_job_id\": \"'\"$jid\"'\"}";
    match job {
        Background::Finished(result) => {
            // The result goes on stdin: it may be long, and it is JSON already.
            let json = to_json(&result)?;
            script.push_str(
                "cat > \"$f.tmp\" && mv -f -- \"$f.tmp\" \"$f\" || exit 1\necho \"$jid\"; echo \"$f\"\n",
            );
            let out = ctx.sh(&script, Some(json.as_bytes()))?;
            parse_started(&out)
        }
        Background::Run(job) => {
            script.push_str(&write_status(&format!("'{first}'")));
            script.push_str(" || exit 1\n");
            let input = match &job.stdin {
                Some(_) => {
                    script.push_str("cat > \"$f.in\" || exit 1\n");
                    "\"$f.in\""
                }
                None => "/dev/null",
            };
            let runner = runner(&job, limit)?;
            // setsid: a session of its own, so the SSH session's end does not reach it;
            // nohup where the host has no setsid.
            script.push_str(&format!(
                "if command -v setsid >/dev/null 2>&1; then s=setsid; else s=nohup; fi\n\
                 $s sh -c {} drover-async \"$f\" <{input} >/dev/null 2>&1 &\n\
                 echo \"$jid\"; echo \"$f\"\n",
                quote(&runner)
            ));
            let out = ctx.sh(&script, job.stdin.as_deref())?;
            parse_started(&out)
        }
    }
}

/// The launcher's answer: the job id and the status file, one per line.
fn parse_started(out: &crate::connection::Output) -> Result<Started> {
    let text = out.stdout_str();
    let mut lines = text.lines();
    match (out.rc, lines.next(), lines.next()) {
        (0, Some(jid), Some(file)) if jid.starts_with('j') => Ok(Started {
            jid: jid.to_string(),
            results_file: file.to_string(),
        }),
        _ => Err(Error::module(format!(
            "could not start the async job: {}",
            out.stderr_str().trim()
        ))
        .with_help("the async directory (ansible_async_dir, default ~/.ansible_async) must be writable by the task's user")),
    }
}

/// A result as JSON text.
fn to_json(v: &Vars) -> Result<String> {
    serde_json::to_string(&Value::from_iter(v.clone()))
        .map_err(|e| Error::module(format!("cannot write the job's result as JSON: {e}")))
}

/// The detached script: `$1` is the status file, stdin the command's. It runs the
/// command under the limit, then writes the result.
fn runner(job: &Job, limit: u64) -> Result<String> {
    let mut s = String::from("f=$1\n");
    s.push_str("b=$(date '+%s %N %Y-%m-%d %H:%M:%S.%6N')\n");
    s.push_str(&format!(
        "timeout -s KILL {limit} sh -c {} >\"$f.out\" 2>\"$f.err\"; rc=$?\n",
        quote(&job.script)
    ));
    s.push_str("a=$(date '+%s %N %Y-%m-%d %H:%M:%S.%6N')\nrm -f -- \"$f.in\"\n");
    // Killed at the limit (timeout's own status, or the KILL's): Ansible's watcher result.
    s.push_str(&format!(
        "if {{ [ $rc = 124 ] || [ $rc = 137 ]; }} && [ $(( ${{a%% *}} - ${{b%% *}} )) -ge {limit} ]; then\n  \
         rm -f -- \"$f.out\" \"$f.err\"\n  {}\n  exit 0\nfi\n",
        write_status("\"{\\\"msg\\\": \\\"Timeout exceeded\\\", \\\"failed\\\": true, \\\"child_pid\\\": $$}\"")
    ));
    for (rc, stderr, result) in &job.fixed {
        s.push_str(&format!(
            "if [ $rc = {rc} ] && [ \"$(cat -- \"$f.err\")\" = {} ]; then\n  rm -f -- \"$f.out\" \"$f.err\"\n  {}\n  exit 0\nfi\n",
            quote(stderr),
            write_status(&quote(&to_json(result)?))
        ));
    }
    let mut extra = String::new();
    for (k, v) in &job.extra {
        let v = serde_json::to_string(&Value::from_iter([(k.clone(), v.clone())]).clone())
            .map_err(|e| Error::module(e.to_string()))?;
        // `{"k": v}` without its braces.
        extra.push_str(", ");
        extra.push_str(&v[1..v.len() - 1]);
    }
    s.push_str(&format!(
        "printf x >>\"$f.out\"; printf x >>\"$f.err\"\n\
         awk -v rc=$rc -v b=\"$b\" -v a=\"$a\" -v strip={} {} \"$f.out\" \"$f.err\" >\"$f.tmp\" && mv -f -- \"$f.tmp\" \"$f\"\n\
         rm -f -- \"$f.out\" \"$f.err\"\n",
        u8::from(job.strip),
        quote(&compose_awk(&serde_json::to_string(&job.cmd).map_err(|e| Error::module(e.to_string()))?, &extra))
    ));
    Ok(s)
}

/// The awk program that writes command's result from its two output files (each ends
/// with a sentinel `x`, so a missing final newline is told from one that is there). It
/// keeps the lines and escapes each alone: one pass, however long the output.
fn compose_awk(cmd_json: &str, extra: &str) -> String {
    // awk's -v would process backslashes in the JSON: it is part of the program instead,
    // as an awk string literal.
    let lit = |s: &str| {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '\\' => o.push_str("\\\\"),
                '"' => o.push_str("\\\""),
                '\n' => o.push_str("\\n"),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    };
    format!(
        r#"function esc(s,   o, c) {{
  o = ""
  while (match(s, re)) {{
    c = substr(s, RSTART, 1)
    o = o substr(s, 1, RSTART - 1) m[c]
    s = substr(s, RSTART + 1)
  }}
  return o s
}}
function text(k,   i, j, o) {{
  j = c[k]
  L[k, j] = substr(L[k, j], 1, length(L[k, j]) - 1)
  while (strip) {{
    sub(/\r+$/, "", L[k, j])
    if (L[k, j] != "" || j <= 1) break
    j--
  }}
  o = ""
  for (i = 1; i <= j; i++) o = o (i > 1 ? "\\n" : "") esc(L[k, i])
  return o
}}
BEGIN {{
  n = 0
  for (i = 1; i < 32; i++) m[sprintf("%c", i)] = sprintf("\\u%04x", i)
  m["\\"] = "\\\\"; m["\""] = "\\\""; m["\r"] = "\\r"; m["\t"] = "\\t"
  re = "[\\\\\"" sprintf("%c", 1) "-" sprintf("%c", 31) "]"
}}
FNR == 1 && NR > 1 {{ n++ }}
{{ c[n] = FNR; L[n, FNR] = $0 }}
END {{
  split(b, x, " "); split(a, y, " ")
  us = (y[1] - x[1]) * 1000000 + int((y[2] - x[2]) / 1000)
  if (us < 0) us = 0
  d = sprintf("%d:%02d:%02d.%06d", int(us / 3600000000), int(us / 60000000) % 60, int(us / 1000000) % 60, us % 1000000)
  printf "{{\"changed\": true, \"stdout\": \"%s\", \"stderr\": \"%s\", \"rc\": %d, \"cmd\": %s, \"start\": \"%s %s\", \"end\": \"%s %s\", \"delta\": \"%s\", \"msg\": \"%s\"%s%s}}", text(0), text(1), rc, {cmd}, x[3], x[4], y[3], y[4], d, (rc == 0 ? "" : "non-zero return code"), (rc == 0 ? "" : ", \"failed\": true"), {extra}
}}
"#,
        cmd = lit(cmd_json),
        extra = lit(extra),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_word_leaves_the_tilde_to_the_host() {
        assert_eq!(dir_word("~/.ansible_async"), "~/.ansible_async");
        assert_eq!(dir_word("~/my dir"), "~'/my dir'");
        assert_eq!(dir_word("~bob/x"), "~bob/x");
        assert_eq!(dir_word("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(dir_word("~$(id)/x"), "'~$(id)/x'");
    }

    #[test]
    fn jids_have_ansibles_form() {
        let p = prologue("~/.ansible_async");
        let line = p.lines().find(|l| l.starts_with("jid=j")).unwrap();
        assert!(line.ends_with(".$$"), "{line}");
        assert!(line[5..line.len() - 3].bytes().all(|b| b.is_ascii_digit()));
    }

    /// Run the detached script here, in the foreground, and read the status file.
    fn run_here(job: &Job, limit: u64) -> serde_json::Value {
        let dir = std::env::temp_dir().join(format!("drover-bg-{}", random_number()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("j1.1");
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(runner(job, limit).unwrap())
            .arg("drover-async")
            .arg(&f)
            .stdin(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let text = std::fs::read_to_string(&f).unwrap();
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the status file is left");
        std::fs::remove_dir_all(&dir).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn job(script: &str, strip: bool) -> Job {
        Job {
            script: script.into(),
            stdin: None,
            cmd: Value::from("the \"cmd\" \\ x"),
            strip,
            fixed: vec![(
                5,
                "nope".into(),
                crate::modules::result(&[("msg", Value::from("fixed"))]),
            )],
            extra: Vars::new(),
        }
    }

    #[test]
    fn the_status_file_is_commands_result_as_json() {
        let v = run_here(
            &job(
                "printf 'a\\tb\"c\\\\d\\n\\001\\n\\n\\r\\n'; echo oops >&2; exit 3",
                true,
            ),
            10,
        );
        assert_eq!(v["stdout"], "a\tb\"c\\d\n\u{1}");
        assert_eq!(v["stderr"], "oops");
        assert_eq!(v["rc"], 3);
        assert_eq!(v["failed"], true);
        assert_eq!(v["msg"], "non-zero return code");
        assert_eq!(v["cmd"], "the \"cmd\" \\ x");
        assert_eq!(v["changed"], true);
        assert!(v["delta"].as_str().unwrap().starts_with("0:00:00."));
    }

    #[test]
    fn without_strip_the_ends_are_kept() {
        let v = run_here(&job("printf 'x\\n\\n'; printf e >&2", false), 10);
        assert_eq!(v["stdout"], "x\n\n");
        assert_eq!(v["stderr"], "e");
        assert_eq!(v["msg"], "");
        assert!(v.get("failed").is_none());
    }

    #[test]
    fn fixed_results_and_the_limit() {
        assert_eq!(
            run_here(&job("echo nope >&2; exit 5", true), 10)["msg"],
            "fixed"
        );
        let v = run_here(&job("sleep 5", true), 1);
        assert_eq!(v["msg"], "Timeout exceeded");
        assert_eq!(v["failed"], true);
    }
}
