//! Declarative argument specs: checked up front (names, types, choices, required) and
//! read at run time through [`Args`](super::Args).

/// The type an argument must have; checked before the run, coerced as Ansible does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A string (a number or boolean is taken as its text).
    Str,
    /// A boolean as Ansible reads one (`yes`, `on`, `1` …).
    Bool,
    /// An integer.
    Int,
    /// A number.
    Float,
    /// A file mode: octal string, integer, symbolic (`u=rw,g=r`) or `preserve`.
    Mode,
    /// A list, or a comma-separated string.
    List,
    /// A mapping.
    Dict,
    /// Anything (free-form data such as `debug: msg`).
    Any,
}

impl ArgType {
    /// The type in words, for error messages ("a boolean").
    pub fn describe(self) -> &'static str {
        match self {
            ArgType::Str => "a string",
            ArgType::Bool => "a boolean",
            ArgType::Int => "an integer",
            ArgType::Float => "a number",
            ArgType::Mode => "a file mode like '0644' or 'u=rw,g=r'",
            ArgType::List => "a list",
            ArgType::Dict => "a mapping",
            ArgType::Any => "any value",
        }
    }
}

/// One argument a module accepts.
#[derive(Clone, Copy, Debug)]
pub struct ArgSpec {
    /// Its canonical name.
    pub name: &'static str,
    /// Its type.
    pub ty: ArgType,
    /// Must it be given?
    pub required: bool,
    /// Other names it may be given under.
    pub aliases: &'static [&'static str],
    /// The values it may take; empty for any.
    pub choices: &'static [&'static str],
}

pub const fn arg(name: &'static str, ty: ArgType) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: false,
        aliases: &[],
        choices: &[],
    }
}

impl ArgSpec {
    /// The same argument, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// The same argument, also accepted under `aliases`.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    /// The same argument, limited to `choices`.
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }
}

/// How a module reads a plain string given instead of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeForm {
    /// `copy: src=a dest=b` — only key=value pairs.
    KeyValue,
    /// `command: ls -l chdir=/tmp` — the text is `_raw_params`, key=value pairs for known
    /// arguments are taken out of it.
    RawParams,
}

/// What a module accepts: its name and its arguments, checked before the run.
#[derive(Debug)]
pub struct ModuleSpec {
    /// Its name (without `ansible.builtin.`).
    pub name: &'static str,
    /// Other accepted names besides `ansible.builtin.NAME` / `ansible.legacy.NAME`.
    pub aliases: &'static [&'static str],
    /// Its arguments.
    pub args: &'static [ArgSpec],
    /// How a plain string given instead of a mapping is read.
    pub free_form: FreeForm,
    /// Groups of which at least one argument is required.
    pub required_one_of: &'static [&'static [&'static str]],
    /// Groups of which at most one argument may be given.
    pub mutually_exclusive: &'static [&'static [&'static str]],
    /// Modules that run on the controller only and never touch the host.
    pub controller_only: bool,
    /// Arguments are free names (set_fact): only their names are checked.
    pub any_keys: bool,
    /// Checks whose failure Ansible words in the module's own terms (its action plugin
    /// checks those arguments before the module runs), with that message: a playbook may
    /// compare it. The other checks use AnsibleModule's words.
    pub messages: &'static [(Check, &'static str)],
}

/// An argument check of [`ModuleSpec`] (see `modules::args::validate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Only this required argument is missing.
    Missing(&'static str),
    /// No argument of a `required_one_of` group is given.
    NoneOf,
    /// Arguments of a `mutually_exclusive` group are given together.
    Exclusive,
    /// This argument is given and the module does not take it.
    Unsupported(&'static str),
}

impl ModuleSpec {
    /// The module's own message for a failed check, if it has one.
    pub fn message(&self, check: Check) -> Option<&'static str> {
        self.messages
            .iter()
            .find(|(c, _)| *c == check)
            .map(|(_, m)| *m)
    }

    /// The canonical name of an argument given under any of its names.
    pub fn canonical_arg(&self, name: &str) -> Option<&'static ArgSpec> {
        self.args
            .iter()
            .find(|a| a.name == name || a.aliases.contains(&name))
    }

    /// Every name an argument may be given under, aliases included.
    pub fn arg_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.args
            .iter()
            .flat_map(|a| std::iter::once(a.name).chain(a.aliases.iter().copied()))
    }
}
