//! `throttle`: at most N hosts of the batch inside a task at the same moment.
//!
//! drover's hosts walk the play on their own threads, so the limit is a counting
//! semaphore per task, shared by the batch's hosts: a host takes a slot before the task's
//! first item and gives it back after the last (a loop runs under one hold, as in
//! Ansible), and waits while every slot is taken. Each host templates the value with its
//! own variables; `0` (or less) means no limit, as in Ansible.

use crate::diagnostics::{Error, Result};
use minijinja::Value;
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The batch's throttled tasks: how many hosts are inside each now.
#[derive(Default)]
pub struct Throttles {
    inside: Mutex<HashMap<usize, usize>>,
    cv: Condvar,
}

/// A slot of a throttled task, given back when dropped.
pub struct Hold<'t> {
    throttles: &'t Throttles,
    task: usize,
}

impl Throttles {
    /// Wait for a slot of task `task`, limited to `limit` hosts, or until `stop()` says
    /// the play is over (`None` then).
    pub fn acquire(&self, task: usize, limit: usize, stop: impl Fn() -> bool) -> Option<Hold<'_>> {
        let mut inside = self.inside.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let n = inside.entry(task).or_insert(0);
            if *n < limit {
                *n += 1;
                return Some(Hold {
                    throttles: self,
                    task,
                });
            }
            if stop() {
                return None;
            }
            // A timeout too, so that an ended play is noticed without a notification.
            let (next, _) = self
                .cv
                .wait_timeout(inside, Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner());
            inside = next;
        }
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let mut inside = self
            .throttles
            .inside
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = inside.get_mut(&self.task) {
            *n = n.saturating_sub(1);
        }
        self.throttles.cv.notify_all();
    }
}

/// The limit a templated `throttle` value gives: `None` for no limit (0 or less).
pub fn limit(rendered: &Value) -> Result<Option<usize>> {
    let n: i64 = match rendered.as_i64() {
        Some(n) => n,
        None => {
            let text = rendered.to_string();
            text.trim().parse().map_err(|_| {
                Error::module(format!(
                    "Failed to convert the throttle value to an integer: invalid literal for int() with base 10: '{text}'"
                ))
                .with_help("throttle takes a number of hosts (0: no limit)")
            })?
        }
    };
    Ok(usize::try_from(n).ok().filter(|n| *n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn never_more_than_the_limit_inside() {
        let t = Arc::new(Throttles::default());
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (t, now, most) = (t.clone(), now.clone(), most.clone());
                std::thread::spawn(move || {
                    let _hold = t.acquire(7, 2, || false).unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(*t.inside.lock().unwrap().get(&7).unwrap(), 0);
    }

    #[test]
    fn a_stopped_play_gives_up_waiting() {
        let t = Throttles::default();
        let _a = t.acquire(1, 1, || false).unwrap();
        assert!(t.acquire(1, 1, || true).is_none());
    }

    #[test]
    fn limits_as_ansible_reads_them() {
        assert_eq!(limit(&Value::from(3)).unwrap(), Some(3));
        assert_eq!(limit(&Value::from("2")).unwrap(), Some(2));
        assert_eq!(limit(&Value::from(0)).unwrap(), None);
        assert_eq!(limit(&Value::from(-1)).unwrap(), None);
        assert!(limit(&Value::from("nope"))
            .unwrap_err()
            .message
            .contains("invalid literal for int() with base 10: 'nope'"));
    }
}
