//! Terraform outputs as an inventory.
//!
//! These `-i` sources end up here:
//! - a file holding a saved `terraform output -json` (a mapping whose values carry
//!   `value` and `type`), a `terraform.tfstate` (its `outputs`), or a saved
//!   `terraform output -json inventory` (the value alone: a mapping with a `hosts` list);
//! - a directory holding `*.tf` files (a Terraform module): its `terraform.tfstate` when
//!   there is one, else what `terraform output -json` prints there (`terraform` on PATH).
//!
//! The output named `inventory` must have this shape (`terraform/outputs.tf` writes it):
//!
//! ```json
//! { "version": 1,
//!   "address": "public",
//!   "vars": { "ansible_python_interpreter": "..." },
//!   "hosts": [
//!     { "name": "logging-1", "groups": ["logging", "forwarders", "node_exporters"],
//!       "public_address": "203.0.113.10", "private_address": "10.0.1.10",
//!       "user": "ubuntu", "port": null, "proxy_jump": null, "vars": {} } ] }
//! ```
//!
//! `address` (`public` or `private`) says which address becomes `ansible_host`; the
//! environment variable `DROVER_TF_ADDRESS` overrides it. A host reached by its private
//! address with a `proxy_jump` gets `ansible_ssh_common_args: -o ProxyJump=…`.

use super::model::Inventory;
use crate::diagnostics::{did_you_mean, Error, ErrorKind, Result, Span};
use crate::yaml::{self, Node, NodeKind};
use minijinja::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable choosing `public` or `private` addresses for `ansible_host`.
pub const ADDRESS_ENV: &str = "DROVER_TF_ADDRESS";

const VALUE_KEYS: [&str; 4] = ["version", "address", "vars", "hosts"];
const HOST_KEYS: [&str; 8] = [
    "name",
    "groups",
    "public_address",
    "private_address",
    "user",
    "port",
    "proxy_jump",
    "vars",
];

/// Which of a host's addresses becomes `ansible_host`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// `public_address`
    Public,
    /// `private_address`
    Private,
}

impl AddressKind {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Some(AddressKind::Public),
            "private" => Some(AddressKind::Private),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            AddressKind::Public => "public_address",
            AddressKind::Private => "private_address",
        }
    }
}

/// Does this directory hold a Terraform module (a `*.tf` file)?
pub fn is_module_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                let p = e.path();
                p.is_file() && p.extension().is_some_and(|x| x == "tf")
            })
        })
        .unwrap_or(false)
}

/// Load `text` (from `path`) as Terraform outputs if it looks like them; `Ok(false)` when
/// it is something else (a JSON or YAML inventory), for the caller to go on with.
pub fn sniff(text: &str, path: &Path, inv: &mut Inventory) -> Result<bool> {
    if !text.trim_start().starts_with('{') {
        return Ok(false);
    }
    let Ok(docs) = yaml::load_str(text, path) else {
        return Ok(false);
    };
    let [doc] = docs.as_slice() else {
        return Ok(false);
    };
    let Some(outputs) = outputs_of(doc) else {
        // `terraform output -json inventory`: the output's value alone.
        if doc.get("hosts").and_then(Node::as_seq).is_some() {
            load_value(doc, inv, address_from_env()?)?;
            inv.notes.push(format!(
                "inventory from the saved `terraform output -json inventory` in {}",
                path.display()
            ));
            return Ok(true);
        }
        return Ok(false);
    };
    let what = if doc.get("outputs").is_some() {
        "the Terraform state's outputs"
    } else {
        "the saved `terraform output -json`"
    };
    load_outputs(outputs, &doc.span, inv)?;
    inv.notes.push(format!(
        "inventory from {what} in {} (output 'inventory')",
        path.display()
    ));
    Ok(true)
}

/// The outputs mapping of a parsed document: the document itself for `terraform output
/// -json`, its `outputs` for a state file; `None` when it is neither.
fn outputs_of(doc: &Node) -> Option<&Node> {
    let map = doc.as_map()?;
    if doc.get("terraform_version").is_some() {
        return doc.get("outputs").filter(|o| o.as_map().is_some());
    }
    let all_outputs = !map.is_empty()
        && map.iter().all(|(_, v)| {
            v.as_map().is_some() && v.get("value").is_some() && v.get("type").is_some()
        });
    all_outputs.then_some(doc)
}

/// Load a Terraform module directory: its `terraform.tfstate`, else `terraform output
/// -json` run there.
pub fn load_dir(dir: &Path, inv: &mut Inventory) -> Result<()> {
    let state = dir.join("terraform.tfstate");
    if state.is_file() {
        let (text, _) = yaml::read_source(&state)?;
        let docs = yaml::load_str(&text, &state)?;
        let doc = docs.first().ok_or_else(|| {
            Error::invalid(format!("{} is empty", state.display()), &Span::file(&state))
                .with_help("run `terraform apply` in that directory first")
        })?;
        let outputs = outputs_of(doc).ok_or_else(|| {
            Error::invalid(
                format!(
                    "{} is not a Terraform state (no 'terraform_version' and 'outputs')",
                    state.display()
                ),
                &doc.span,
            )
            .with_help("pass the Terraform module directory whose state this is, or a saved `terraform output -json`")
        })?;
        load_outputs(outputs, &doc.span, inv)?;
        inv.notes.push(format!(
            "inventory from {} (output 'inventory'; terraform was not run)",
            state.display()
        ));
        return Ok(());
    }
    let Some(tf) = find_terraform() else {
        return Err(Error::not_found(format!(
            "{} is a Terraform module without a local terraform.tfstate, and `terraform` is not on PATH",
            dir.display()
        ))
        .with_help("install terraform (its state may be remote), or save `terraform output -json > tf.json` and pass -i tf.json"));
    };
    let out = Command::new(&tf)
        .args(["output", "-json", "-no-color"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::io(format!(
                "cannot run {} in {}: {e}",
                tf.display(),
                dir.display()
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::invalid(
            format!(
                "`terraform output -json` failed in {}: {}",
                dir.display(),
                stderr.trim()
            ),
            &Span::file(dir),
        )
        .with_help("run `terraform init` (and `terraform apply`) in that directory first"));
    }
    let pseudo = dir.join("(terraform output -json)");
    let text = String::from_utf8_lossy(&out.stdout);
    let docs = yaml::load_str(&text, &pseudo)?;
    let doc = docs
        .first()
        .filter(|d| d.as_map().is_some_and(|m| !m.is_empty()));
    let Some(doc) = doc else {
        return Err(Error::invalid(
            format!(
                "`terraform output -json` in {} printed no outputs",
                dir.display()
            ),
            &Span::file(dir),
        )
        .with_help("run `terraform apply` there first: the state has no outputs"));
    };
    let outputs = outputs_of(doc).ok_or_else(|| {
        Error::invalid(
            "`terraform output -json` printed something that is not Terraform outputs",
            &doc.span,
        )
    })?;
    load_outputs(outputs, &doc.span, inv)?;
    inv.notes.push(format!(
        "inventory from `terraform output -json` run in {} ({})",
        dir.display(),
        tf.display()
    ));
    Ok(())
}

fn find_terraform() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
}

/// The address kind from `DROVER_TF_ADDRESS`, if set.
fn address_from_env() -> Result<Option<AddressKind>> {
    match std::env::var(ADDRESS_ENV) {
        Ok(v) if !v.trim().is_empty() => AddressKind::parse(&v).map(Some).ok_or_else(|| {
            Error::new(
                ErrorKind::Invalid,
                format!("{ADDRESS_ENV}='{v}' is neither 'public' nor 'private'"),
            )
            .with_help(format!("set {ADDRESS_ENV}=public or {ADDRESS_ENV}=private, or unset it to follow the output's 'address'"))
        }),
        _ => Ok(None),
    }
}

/// Load the `inventory` output of a Terraform outputs mapping (`at`: where the mapping
/// starts, for errors about a missing output).
pub fn load_outputs(outputs: &Node, at: &Span, inv: &mut Inventory) -> Result<()> {
    load_outputs_with(outputs, at, inv, address_from_env()?)
}

fn load_outputs_with(
    outputs: &Node,
    at: &Span,
    inv: &mut Inventory,
    env_address: Option<AddressKind>,
) -> Result<()> {
    let Some(output) = outputs.get("inventory") else {
        let names: Vec<String> = outputs
            .as_map()
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, _)| k.key_text())
            .collect();
        let found = if names.is_empty() {
            "there are no outputs".to_string()
        } else {
            format!("outputs: {}", names.join(", "))
        };
        return Err(Error::invalid(
            format!("no Terraform output named 'inventory' ({found})"),
            if outputs.span.is_known() { &outputs.span } else { at },
        )
        .with_help("add the `inventory` output of terraform/outputs.tf to the module and run `terraform apply` (see terraform/README.md)"));
    };
    let value = match output.get("value") {
        Some(v) => v,
        None => {
            return Err(Error::invalid(
                "output 'inventory' has no 'value'",
                &output.span,
            ))
        }
    };
    load_value(value, inv, env_address)
}

/// Load the value of the `inventory` output (the version 1 shape).
fn load_value(value: &Node, inv: &mut Inventory, env_address: Option<AddressKind>) -> Result<()> {
    let value_map = value.as_map().ok_or_else(|| {
        Error::invalid(
            format!(
                "output 'inventory': 'value' must be a mapping with 'hosts', found a {}",
                value.type_name()
            ),
            &value.span,
        )
    })?;
    for (k, _) in value_map {
        let key = k.key_text().unwrap_or_default();
        if !VALUE_KEYS.contains(&key.as_str()) {
            return Err(unknown_key(
                &key,
                "output 'inventory'",
                &VALUE_KEYS,
                &k.span,
            ));
        }
    }
    if let Some(v) = value.get("version").filter(|v| !v.is_null()) {
        if !matches!(v.kind, NodeKind::Int(1)) {
            return Err(Error::invalid(
                format!(
                    "output 'inventory': version {} is not supported (this drover reads version 1)",
                    v.key_text().unwrap_or_else(|| v.type_name().into())
                ),
                &v.span,
            )
            .with_help("upgrade drover, or write the version 1 shape (terraform/README.md)"));
        }
    }
    let declared = match value.get("address").filter(|a| !a.is_null()) {
        Some(a) => {
            let s = a.expect_str("output 'inventory': 'address'")?;
            Some(AddressKind::parse(&s).ok_or_else(|| {
                Error::invalid(
                    format!("output 'inventory': address '{s}' is neither 'public' nor 'private'"),
                    &a.span,
                )
            })?)
        }
        None => None,
    };
    let address = env_address.or(declared);
    if let Some(vars) = value.get("vars").filter(|v| !v.is_null()) {
        for (k, v) in vars.expect_map("output 'inventory': 'vars'")? {
            let key = k.expect_str("a variable name")?;
            inv.group_mut("all").vars.insert(key, v.to_value());
        }
    }
    let hosts = value.get("hosts").ok_or_else(|| {
        Error::invalid("output 'inventory' has no 'hosts' list", &value.span)
            .with_help("the value needs `hosts = [{ name = ..., groups = [...], public_address = ..., private_address = ... }]`")
    })?;
    let list = hosts.as_seq().ok_or_else(|| {
        Error::invalid(
            format!(
                "output 'inventory': 'hosts' must be a list, found a {}",
                hosts.type_name()
            ),
            &hosts.span,
        )
    })?;
    declare_groups(list, inv);
    for (i, h) in list.iter().enumerate() {
        load_host(h, i, address, inv)?;
    }
    Ok(())
}

/// Create the groups in a stable order before any host joins them: by position in the
/// hosts' `groups` lists, then by first appearance. Every host's role group comes first
/// (logging, kafka, web, monitoring), then the groups all hosts share (forwarders,
/// node_exporters): the order a hand-written inventory lists them in, so `--graph`
/// prints the same tree. Bad entries are skipped here and reported by [`load_host`].
fn declare_groups(hosts: &[Node], inv: &mut Inventory) {
    let lists: Vec<Vec<&str>> = hosts
        .iter()
        .map(|h| {
            h.get("groups")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .map(str::trim)
                .filter(|g| !g.is_empty() && *g != "all" && *g != "ungrouped")
                .collect()
        })
        .collect();
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    for pos in 0..longest {
        for list in &lists {
            if let Some(g) = list.get(pos) {
                inv.group_mut(g);
            }
        }
    }
}

fn unknown_key(key: &str, within: &str, known: &[&str], span: &Span) -> Error {
    let err = Error::invalid(format!("{within}: unknown key '{key}'"), span);
    match did_you_mean(key, known.iter().copied()) {
        Some(s) => err.with_help(format!(
            "did you mean '{s}'? known keys: {}",
            known.join(", ")
        )),
        None => err.with_help(format!("known keys: {}", known.join(", "))),
    }
}

/// An optional string field: absent and null are `None`.
fn opt_str(h: &Node, key: &str, what: &str) -> Result<Option<String>> {
    match h.get(key).filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => match &v.kind {
            NodeKind::Str(s) if s.is_empty() => Ok(None),
            NodeKind::Str(s) => Ok(Some(s.clone())),
            _ => Err(Error::invalid(
                format!(
                    "{what}: '{key}' must be a string, found a {}",
                    v.type_name()
                ),
                &v.span,
            )),
        },
    }
}

fn load_host(
    h: &Node,
    index: usize,
    address: Option<AddressKind>,
    inv: &mut Inventory,
) -> Result<()> {
    let at = format!("output 'inventory': hosts[{index}]");
    let entries = h.as_map().ok_or_else(|| {
        Error::invalid(
            format!(
                "{at} must be a mapping with 'name' and 'groups', found a {}",
                h.type_name()
            ),
            &h.span,
        )
    })?;
    for (k, _) in entries {
        let key = k.key_text().unwrap_or_default();
        if !HOST_KEYS.contains(&key.as_str()) {
            return Err(unknown_key(&key, &at, &HOST_KEYS, &k.span));
        }
    }
    let name = opt_str(h, "name", &at)?.ok_or_else(|| {
        Error::invalid(format!("{at} has no 'name'"), &h.span)
            .with_help("every host needs a name: the inventory host name (e.g. logging-1)")
    })?;
    if inv.hosts.contains_key(&name) {
        return Err(
            Error::invalid(format!("{at}: host '{name}' appears twice"), &h.span)
                .with_help("host names must be unique: check the instances' names in Terraform"),
        );
    }
    let at = format!("output 'inventory': host '{name}'");
    let groups = match h.get("groups").filter(|g| !g.is_null()) {
        None => Vec::new(),
        Some(g) => {
            let items = g.as_seq().ok_or_else(|| {
                Error::invalid(
                    format!(
                        "{at}: 'groups' must be a list of group names, found a {}",
                        g.type_name()
                    ),
                    &g.span,
                )
                .with_help("in Terraform: groups = split(\",\", tags.drover_groups)")
            })?;
            let mut out = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    _ => {
                        return Err(Error::invalid(
                            format!(
                                "{at}: every group must be a non-empty string, found a {}",
                                item.type_name()
                            ),
                            &item.span,
                        ))
                    }
                }
            }
            out
        }
    };
    let public = opt_str(h, "public_address", &at)?;
    let private = opt_str(h, "private_address", &at)?;
    let kind = address.unwrap_or(if public.is_some() {
        AddressKind::Public
    } else {
        AddressKind::Private
    });
    let chosen = match kind {
        AddressKind::Public => public.clone(),
        AddressKind::Private => private.clone(),
    };
    let Some(addr) = chosen else {
        if public.is_none() && private.is_none() {
            return Err(Error::invalid(
                format!("{at} has no address: neither 'public_address' nor 'private_address' is set"),
                &h.span,
            )
            .with_help("the instance has no address yet (is it being created?): run `terraform apply` and save the outputs again"));
        }
        let other = match kind {
            AddressKind::Public => "private",
            AddressKind::Private => "public",
        };
        return Err(Error::invalid(
            format!("{at} has no '{}' (the address to connect to)", kind.key()),
            &h.span,
        )
        .with_help(format!(
            "give the instance that address in Terraform, or use the {other} one: {ADDRESS_ENV}={other}"
        )));
    };
    if groups.is_empty() {
        inv.host_mut(&name);
    }
    for g in &groups {
        if g == "all" || g == "ungrouped" {
            continue;
        }
        inv.add_host_to_group(&name, g);
    }
    inv.host_mut(&name);
    let mut vars = Vec::new();
    vars.push(("ansible_host".to_string(), Value::from(addr)));
    if let Some(user) = opt_str(h, "user", &at)? {
        vars.push(("ansible_user".into(), Value::from(user)));
    }
    if let Some(p) = h.get("port").filter(|p| !p.is_null()) {
        match p.kind {
            NodeKind::Int(n) if (1..=65535).contains(&n) => {
                vars.push(("ansible_port".into(), Value::from(n)));
            }
            _ => {
                return Err(Error::invalid(
                    format!(
                        "{at}: 'port' must be a port number (1-65535), found {}",
                        p.key_text()
                            .unwrap_or_else(|| format!("a {}", p.type_name()))
                    ),
                    &p.span,
                ))
            }
        }
    }
    if kind == AddressKind::Private {
        if let Some(jump) = opt_str(h, "proxy_jump", &at)? {
            if jump
                .chars()
                .any(|c| c.is_whitespace() || c == '\'' || c == '"')
            {
                return Err(Error::invalid(
                    format!("{at}: 'proxy_jump' '{jump}' must be [user@]host[:port][,…] without spaces or quotes"),
                    &h.get("proxy_jump").map(|n| n.span.clone()).unwrap_or_else(|| h.span.clone()),
                ));
            }
            vars.push((
                "ansible_ssh_common_args".into(),
                Value::from(format!("-o ProxyJump={jump}")),
            ));
        }
    }
    if let Some(extra) = h.get("vars").filter(|v| !v.is_null()) {
        for (k, v) in extra.expect_map(&format!("{at}: 'vars'"))? {
            let key = k.expect_str("a variable name")?;
            vars.push((key, v.to_value()));
        }
    }
    let host = inv.host_mut(&name);
    for (k, v) in vars {
        host.vars.insert(k, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: Option<AddressKind>) -> Result<Inventory> {
        let path = Path::new("tf.json");
        let docs = yaml::load_str_with(text, path, None)?;
        let doc = &docs[0];
        let outputs = outputs_of(doc).expect("recognised as terraform outputs");
        let mut inv = Inventory::new();
        load_outputs_with(outputs, &doc.span, &mut inv, env)?;
        inv.finish();
        Ok(inv)
    }

    fn wrap(value: &str) -> String {
        format!("{{\n  \"inventory\": {{\n    \"sensitive\": false,\n    \"type\": \"dynamic\",\n    \"value\": {value}\n  }}\n}}\n")
    }

    const GOOD: &str = r#"{"version": 1, "address": "public", "vars": {"env": "prod"},
      "hosts": [
        {"name": "logging-1", "groups": ["logging", "forwarders"], "public_address": "203.0.113.10",
         "private_address": "10.0.1.10", "user": "ubuntu", "port": null, "proxy_jump": null},
        {"name": "kafka-1", "groups": ["kafka", "forwarders"], "public_address": "203.0.113.11",
         "private_address": "10.0.1.11", "user": "ubuntu", "port": 2222, "proxy_jump": "ubuntu@198.51.100.5",
         "vars": {"kafka_node_id": 1}}
      ]}"#;

    fn var(inv: &Inventory, h: &str, k: &str) -> Option<String> {
        inv.host_vars(h).get(k).map(|v| v.to_string())
    }

    #[test]
    fn hosts_groups_and_addresses() {
        let inv = load(&wrap(GOOD), None).unwrap();
        assert_eq!(inv.group_hosts("forwarders"), ["logging-1", "kafka-1"]);
        // Role groups first, then the shared ones.
        let groups: Vec<&str> = inv.groups.keys().map(String::as_str).collect();
        assert_eq!(
            groups,
            ["all", "ungrouped", "logging", "kafka", "forwarders"]
        );
        assert_eq!(inv.group_hosts("kafka"), ["kafka-1"]);
        assert_eq!(
            var(&inv, "logging-1", "ansible_host").unwrap(),
            "203.0.113.10"
        );
        assert_eq!(var(&inv, "kafka-1", "ansible_port").unwrap(), "2222");
        assert_eq!(var(&inv, "kafka-1", "ansible_user").unwrap(), "ubuntu");
        assert_eq!(var(&inv, "kafka-1", "kafka_node_id").unwrap(), "1");
        assert_eq!(var(&inv, "kafka-1", "env").unwrap(), "prod");
        // Public addresses: no jump host even when one is named.
        assert!(var(&inv, "kafka-1", "ansible_ssh_common_args").is_none());
        // Private: the private address and the jump.
        let inv = load(&wrap(GOOD), Some(AddressKind::Private)).unwrap();
        assert_eq!(var(&inv, "kafka-1", "ansible_host").unwrap(), "10.0.1.11");
        assert_eq!(
            var(&inv, "kafka-1", "ansible_ssh_common_args").unwrap(),
            "-o ProxyJump=ubuntu@198.51.100.5"
        );
        assert!(var(&inv, "logging-1", "ansible_ssh_common_args").is_none());
    }

    #[test]
    fn address_defaults_to_public_when_present() {
        let v = r#"{"hosts": [{"name": "a", "private_address": "10.0.0.1", "proxy_jump": "b"},
                              {"name": "c", "public_address": "192.0.2.1", "private_address": "10.0.0.2"}]}"#;
        let inv = load(&wrap(v), None).unwrap();
        assert_eq!(var(&inv, "a", "ansible_host").unwrap(), "10.0.0.1");
        assert_eq!(
            var(&inv, "a", "ansible_ssh_common_args").unwrap(),
            "-o ProxyJump=b"
        );
        assert_eq!(var(&inv, "c", "ansible_host").unwrap(), "192.0.2.1");
        assert_eq!(inv.group_hosts("ungrouped"), ["a", "c"]);
    }

    #[test]
    fn a_tfstate_is_recognised() {
        let text = format!(
            "{{\"version\": 4, \"terraform_version\": \"1.11.4\", \"outputs\": {}, \"resources\": []}}",
            wrap(GOOD)
        );
        let docs = yaml::load_str_with(&text, Path::new("s"), None).unwrap();
        assert!(outputs_of(&docs[0]).is_some());
        // A JSON inventory is not.
        let docs =
            yaml::load_str_with(r#"{"all": {"hosts": {"a": {}}}}"#, Path::new("s"), None).unwrap();
        assert!(outputs_of(&docs[0]).is_none());
    }

    /// The error's message and line for a bad document.
    fn bad(text: &str, env: Option<AddressKind>) -> (String, u32, String) {
        let e = load(text, env).unwrap_err();
        let span = e.span.clone().expect("located");
        (
            e.message.clone(),
            span.line,
            e.help.clone().unwrap_or_default(),
        )
    }

    #[test]
    fn bad_shapes_give_located_errors() {
        let other = "{\n  \"vpc_id\": {\"sensitive\": false, \"type\": \"string\", \"value\": \"vpc-1\"}\n}";
        let (m, line, help) = bad(other, None);
        assert!(
            m.contains("no Terraform output named 'inventory' (outputs: vpc_id)"),
            "{m}"
        );
        assert_eq!(line, 1);
        assert!(help.contains("outputs.tf"), "{help}");

        let (m, line, _) = bad(&wrap("[1, 2]"), None);
        assert!(m.contains("'value' must be a mapping"), "{m}");
        assert_eq!(line, 5);

        let (m, _, _) = bad(&wrap(r#"{"hosts": {"a": 1}}"#), None);
        assert!(m.contains("'hosts' must be a list, found a mapping"), "{m}");

        let (m, _, help) = bad(&wrap(r#"{"host": []}"#), None);
        assert!(m.contains("unknown key 'host'"), "{m}");
        assert!(help.contains("did you mean 'hosts'"), "{help}");

        let (m, _, _) = bad(&wrap(r#"{"hosts": [{"groups": []}]}"#), None);
        assert!(m.contains("hosts[0] has no 'name'"), "{m}");

        let (m, line, help) = bad(
            &wrap("{\"hosts\": [\n {\"name\": \"a\",\n  \"groups\": \"web\", \"private_address\": \"x\"}]}"),
            None,
        );
        assert!(m.contains("host 'a': 'groups' must be a list"), "{m}");
        assert_eq!(line, 7);
        assert!(help.contains("split"), "{help}");

        let (m, _, help) = bad(
            &wrap(r#"{"hosts": [{"name": "a", "private_address": "10.0.0.1"}]}"#),
            Some(AddressKind::Public),
        );
        assert!(m.contains("host 'a' has no 'public_address'"), "{m}");
        assert!(help.contains("DROVER_TF_ADDRESS=private"), "{help}");

        let (m, _, _) = bad(
            &wrap(r#"{"hosts": [{"name": "a", "private_address": "x", "port": "ssh"}]}"#),
            None,
        );
        assert!(m.contains("'port' must be a port number"), "{m}");

        let (m, _, _) = bad(
            &wrap(
                r#"{"hosts": [{"name": "a", "private_address": "x"}, {"name": "a", "private_address": "y"}]}"#,
            ),
            None,
        );
        assert!(m.contains("host 'a' appears twice"), "{m}");

        let (m, _, help) = bad(
            &wrap(r#"{"hosts": [{"name": "a", "private_adress": "x"}]}"#),
            None,
        );
        assert!(m.contains("hosts[0]: unknown key 'private_adress'"), "{m}");
        assert!(help.contains("private_address"), "{help}");

        let (m, _, _) = bad(&wrap(r#"{"hosts": [{"name": "a"}]}"#), None);
        assert!(m.contains("host 'a' has no address"), "{m}");

        let (m, _, _) = bad(&wrap(r#"{"version": 2, "hosts": []}"#), None);
        assert!(m.contains("version 2 is not supported"), "{m}");

        let (m, _, _) = bad(
            &wrap(r#"{"hosts": [{"name": "a", "private_address": "x", "proxy_jump": "a b"}]}"#),
            None,
        );
        assert!(m.contains("'proxy_jump'"), "{m}");
    }
}
