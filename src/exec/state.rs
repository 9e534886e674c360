//! State shared by every host's walker in a run, and each host's own state.

use crate::inventory::{Inventory, Vars};
use crate::output::HostStats;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// What a host keeps across tasks and plays.
#[derive(Default, Clone)]
pub struct HostState {
    pub facts: Vars,
    /// set_fact and registered results.
    pub set_facts: Vars,
    pub include_vars: Vars,
    /// Roles included with `public: true`: their defaults and vars stay visible.
    pub public_roles: Vec<std::sync::Arc<crate::playbook::Role>>,
    pub failed: bool,
    pub unreachable: bool,
    pub stats: HostStats,
}

/// Everything shared between hosts.
pub struct Shared {
    pub inventory: Arc<Inventory>,
    pub hosts: RwLock<HashMap<String, HostState>>,
    pub extra_vars: Vars,
}

impl Shared {
    pub fn with_host<R>(&self, host: &str, f: impl FnOnce(&mut HostState) -> R) -> R {
        let mut map = self.hosts.write().unwrap_or_else(|e| e.into_inner());
        f(map.entry(host.to_string()).or_default())
    }

    pub fn snapshot(&self, host: &str) -> HostState {
        let map = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        map.get(host).cloned().unwrap_or_default()
    }
}

/// `hostvars`: every host's inventory variables, facts and set facts, looked up lazily.
pub struct HostVars {
    pub shared: Arc<Shared>,
    pub env: Arc<minijinja::Environment<'static>>,
    pub cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for HostVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hostvars")
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let host = key.as_str()?;
        if !self.shared.inventory.hosts.contains_key(host) {
            return None;
        }
        if let Some(v) = self.cache.lock().ok()?.get(host) {
            return Some(v.clone());
        }
        let st = self.shared.snapshot(host);
        let mut vars = self.shared.inventory.host_vars(host);
        vars.extend(
            st.facts
                .iter()
                .map(|(k, v)| (format!("ansible_{k}"), v.clone())),
        );
        vars.insert("ansible_facts".into(), Value::from_iter(st.facts.clone()));
        vars.extend(st.include_vars);
        vars.extend(st.set_facts);
        vars.extend(self.shared.extra_vars.clone());
        vars.insert("inventory_hostname".into(), Value::from(host));
        vars.insert(
            "inventory_hostname_short".into(),
            Value::from(host.split('.').next().unwrap_or(host)),
        );
        vars.insert(
            "group_names".into(),
            Value::from(self.shared.inventory.group_names(host)),
        );
        let scope = Value::from_dyn_object(crate::vars::Scope::new(self.env.clone(), vars));
        // Not cached: set_fact on that host may change it later in the run.
        Some(scope)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.shared
                .inventory
                .hosts
                .keys()
                .map(|h| Value::from(h.as_str()))
                .collect(),
        )
    }
}
