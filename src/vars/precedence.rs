//! Variable precedence: the one place that decides which source of a task's variables
//! wins. Ansible's order (lowest first, as in its documentation's "Understanding variable
//! precedence"), for the sources drover has:
//!
//! | # | source | field |
//! |---|---|---|
//! | 1 | role defaults (the play's roles, public included roles, the task's own role) | `role_defaults` |
//! | 2 | inventory: `all`, parent groups, child groups, host (files over inline) | `inventory` |
//! | 3 | facts (`ansible_facts`, their `ansible_*` names, module-set facts) | `facts` |
//! | 4 | play `vars` | `play_vars` |
//! | 5 | play `vars_files` | `vars_files` |
//! | 6 | role `vars/` (same order as 1) | `role_vars` |
//! | 7 | block and task `vars` (inner wins) | `block_task_vars` |
//! | 8 | `include_vars` | `include_vars` |
//! | 9 | `set_fact` and registered results | `set_facts` |
//! | 10 | role and include parameters | `params` |
//! | 11 | extra vars (`-e`) | `extra_vars` |
//!
//! Magic variables ([`super::magic`]) are set on top of the merge by the executor.
//! Inventory precedence within source 2 is decided by `inventory::model`.

use super::Vars;

/// The sources of one task's variables, each already merged within itself.
#[derive(Default)]
pub struct Sources<'a> {
    /// 1: role defaults, lowest first.
    pub role_defaults: Vec<&'a Vars>,
    /// 2: the host's inventory variables.
    pub inventory: Option<&'a Vars>,
    /// 3: gathered and module-set facts, as variables.
    pub facts: Vars,
    /// 4: the play's `vars`.
    pub play_vars: Option<&'a Vars>,
    /// 5: the play's `vars_files`.
    pub vars_files: Option<&'a Vars>,
    /// 6: role `vars/`, lowest first.
    pub role_vars: Vec<&'a Vars>,
    /// 7: block and task `vars`.
    pub block_task_vars: Option<&'a Vars>,
    /// 8: `include_vars` results.
    pub include_vars: Option<&'a Vars>,
    /// 9: `set_fact` and registered results.
    pub set_facts: Option<&'a Vars>,
    /// 10: role and include parameters.
    pub params: Option<&'a Vars>,
    /// 11: `-e` extra vars.
    pub extra_vars: Option<&'a Vars>,
}

impl Sources<'_> {
    /// One map of variables: a later source overrides an earlier one, name by name.
    pub fn merge(self) -> Vars {
        let mut v = Vars::new();
        let mut put = |layer: &Vars| v.extend(layer.iter().map(|(k, x)| (k.clone(), x.clone())));
        self.role_defaults.iter().for_each(|l| put(l));
        self.inventory.into_iter().for_each(&mut put);
        put(&self.facts);
        self.play_vars.into_iter().for_each(&mut put);
        self.vars_files.into_iter().for_each(&mut put);
        self.role_vars.iter().for_each(|l| put(l));
        for layer in [
            self.block_task_vars,
            self.include_vars,
            self.set_facts,
            self.params,
            self.extra_vars,
        ]
        .into_iter()
        .flatten()
        {
            put(layer);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Value;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn each_source_overrides_the_ones_below_it() {
        let layers: Vec<Vars> = (1..=11)
            .map(|i| {
                // Source i defines `x` and `below_<j>` for every j >= i, so each name's
                // winner is the highest source that defines it.
                let mut v = vars(&[("x", &i.to_string())]);
                for j in i..=11 {
                    v.insert(format!("upto_{j}"), Value::from(i));
                }
                v
            })
            .collect();
        let merged = Sources {
            role_defaults: vec![&layers[0]],
            inventory: Some(&layers[1]),
            facts: layers[2].clone(),
            play_vars: Some(&layers[3]),
            vars_files: Some(&layers[4]),
            role_vars: vec![&layers[5]],
            block_task_vars: Some(&layers[6]),
            include_vars: Some(&layers[7]),
            set_facts: Some(&layers[8]),
            params: Some(&layers[9]),
            extra_vars: Some(&layers[10]),
        }
        .merge();
        assert_eq!(merged["x"].as_str(), Some("11"));
        for j in 1..=11 {
            assert_eq!(merged[&format!("upto_{j}")], Value::from(j), "upto_{j}");
        }
    }

    #[test]
    fn role_layers_keep_their_order() {
        let (a, b) = (vars(&[("r", "first")]), vars(&[("r", "second")]));
        let merged = Sources {
            role_defaults: vec![&a, &b],
            ..Default::default()
        }
        .merge();
        assert_eq!(merged["r"].as_str(), Some("second"));
    }
}
