//! Where the executor honours the cross-host edges of the task graph
//! (`graph::cross_host` decides which tasks have them): hosts walk a play independently,
//! except that a task which reads other hosts' variables (`hostvars`, `ansible_play_hosts`,
//! `play_hosts`, `ansible_play_batch`), and a `run_once` task, waits until every other host of the batch has
//! passed the tasks before it, as Ansible's lock-step strategy guarantees. Without the
//! wait, a cluster config built from `set_fact` + `hostvars` would miss the peers of a
//! slower host.
//!
//! Hosts count the cross-host tasks they reach; a host at its k-th such task waits until
//! every other started host of the batch has reached its k-th, or has left the play
//! (finished, failed, unreachable). Only started hosts are waited for: with `--forks`
//! smaller than the batch, hosts queued behind the forks cannot be waited for without a
//! deadlock.

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
struct State {
    arrived: HashMap<String, usize>,
    started: HashSet<String>,
    gone: HashSet<String>,
}

/// The play batch's barrier (see the module docs).
#[derive(Default)]
pub struct CrossHostBarrier {
    state: Mutex<State>,
    cv: Condvar,
}

impl CrossHostBarrier {
    /// A host began walking the play.
    pub fn start(&self, host: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.started.insert(host.to_string());
    }

    /// A host stopped walking the play (done, failed, unreachable, ended).
    pub fn leave(&self, host: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.gone.insert(host.to_string());
        self.cv.notify_all();
    }

    /// Host `host` reached its `k`-th cross-host task: wait for the others, or until
    /// `stop()` says the play is over.
    pub fn wait(&self, host: &str, k: usize, stop: impl Fn() -> bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.arrived.insert(host.to_string(), k);
        self.cv.notify_all();
        loop {
            let waiting_for = st.started.iter().any(|h| {
                h != host && !st.gone.contains(h) && st.arrived.get(h).copied().unwrap_or(0) < k
            });
            if !waiting_for || stop() {
                return;
            }
            let (next, _) = self
                .cv
                .wait_timeout(st, Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner());
            st = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_host_waits_for_the_others_to_reach_the_same_cross_host_task() {
        let b = Arc::new(CrossHostBarrier::default());
        b.start("a");
        b.start("b");
        let order = Arc::new(Mutex::new(Vec::new()));
        let (b2, o2) = (b.clone(), order.clone());
        let slow = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            o2.lock().unwrap().push("b set its fact");
            b2.wait("b", 1, || false);
        });
        b.wait("a", 1, || false);
        order.lock().unwrap().push("a read hostvars");
        slow.join().unwrap();
        assert_eq!(order.lock().unwrap()[0], "b set its fact");
    }

    #[test]
    fn a_host_that_left_is_not_waited_for() {
        let b = CrossHostBarrier::default();
        b.start("a");
        b.start("b");
        b.leave("b");
        b.wait("a", 3, || false);
    }
}
