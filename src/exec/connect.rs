//! Opening a host's connection: its inventory variables (with `-e` over them), the
//! templated ones rendered first, the play's `remote_user` where they name no user, and
//! the transport they choose (SSH, or the controller for `ansible_connection: local`).
//! Used for the play's hosts and for the hosts tasks delegate to.

use super::options::RunOptions;
use super::state::{self, Shared};
use crate::connection::{Connection, LocalConnection};
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::inventory::Inventory;
use crate::vars::Vars;
use indexmap::IndexMap;
use minijinja::Value;
use std::sync::Arc;

/// Variables that say how to reach a host: rendered before connecting when templated.
const CONNECTION_VARS: &[&str] = &[
    "ansible_connection",
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_remote_user",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
];

/// Render the templated connection variables of `host` (`ansible_host: "{{
/// hostvars['bastion'].ansible_host }}"`), with its variables, `hostvars`, `groups` and
/// the extra vars in scope.
fn render_connection_vars(
    vars: &mut Vars,
    host: &str,
    shared: &Arc<Shared>,
    env: &Arc<minijinja::Environment<'static>>,
) -> Result<()> {
    let templated: Vec<&str> = CONNECTION_VARS
        .iter()
        .copied()
        .filter(|k| {
            vars.get(*k)
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.contains("{{") || s.contains("{%"))
        })
        .collect();
    if templated.is_empty() {
        return Ok(());
    }
    let inv = shared.inventory();
    let mut scope = vars.clone();
    scope.insert("inventory_hostname".into(), Value::from(host));
    scope.insert(
        "inventory_hostname_short".into(),
        Value::from(host.split('.').next().unwrap_or(host)),
    );
    scope.insert("group_names".into(), Value::from(inv.group_names(host)));
    let groups: IndexMap<String, Value> = inv
        .groups
        .keys()
        .map(|g| (g.clone(), Value::from(inv.group_hosts(g))))
        .collect();
    scope.insert("groups".into(), Value::from_iter(groups));
    scope.insert(
        "hostvars".into(),
        Value::from_object(state::HostVars {
            shared: shared.clone(),
            env: env.clone(),
            cache: std::sync::Mutex::new(Default::default()),
        }),
    );
    let ctx = Value::from_dyn_object(crate::template::Scope::new(env.clone(), scope));
    for k in templated {
        let Some(v) = vars.get(k).cloned() else {
            continue;
        };
        let rendered = crate::template::render_value(env, &v, &ctx).map_err(|e| {
            Error::new(
                ErrorKind::Unreachable,
                format!("{host}: cannot render {k} ({v}): {}", e.message),
            )
            .with_help("connection variables may use the host's variables, hostvars, groups and -e values (not facts: they are gathered after connecting)")
        })?;
        vars.insert(k.to_string(), rendered);
    }
    Ok(())
}

/// Choose the transport for a host from its inventory variables; the play's
/// `remote_user:` is the login user where the variables name none.
pub(super) fn connect(
    inv: &Inventory,
    host: &str,
    opts: &RunOptions,
    shared: &Arc<Shared>,
    env: &Arc<minijinja::Environment<'static>>,
    play: &crate::playbook::Play,
) -> Result<Box<dyn Connection>> {
    // Connection variables from -e win over the inventory, as in Ansible.
    let mut vars = inv.host_vars(host);
    vars.extend(opts.extra_vars.clone());
    if let Some(user) = play
        .remote_user
        .as_ref()
        .filter(|_| !crate::connection::ssh::target::login_user_from_vars(&vars))
    {
        // Templated like the connection variables, and with the play's vars in scope.
        let mut scope = inv.host_vars(host);
        scope.extend(play.vars.clone());
        scope.extend(opts.extra_vars.clone());
        scope.insert("ansible_user".into(), user.clone());
        render_connection_vars(&mut scope, host, shared, env)?;
        if let Some(u) = scope.swap_remove("ansible_user") {
            vars.insert("ansible_user".into(), u);
        }
    }
    render_connection_vars(&mut vars, host, shared, env)?;
    let conn = vars
        .get("ansible_connection")
        .and_then(|v| v.as_str().map(str::to_string));
    let is_local_name = matches!(host, "localhost" | "127.0.0.1");
    match conn.as_deref() {
        Some("local") => Ok(Box::new(LocalConnection::new())),
        None if is_local_name && !vars.contains_key("ansible_host") => {
            Ok(Box::new(LocalConnection::new()))
        }
        Some("ssh") | Some("paramiko") | Some("smart") | None => {
            crate::connection::ssh::connect(host, &vars, &opts.ssh)
        }
        Some(other) => Err(Error::new(
            ErrorKind::Unreachable,
            format!("connection type '{other}' is not supported (use ssh or local)"),
        )),
    }
}
