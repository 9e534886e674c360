//! The executor: plays in order; within a play every host walks its tasks on its own
//! thread (bounded by `--forks`), batched by `serial`; a failed or unreachable host
//! stops only itself unless `any_errors_fatal` or `max_fail_percentage` say otherwise.

mod async_job;
mod barrier;
pub(crate) mod batch;
mod connect;
mod delegate;
mod facts;

pub use facts::python::read_by as reads_python_fact;
pub use facts::{gather as gather_facts, PythonFact};
mod home;
mod host;
mod host_ctx;
pub mod interrupt;
mod lock;
mod options;
pub use options::RunOptions;
mod loops;
mod play;
pub(crate) mod state;
mod task;
mod throttle;

pub use play::tags_selected;

use crate::connection::{Connection, LocalConnection};
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::inventory::{pattern, Inventory};
use crate::output::{Event, HostStats, Sink};
use crate::playbook::{Playbook, Serial};
use host::{Flow, HostWalker};
use minijinja::Value;
use play::PlayRun;
use state::Shared;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use crate::vars::magic::ANSIBLE_COMPAT_VERSION;

/// The outcome of a run, for the recap and the exit code.
pub struct RunSummary {
    /// Each host's counts, sorted by host name (the recap).
    pub stats: Vec<(String, HostStats)>,
}

impl RunSummary {
    /// ansible-playbook's exit codes: 0 ok, 2 a host failed, 4 a host unreachable (bits).
    pub fn exit_code(&self) -> i32 {
        let mut code = 0;
        if self.stats.iter().any(|(_, s)| s.failed > 0) {
            code |= 2;
        }
        if self.stats.iter().any(|(_, s)| s.unreachable > 0) {
            code |= 4;
        }
        code
    }

    /// Did any host change anything?
    pub fn changed(&self) -> bool {
        self.stats.iter().any(|(_, s)| s.changed > 0)
    }
}

/// Run every play of the playbooks.
pub fn run(
    playbooks: &[Playbook],
    inventory: Arc<Inventory>,
    opts: &RunOptions,
    sink: &dyn Sink,
) -> Result<RunSummary> {
    let started = Instant::now();
    let env = crate::template::environment();
    let shared = Arc::new(Shared::new(inventory.clone(), opts.extra_vars.clone()));
    let limit: Option<Vec<String>> = match &opts.limit {
        // A command-line argument has no file position: the message names the flag.
        Some(l) => Some(pattern::select(&inventory, l).map_err(|e| {
            let err = Error::new(ErrorKind::Invalid, format!("--limit '{l}': {}", e.0));
            match e.1 {
                Some(help) => err.with_help(help),
                None => err,
            }
        })?),
        None => None,
    };
    // A shard is a share of every host the run may touch (the limit, else the whole
    // inventory), decided once, so a host belongs to the same runner in every play.
    let limit = match opts.shard {
        Some(shard) => Some(shard.select(&limit.unwrap_or_else(|| inventory.group_hosts("all")))),
        None => limit,
    };
    let round_trips = AtomicUsize::new(0);
    // One connection per host for the whole run, kept between plays; its first command
    // takes the host's run lock.
    // Each connection is kept with the play `remote_user:` it was made for: a play that
    // logs in as someone else closes it (releasing the run lock) and connects again.
    type Pooled = (Option<Value>, Box<dyn Connection>);
    let pool: std::sync::Mutex<std::collections::HashMap<String, Pooled>> = Default::default();
    let mut seen_hosts: Vec<String> = Vec::new();
    let mut break_playbook = false;
    // After a play that may run add_host or group_by, a pattern may name groups only the
    // run creates: unknown names then match nothing (as Ansible) instead of being refused.
    let mut inventory_may_change = false;
    'plays: for pb in playbooks {
        for play in &pb.plays {
            if interrupt::received().is_some() {
                break;
            }
            let pattern_text = play.hosts.as_str().unwrap_or("").to_string();
            let pattern_text = if pattern_text.contains("{{") {
                let ctx = minijinja::Value::from_iter(opts.extra_vars.clone());
                crate::template::render_str(&env, &pattern_text, &ctx)?.to_string()
            } else {
                pattern_text
            };
            // The inventory as add_host and group_by left it in earlier plays.
            let inventory = shared.inventory();
            let changed_already = shared
                .inventory_generation
                .load(std::sync::atomic::Ordering::SeqCst)
                > 0;
            let select = if inventory_may_change || changed_already {
                pattern::select_lenient
            } else {
                pattern::select
            };
            inventory_may_change |= crate::modules::inventory::play_changes_inventory(play);
            let mut hosts = select(&inventory, &pattern_text).map_err(|e| {
                Error::invalid(e.0, &play.hosts_span).with_help(e.1.unwrap_or_default())
            })?;
            if let Some(l) = &limit {
                hosts.retain(|h| l.contains(h));
            }
            // Hosts that failed earlier in the run take no part in later plays.
            hosts.retain(|h| !shared.is_out(h));
            for h in &hosts {
                if !seen_hosts.contains(h) {
                    seen_hosts.push(h.clone());
                }
            }
            sink.event(&Event::PlayStart {
                name: &play.name,
                hosts: &hosts,
            });
            if hosts.is_empty() {
                sink.event(&Event::Warning {
                    host: None,
                    message: "no hosts matched, skipping play",
                });
                continue;
            }
            let batches = batches(&hosts, &play.serial);
            let mut failed_total = 0usize;
            for batch in batches {
                if interrupt::received().is_some() {
                    break;
                }
                let run = PlayRun::new(
                    play,
                    opts,
                    shared.clone(),
                    env.clone(),
                    sink,
                    hosts.clone(),
                    batch.clone(),
                );
                let queue = AtomicUsize::new(0);
                let workers = opts.forks.max(1).min(batch.len());
                // Hosts that start at once wait for each other at cross-host tasks.
                for h in batch.iter().take(workers) {
                    run.barrier.start(h);
                }
                std::thread::scope(|s| {
                    for _ in 0..workers {
                        s.spawn(|| loop {
                            let i = queue.fetch_add(1, Ordering::SeqCst);
                            let Some(h) = batch.get(i) else { break };
                            run.barrier.start(h);
                            let pooled = pool
                                .lock()
                                .ok()
                                .and_then(|mut p| p.remove(h.as_str()))
                                .and_then(|(user, conn)| {
                                    if user == play.remote_user {
                                        return Some(conn);
                                    }
                                    round_trips.fetch_add(
                                        conn.stats().round_trips as usize,
                                        Ordering::Relaxed,
                                    );
                                    None
                                });
                            let fresh = pooled.is_none();
                            let conn = match pooled {
                                Some(c) => Ok(c),
                                None => connect::connect(&inventory, h, opts, &shared, &env, play)
                                    .map(|c| -> Box<dyn Connection> {
                                        let c: Box<dyn Connection> = if opts.verbosity >= 3 {
                                            Box::new(crate::connection::traced::Traced {
                                                inner: c,
                                                host: h.clone(),
                                            })
                                        } else {
                                            c
                                        };
                                        Box::new(lock::Locking {
                                            inner: c,
                                            host: h.clone(),
                                            timeout: opts.lock_timeout,
                                            locked: false,
                                        })
                                    }),
                            };
                            let flow = match conn {
                                Ok(conn) => {
                                    let mut w = HostWalker::new(&run, h.clone(), conn);
                                    w.fresh = fresh;
                                    let f = w.walk();
                                    if f != Flow::Unreachable {
                                        if let Ok(mut p) = pool.lock() {
                                            p.insert(
                                                h.clone(),
                                                (play.remote_user.clone(), w.ctx.conn),
                                            );
                                        }
                                    }
                                    f
                                }
                                Err(e) => {
                                    let mut w = HostWalker::new(
                                        &run,
                                        h.clone(),
                                        Box::new(LocalConnection::new()),
                                    );
                                    w.unreachable(&e)
                                }
                            };
                            let _: Flow = flow;
                            run.barrier.leave(h);
                            sink.event(&Event::HostDone { host: h });
                        });
                    }
                });
                let failed_now = batch.iter().filter(|h| shared.is_out(h)).count();
                failed_total += failed_now;
                if run.aborted() && play.any_errors_fatal {
                    break;
                }
                if let Some(max) = play.max_fail_percentage {
                    if failed_now as f64 * 100.0 / batch.len() as f64 > max {
                        break;
                    }
                }
                if failed_total == hosts.len() {
                    break;
                }
                // As ansible-playbook: when every host of a batch failed, the play stops
                // and so does the rest of the playbook.
                if failed_now == batch.len() {
                    break_playbook = true;
                    break;
                }
            }
            if break_playbook {
                break 'plays;
            }
        }
    }
    for conn in pool
        .into_inner()
        .map(|p| p.into_values().map(|(_, c)| c).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        round_trips.fetch_add(conn.stats().round_trips as usize, Ordering::Relaxed);
    }
    // The recap lists hosts sorted by name, as Ansible's does, and only those with a
    // counted result (a host that only ran meta tasks, or whose tasks were all left out
    // by tags, is not in Ansible's recap).
    seen_hosts.sort();
    let stats: Vec<(String, HostStats)> = seen_hosts
        .iter()
        .map(|h| (h.clone(), shared.peek(h, |st| st.stats.clone())))
        .filter(|(_, s)| *s != HostStats::default())
        .collect();
    sink.event(&Event::Recap {
        stats: &stats,
        duration: started.elapsed(),
        round_trips: round_trips.load(Ordering::Relaxed) as u64,
    });
    Ok(RunSummary { stats })
}

/// Split hosts into `serial` batches (the last size repeats).
fn batches(hosts: &[String], serial: &[Serial]) -> Vec<Vec<String>> {
    if serial.is_empty() {
        return vec![hosts.to_vec()];
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut step = 0;
    while i < hosts.len() {
        let s = &serial[step.min(serial.len() - 1)];
        let n = match s {
            Serial::Count(n) => *n,
            Serial::Percent(p) => ((hosts.len() as f64 * p / 100.0).floor() as usize).max(1),
        };
        let end = (i + n).min(hosts.len());
        out.push(hosts[i..end].to_vec());
        i = end;
        step += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_batches() {
        let hosts: Vec<String> = (1..=5).map(|i| format!("h{i}")).collect();
        let b = batches(&hosts, &[Serial::Count(1), Serial::Count(2)]);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 2]);
        let b = batches(&hosts, &[Serial::Percent(40.0)]);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    }
}
