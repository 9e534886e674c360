//! `ansible._protomatter.tagged_with`: ansible-core's test of its data tags (2.19's
//! "data tagging"), which its own integration targets use to check that content keeps or
//! loses its trust.
//!
//! drover tracks one of those tags, `TrustedAsTemplate`: a string it would template when
//! used (playbook, inventory and vars-file content, include_vars' registered
//! `ansible_facts`), as opposed to data (registered module results, facts, `set_fact`
//! values), which `template::as_data` marks. Ansible's other tags (`Origin`, `VaultedValue`,
//! `SourceWasEncrypted`, `Deprecated`) are refused by name rather than answered wrongly.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// The tags ansible-core knows that drover does not track.
const UNTRACKED: &[&str] = &["Origin", "VaultedValue", "SourceWasEncrypted", "Deprecated"];

/// `value is ansible._protomatter.tagged_with(tag_name)`.
pub fn tagged_with(value: &Value, tag_name: &str) -> Result<bool, Error> {
    match tag_name {
        "TrustedAsTemplate" => Ok(value.kind() == ValueKind::String && !value.is_safe()),
        _ if UNTRACKED.contains(&tag_name) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "drover does not track the data tag {tag_name:?}: of Ansible's data tags it \
                 knows only 'TrustedAsTemplate'"
            ),
        )),
        // Ansible's own words for a name it does not know.
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("Unknown tag name {tag_name:?}."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playbook_strings_are_trusted_and_data_is_not() {
        assert!(tagged_with(&Value::from("bar"), "TrustedAsTemplate").unwrap());
        let data = crate::template::as_data(Value::from("bar"));
        assert!(!tagged_with(&data, "TrustedAsTemplate").unwrap());
        // Only strings carry the tag.
        assert!(!tagged_with(&Value::from(1), "TrustedAsTemplate").unwrap());
    }

    #[test]
    fn registered_include_vars_facts_stay_trusted() {
        let result = Value::from_iter([
            ("ansible_facts", Value::from_iter([("foo", "{{ 1 + 1 }}")])),
            ("msg", Value::from("{{ x }}")),
        ]);
        let registered = crate::template::as_registered(result, &["ansible_facts"]);
        let foo = registered
            .get_attr("ansible_facts")
            .and_then(|f| f.get_attr("foo"))
            .unwrap();
        assert!(tagged_with(&foo, "TrustedAsTemplate").unwrap());
        let msg = registered.get_attr("msg").unwrap();
        assert!(!tagged_with(&msg, "TrustedAsTemplate").unwrap());
    }

    #[test]
    fn other_tags_are_refused_by_name() {
        let e = tagged_with(&Value::from("x"), "Origin").unwrap_err();
        assert!(e
            .to_string()
            .contains("does not track the data tag \"Origin\""));
        let e = tagged_with(&Value::from("x"), "Nope").unwrap_err();
        assert!(e.to_string().contains("Unknown tag name \"Nope\"."));
    }
}
