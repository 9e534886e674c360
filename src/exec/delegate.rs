//! `delegate_to`: where a task runs when it is not its own host. The task keeps its
//! host's variables (`inventory_hostname` is still that host) and its registered result
//! goes to that host; only the connection is the delegate's, as in Ansible. A host worker
//! opens its own connection to each host it delegates to, once, and keeps it for the play.

use super::play::PlayRun;
use crate::connection::Connection;
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::modules::probe::ProbeCache;
use minijinja::Value;
use std::collections::HashMap;

/// Where one task (or loop item) runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delegation {
    /// Its own host (no `delegate_to`, or one naming the host itself).
    Own,
    /// The controller: `localhost`, `127.0.0.1`, an inventory host with
    /// `ansible_connection: local`, or a module that only runs there. The name is the
    /// one written (facts delegated there go to that host's variables).
    Controller(String),
    /// Another host, by its inventory name (or the address written, for a host the
    /// inventory does not have).
    Host(String),
}

/// Where a task whose `delegate_to` (written as `written`) rendered to `rendered` runs,
/// for host `own`. As Ansible: `omit` (or no keyword) means no delegation; an empty name
/// is an error; a name the inventory lacks is looked up as an `ansible_host` address,
/// else taken as an address itself.
pub fn resolve(
    run: &PlayRun<'_>,
    own: &str,
    written: &Value,
    rendered: Option<&Value>,
) -> Result<Delegation> {
    let Some(v) = rendered else {
        return Ok(Delegation::Own);
    };
    if v.as_str() == Some(crate::vars::magic::OMIT) {
        return Ok(Delegation::Own);
    }
    let name = match v.as_str() {
        Some(s) => s.trim().to_string(),
        None if v.is_none() || v.is_undefined() => String::new(),
        None => v.to_string(),
    };
    if name.is_empty() {
        return Err(Error::module(format!(
            "Task failed: Empty hostname produced from delegate_to: \"{}\"",
            written.as_str().unwrap_or_default()
        )));
    }
    if name == own {
        return Ok(Delegation::Own);
    }
    let inventory = run.shared.inventory();
    // Ansible's inventory answers these names with its implicit localhost before any
    // address lookup: `127.0.0.1` is the controller even where hosts have it as
    // `ansible_host` (as every SSH test host here does).
    let implicit_localhost = matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
        && !inventory.hosts.contains_key(&name);
    let host = if inventory.hosts.contains_key(&name) || implicit_localhost {
        name.clone()
    } else {
        inventory
            .hosts
            .keys()
            .find(|h| {
                inventory
                    .host_vars(h)
                    .get("ansible_host")
                    .and_then(|a| a.as_str().map(|a| a == name))
                    .unwrap_or(false)
            })
            .cloned()
            .unwrap_or_else(|| name.clone())
    };
    if host == own {
        return Ok(Delegation::Own);
    }
    let vars = inventory.host_vars(&host);
    let local_connection = vars.get("ansible_connection").and_then(|c| c.as_str()) == Some("local");
    let local_name = implicit_localhost
        || (matches!(host.as_str(), "localhost" | "127.0.0.1")
            && !vars.contains_key("ansible_host"));
    Ok(if local_connection || local_name {
        Delegation::Controller(host)
    } else {
        Delegation::Host(host)
    })
}

/// A host worker's connections to the hosts its tasks delegate to.
#[derive(Default)]
pub struct Delegates {
    open: HashMap<String, Delegate>,
}

/// One delegate: its connection and what is known of its state.
pub struct Delegate {
    pub conn: Box<dyn Connection>,
    pub cache: ProbeCache,
}

impl Delegates {
    /// The connection to `host`, opened on first use, with nothing known of its state:
    /// the host's own worker and other delegating workers change it between two tasks
    /// delegated from here. A host that cannot be reached makes the delegating host's
    /// task unreachable, as in Ansible.
    pub fn get(&mut self, run: &PlayRun<'_>, host: &str) -> Result<&mut Delegate> {
        if !self.open.contains_key(host) {
            let conn = run.connect(host).map_err(|e| {
                let message = format!("delegate_to {host}: {}", e.message);
                Error::new(ErrorKind::Unreachable, message)
            })?;
            self.open.insert(
                host.to_string(),
                Delegate {
                    conn,
                    cache: ProbeCache::default(),
                },
            );
        }
        let d = self.open.get_mut(host).expect("inserted above");
        d.cache.clear();
        Ok(d)
    }
}
