//! The one table of magic variables: names the engine defines itself, with where each
//! comes from. Preflight treats them as defined, the cross-host barrier reads which of
//! them look at other hosts, and the executor may only set names listed here (checked in
//! debug builds and by a unit test).

/// The Ansible version drover answers to in `ansible_version`: the ansible-core release
/// the differential suite compares it with (`tests/requirements-ansible.txt`).
pub const ANSIBLE_COMPAT_VERSION: &str = "2.19.14";

/// The value of `omit`: an argument rendered to it is left out, as if never written.
pub const OMIT: &str = "__omit_place_holder__drover__";

/// When, and for what, the engine sets a magic variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// For every task of a play (inventory, play, run options).
    Play,
    /// For the tasks of a role.
    Role,
    /// Inside a loop.
    Loop,
    /// While rendering a template file (`template` module, `template` lookup).
    Template,
    /// In a rescue block, or a handler run after a failure.
    Rescue,
    /// Lookups' search path, set per task from where it is written.
    Task,
}

/// One magic variable.
#[derive(Clone, Copy, Debug)]
pub struct Magic {
    /// The variable's name.
    pub name: &'static str,
    /// When it is set.
    pub origin: Origin,
    /// Does its value depend on other hosts' progress (cross-host edge of the graph)?
    pub reads_other_hosts: bool,
}

const fn m(name: &'static str, origin: Origin) -> Magic {
    Magic {
        name,
        origin,
        reads_other_hosts: false,
    }
}

const fn cross(name: &'static str) -> Magic {
    Magic {
        name,
        origin: Origin::Play,
        reads_other_hosts: true,
    }
}

/// Every magic variable drover sets (Ansible's `Special Variables` that drover supports).
pub const MAGIC: &[Magic] = &[
    m("inventory_hostname", Origin::Play),
    m("inventory_hostname_short", Origin::Play),
    m("ansible_host", Origin::Play),
    m("group_names", Origin::Play),
    m("groups", Origin::Play),
    cross("hostvars"),
    cross("play_hosts"),
    cross("ansible_play_hosts"),
    cross("ansible_play_batch"),
    m("ansible_play_hosts_all", Origin::Play),
    m("ansible_play_name", Origin::Play),
    m("ansible_check_mode", Origin::Play),
    m("ansible_diff_mode", Origin::Play),
    m("ansible_verbosity", Origin::Play),
    m("ansible_run_tags", Origin::Play),
    m("ansible_skip_tags", Origin::Play),
    m("ansible_version", Origin::Play),
    m("ansible_facts", Origin::Play),
    m("playbook_dir", Origin::Play),
    m("omit", Origin::Play),
    m("drover_version", Origin::Play),
    m("vars", Origin::Play),
    m("environment", Origin::Play),
    m("role_name", Origin::Role),
    m("role_path", Origin::Role),
    m("item", Origin::Loop),
    m("ansible_loop", Origin::Loop),
    m("ansible_loop_var", Origin::Loop),
    m("ansible_index_var", Origin::Loop),
    m("template_path", Origin::Template),
    m("template_fullpath", Origin::Template),
    m("template_destpath", Origin::Template),
    m("template_host", Origin::Template),
    m("template_uid", Origin::Template),
    m("ansible_managed", Origin::Template),
    m("ansible_failed_task", Origin::Rescue),
    m("ansible_failed_result", Origin::Rescue),
    m("ansible_search_path", Origin::Task),
];

/// Is `name` a magic variable?
pub fn is_magic(name: &str) -> bool {
    MAGIC.iter().any(|m| m.name == name)
}

/// The magic variables whose use reads other hosts' state.
pub fn cross_host_names() -> impl Iterator<Item = &'static str> {
    MAGIC.iter().filter(|m| m.reads_other_hosts).map(|m| m.name)
}

/// Set a magic variable: the one way the executor defines one, so that every name it sets
/// is in [`MAGIC`] (a debug assertion).
pub fn set(vars: &mut super::Vars, name: &str, value: minijinja::Value) {
    debug_assert!(
        is_magic(name),
        "magic variable '{name}' is not in vars::magic::MAGIC"
    );
    vars.insert(name.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in MAGIC {
            assert!(seen.insert(m.name), "{} is listed twice", m.name);
        }
    }

    #[test]
    fn cross_host_names_are_the_ones_reading_other_hosts() {
        let names: Vec<_> = cross_host_names().collect();
        assert_eq!(
            names,
            [
                "hostvars",
                "play_hosts",
                "ansible_play_hosts",
                "ansible_play_batch"
            ]
        );
    }
}

#[cfg(test)]
mod version_tests {
    /// `ansible_version` answers with the release the differential suite pins.
    #[test]
    fn the_compat_version_is_the_pinned_ansible_core() {
        let pinned = include_str!("../../tests/requirements-ansible.txt");
        assert!(
            pinned.contains(&format!("ansible-core=={}", super::ANSIBLE_COMPAT_VERSION)),
            "{pinned}"
        );
    }
}
