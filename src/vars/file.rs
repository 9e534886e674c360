//! Variable files: `vars_files`, `include_vars`, `group_vars/`, `host_vars/`, role
//! `defaults/` and `vars/`.

use crate::diagnostics::{Error, Result, Span};
use crate::vars::Vars;
use crate::yaml::{self, Node};
use std::path::Path;

/// Load a YAML or JSON file that must hold a mapping of variable names to values.
pub fn load_vars_file(path: &Path) -> Result<Vars> {
    let docs = yaml::load_file(path)?;
    let mut vars = Vars::new();
    for doc in &docs {
        merge_vars_node(doc, path, &mut vars)?;
    }
    Ok(vars)
}

/// Add the variables of a mapping node; an empty document is no variables.
pub fn merge_vars_node(doc: &Node, path: &Path, vars: &mut Vars) -> Result<()> {
    if doc.is_null() {
        return Ok(());
    }
    if let Some(text) = doc.as_str() {
        if text.starts_with("$ANSIBLE_VAULT") {
            return Err(Error::invalid(
                format!("{} is vault-encrypted", path.display()),
                &Span::file(path),
            )
            .with_help("pass --vault-password-file or --ask-vault-pass"));
        }
    }
    for (k, v) in doc.expect_map(&format!("variables file {}", path.display()))? {
        let name = k.expect_str("a variable name")?;
        check_var_name(&name, &k.span)?;
        vars.insert(name, v.to_value());
    }
    Ok(())
}

/// Variable names must be identifiers, as Ansible requires.
pub fn check_var_name(name: &str, span: &Span) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("'{name}' is not a valid variable name"), span)
            .with_help("variable names start with a letter or '_' and contain only letters, digits and '_'"))
    }
}
