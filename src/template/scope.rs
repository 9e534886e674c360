//! The variables a template sees, templated lazily: a variable whose value holds
//! `{{ … }}` is rendered when it is first read, in the same scope, as Ansible does.
//! Reading a variable while it is being rendered is a loop and is reported as such.

use crate::vars::Vars;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::Environment;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The variables a template reads, resolved lazily: a value that is itself a template
/// is rendered when first read (and cached), as Ansible's lazy templating does, and a
/// variable that refers to itself in a loop is an error instead of a hang.
pub struct Scope {
    env: Arc<Environment<'static>>,
    vars: Vars,
    cache: Mutex<HashMap<String, Value>>,
    resolving: Mutex<Vec<String>>,
    /// The first error met while resolving lazily (minijinja's lookup cannot fail, so
    /// the renderer reports this one instead of a bare "undefined").
    error: Mutex<Option<String>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("vars", &self.vars.len())
            .finish()
    }
}

impl Scope {
    /// A scope over `vars`, rendering their templates with `env`.
    pub fn new(env: Arc<Environment<'static>>, vars: Vars) -> Arc<Scope> {
        Arc::new(Scope {
            env,
            vars,
            cache: Mutex::new(HashMap::new()),
            resolving: Mutex::new(Vec::new()),
            error: Mutex::new(None),
        })
    }

    /// The variables as given, templates unrendered.
    pub fn raw(&self) -> &Vars {
        &self.vars
    }

    /// Is `name` defined (whatever its value renders to)?
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// The first error met while resolving a variable, taken out (the renderer reports it
    /// instead of a bare "undefined").
    pub fn take_error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    fn record_error(&self, msg: String) {
        if let Ok(mut e) = self.error.lock() {
            if e.is_none() {
                *e = Some(msg);
            }
        }
    }

    /// The fully templated value of a variable.
    pub fn resolve(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some(v) = self.cache.lock().ok()?.get(name) {
            return Some(v.clone());
        }
        let raw = self.vars.get(name)?.clone();
        if !needs_templating(&raw) {
            return Some(raw);
        }
        {
            let mut stack = self.resolving.lock().ok()?;
            if stack.iter().any(|n| n == name) {
                let mut chain = stack.clone();
                chain.push(name.to_string());
                drop(stack);
                self.record_error(format!(
                    "recursive loop detected in variable '{name}': {}",
                    chain.join(" -> ")
                ));
                return None;
            }
            stack.push(name.to_string());
        }
        let ctx = Value::from_dyn_object(self.clone());
        let result = crate::template::render_value(&self.env, &raw, &ctx);
        if let Ok(mut stack) = self.resolving.lock() {
            stack.retain(|n| n != name);
        }
        match result {
            Ok(v) => {
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(name.to_string(), v.clone());
                }
                Some(v)
            }
            Err(e) => {
                // The cause first (Ansible's wording, which playbooks match), then where.
                let help = e
                    .help
                    .clone()
                    .map(|h| format!(" (help: {h})"))
                    .unwrap_or_default();
                self.record_error(format!(
                    "{} (while templating variable '{name}'){help}",
                    e.message
                ));
                None
            }
        }
    }
}

/// Mark a value as data: its strings are never templated again (registered results,
/// facts, `set_fact` values — already templated once, or read from hosts), as Ansible
/// leaves them without its `TrustedAsTemplate` tag. Every string is marked, not only
/// those that look like templates, so `tagged_with('TrustedAsTemplate')` can tell. The
/// mark is minijinja's safe-string flag, which nothing else in drover uses (auto-escaping
/// is off); mapping keys are left as they are, so lookups by key still match.
pub fn as_data(v: Value) -> Value {
    match v.kind() {
        minijinja::value::ValueKind::String if !v.is_safe() => {
            Value::from_safe_string(v.as_str().unwrap_or_default().to_string())
        }
        minijinja::value::ValueKind::Seq => Value::from(
            v.try_iter()
                .map(|it| it.map(as_data).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
        minijinja::value::ValueKind::Map => v
            .try_iter()
            .map(|it| {
                it.map(|k| {
                    let item = v.get_item(&k).unwrap_or_default();
                    (k, as_data(item))
                })
                .collect::<indexmap::IndexMap<Value, Value>>()
            })
            .map(Value::from_iter)
            .unwrap_or(v),
        _ => v,
    }
}

/// A registered result as data (see [`as_data`]), except under the keys `loaded` names:
/// content a module read from the controller's files, which Ansible keeps trusted (see
/// `Module::loaded_result_keys`). A loop's per-item `results` are treated alike.
pub fn as_registered(v: Value, loaded: &[&str]) -> Value {
    if loaded.is_empty() || v.kind() != minijinja::value::ValueKind::Map {
        return as_data(v);
    }
    let Ok(keys) = v.try_iter() else {
        return as_data(v);
    };
    keys.map(|k| {
        let item = v.get_item(&k).unwrap_or_default();
        let item = match k.as_str() {
            Some(name) if loaded.contains(&name) => item,
            Some("results") if item.kind() == minijinja::value::ValueKind::Seq => Value::from(
                item.try_iter()
                    .map(|it| it.map(|r| as_registered(r, loaded)).collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
            _ => as_data(item),
        };
        (k, item)
    })
    .collect()
}

/// Does a value hold any template syntax (anywhere inside it) that is not data?
pub fn needs_templating(v: &Value) -> bool {
    if let Some(s) = v.as_str() {
        return !v.is_safe() && (s.contains("{{") || s.contains("{%") || s.contains("{#"));
    }
    match v.kind() {
        minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map => v
            .try_iter()
            .map(|it| {
                it.into_iter().any(|k| {
                    if v.kind() == minijinja::value::ValueKind::Map {
                        v.get_item(&k)
                            .map(|x| needs_templating(&x))
                            .unwrap_or(false)
                    } else {
                        needs_templating(&k)
                    }
                })
            })
            .unwrap_or(false),
        _ => false,
    }
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if name == "vars" {
            // `vars['name']` and `vars[dynamic]`: the same lazy lookup.
            return Some(Value::from_dyn_object(self.clone()));
        }
        self.resolve(name)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.vars.keys().map(|k| Value::from(k.as_str())).collect();
        Enumerator::Values(keys)
    }
}
