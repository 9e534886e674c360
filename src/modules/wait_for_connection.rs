//! wait_for_connection: retry a trivial command on the host (Ansible runs its ping
//! module) every `sleep` seconds until it answers or `timeout` runs out. Skipped in check
//! mode, as Ansible's action.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use minijinja::Value;
use std::time::{Duration, Instant};

pub struct WaitForConnection;

static WAIT_FOR_CONNECTION: ModuleSpec = ModuleSpec {
    name: "wait_for_connection",
    aliases: &[],
    args: &[
        arg("connect_timeout", Int),
        arg("delay", Int),
        arg("sleep", Int),
        arg("timeout", Int),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

fn sleep_interruptible(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && crate::exec::interrupt::received().is_none() {
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(100)));
    }
}

impl Module for WaitForConnection {
    fn spec(&self) -> &'static ModuleSpec {
        &WAIT_FOR_CONNECTION
    }

    fn check_mode(&self) -> super::CheckMode {
        // Ansible's action skips it in check mode, without a message.
        super::CheckMode::Skipped {
            msg: "",
            by_action: true,
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> crate::diagnostics::Result<Plan> {
        let delay = args.int("delay")?.unwrap_or(0).max(0) as u64;
        let sleep = args.int("sleep")?.unwrap_or(1).max(0) as u64;
        let timeout = args.int("timeout")?.unwrap_or(600).max(0) as u64;
        let start = Instant::now();
        sleep_interruptible(Duration::from_secs(delay));
        let end = Instant::now() + Duration::from_secs(timeout);
        let mut last = String::from("no attempt made");
        let mut ok = false;
        while Instant::now() < end && crate::exec::interrupt::received().is_none() {
            match ctx.sh("echo pong", None) {
                Ok(o) if o.rc == 0 && o.stdout_str().trim() == "pong" => {
                    ok = true;
                    break;
                }
                Ok(o) => last = format!("ping test failed: {}", o.stderr_str().trim()),
                Err(e) => last = e.message.clone(),
            }
            sleep_interruptible(Duration::from_secs(sleep));
        }
        let mut r = super::result(&[("elapsed", Value::from(start.elapsed().as_secs()))]);
        let mut failed = false;
        if !ok {
            r.insert(
                "msg".into(),
                Value::from(format!("timed out waiting for ping module test: {last}")),
            );
            failed = true;
        }
        let mut p = Plan::no_change(r);
        p.failed = failed;
        Ok(p)
    }
}
