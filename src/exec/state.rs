//! State shared by every host's walker in a run, and each host's own state.

use crate::inventory::Inventory;
use crate::modules::Effect;
use crate::output::HostStats;
use crate::vars::Vars;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// What a host keeps across tasks and plays.
#[derive(Default, Clone)]
pub struct HostState {
    pub facts: Vars,
    /// Facts a module returned under names of its own (`getent_passwd`, `packages`,
    /// `services`): visible as `ansible_facts.NAME` and as `NAME` itself, not with an
    /// `ansible_` prefix (Ansible's fact injection for module facts).
    pub module_facts: Vars,
    /// set_fact and registered results.
    pub set_facts: Vars,
    pub include_vars: Vars,
    /// Roles included with `public: true`: their defaults and vars stay visible.
    pub public_roles: Vec<std::sync::Arc<crate::playbook::Role>>,
    pub failed: bool,
    pub unreachable: bool,
    pub stats: HostStats,
    /// Bumped when a task another host delegated here may have changed this host: its
    /// own worker then stops trusting what it cached of the host's state.
    pub changed_elsewhere: u64,
}

impl HostState {
    /// Record a task's effects on the engine's per-host variables.
    pub fn apply(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::SetFacts(f) => self.set_facts.extend(
                    f.iter()
                        .map(|(k, v)| (k.clone(), crate::template::as_data(v.clone()))),
                ),
                Effect::IncludeVars(v) => self.include_vars.extend(v.clone()),
                Effect::UpdateFacts(f) => self.facts.extend(f.clone()),
                Effect::ModuleFacts(f) => self.module_facts.extend(f.clone()),
                // Applied to the shared inventory when the task ran (exec::task).
                Effect::Meta(_) | Effect::Inventory(_) => {}
            }
        }
    }

    /// `ansible_facts`: gathered facts and those modules returned.
    pub fn all_facts(&self) -> Vars {
        let mut all = self.facts.clone();
        all.extend(self.module_facts.clone());
        all
    }
}

/// Everything shared between hosts.
pub struct Shared {
    /// The inventory: replaced as a whole when `add_host` or `group_by` change it (see
    /// [`Shared::update_inventory`]); readers take a snapshot with [`Shared::inventory`].
    pub inventory: RwLock<Arc<Inventory>>,
    /// Bumped on every inventory change, so cached `groups` values know they are stale.
    pub inventory_generation: std::sync::atomic::AtomicU64,
    pub hosts: RwLock<HashMap<String, HostState>>,
    pub extra_vars: Vars,
}

impl Shared {
    pub fn new(inventory: Arc<Inventory>, extra_vars: Vars) -> Self {
        Shared {
            inventory: RwLock::new(inventory),
            inventory_generation: Default::default(),
            hosts: RwLock::new(Default::default()),
            extra_vars,
        }
    }

    /// The inventory as it is now.
    pub fn inventory(&self) -> Arc<Inventory> {
        self.inventory
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Change the inventory in memory (add_host, group_by); `f` says whether it changed
    /// anything, and only then is the new inventory published (copy-on-write: readers
    /// holding a snapshot keep a consistent one) and `groups` rebuilt.
    pub fn update_inventory(&self, f: impl FnOnce(&mut Inventory) -> bool) -> bool {
        let mut guard = self.inventory.write().unwrap_or_else(|e| e.into_inner());
        let mut inv = (**guard).clone();
        let changed = f(&mut inv);
        if changed {
            *guard = Arc::new(inv);
            self.inventory_generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        changed
    }

    pub fn with_host<R>(&self, host: &str, f: impl FnOnce(&mut HostState) -> R) -> R {
        let mut map = self.hosts.write().unwrap_or_else(|e| e.into_inner());
        f(map.entry(host.to_string()).or_default())
    }

    /// Read one thing of a host's state without copying the rest (a `snapshot` clones
    /// facts and registered results: too much for a flag asked per host per task).
    pub fn peek<R>(&self, host: &str, f: impl FnOnce(&HostState) -> R) -> R {
        let map = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        match map.get(host) {
            Some(st) => f(st),
            None => f(&HostState::default()),
        }
    }

    /// Has the host failed or become unreachable?
    pub fn is_out(&self, host: &str) -> bool {
        self.peek(host, |st| st.failed || st.unreachable)
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
        let inventory = self.shared.inventory();
        if !inventory.hosts.contains_key(host) {
            return None;
        }
        if let Some(v) = self.cache.lock().ok()?.get(host) {
            return Some(v.clone());
        }
        let st = self.shared.snapshot(host);
        let mut vars = inventory.host_vars(host);
        vars.extend(
            st.facts
                .iter()
                .map(|(k, v)| (format!("ansible_{k}"), v.clone())),
        );
        vars.extend(st.module_facts.clone());
        vars.insert("ansible_facts".into(), Value::from_iter(st.all_facts()));
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
            Value::from(inventory.group_names(host)),
        );
        let scope = Value::from_dyn_object(crate::template::Scope::new(self.env.clone(), vars));
        // Not cached: set_fact on that host may change it later in the run.
        Some(scope)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.shared
                .inventory()
                .hosts
                .keys()
                .map(|h| Value::from(h.as_str()))
                .collect(),
        )
    }
}
