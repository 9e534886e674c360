//! `ansible_python`: the one fact only a Python process can tell (its exact version, its
//! `ssl`). Starting Python costs a host more than the rest of gathering together, and
//! drover needs no Python, so it is gathered only for a run whose content reads it (the
//! checks before the run look for it: `FactDemand`), with the interpreter Ansible would
//! use: `ansible_python_interpreter`, else `/usr/bin/python3`, else `python3` on PATH.
//! A host without one simply has no `ansible_python`.

use super::raw::Output;
use crate::connection::quote::quote;
use minijinja::Value;

/// What Ansible's PythonFactCollector reports, printed as one JSON line.
const PROBE: &str = r#"import sys, json
try:
    from ssl import create_default_context, SSLContext
    ssl = True
except ImportError:
    ssl = False
v = sys.version_info
print(json.dumps({"version": {"major": v[0], "minor": v[1], "micro": v[2], "releaselevel": v[3], "serial": v[4]}, "version_info": list(v), "executable": sys.executable, "has_sslcontext": ssl, "type": sys.implementation.name}))"#;

/// Does template text read the fact (`ansible_python`, `ansible_facts.python`,
/// `ansible_facts['python']`)? `ansible_python_interpreter` is another variable.
pub fn read_by(text: &str) -> bool {
    let word_end = |rest: &str| {
        !rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let direct = text
        .match_indices("ansible_python")
        .any(|(at, m)| word_end(&text[at + m.len()..]));
    let in_facts = text.match_indices("ansible_facts").any(|(at, m)| {
        let rest = text[at + m.len()..].trim_start();
        let rest = rest
            .strip_prefix('.')
            .or_else(|| {
                rest.strip_prefix('[')
                    .map(|r| r.trim_start().trim_start_matches(['\'', '"']))
            })
            .unwrap_or("");
        rest.strip_prefix("python").is_some_and(word_end)
    });
    direct || in_facts
}

/// The part of the gathering command that runs the probe (a section `@python`), with
/// `interpreter` if the inventory names one.
pub(super) fn script(interpreter: Option<&str>) -> String {
    let find = match interpreter {
        Some(path) => format!("_fpy={}", quote(path)),
        None => "_fpy=/usr/bin/python3; [ -x \"$_fpy\" ] || _fpy=$(command -v python3)".to_string(),
    };
    format!(
        "{find}\nif [ -n \"$_fpy\" ]; then printf '@python\\n'; \"$_fpy\" -c {} 2>/dev/null; printf '@\\n'; fi\n",
        quote(PROBE)
    )
}

/// The `python` fact from the probe's section, if it ran.
pub(super) fn fact(out: &Output) -> Option<Value> {
    let line = out.sections.get("python")?.first()?;
    let json: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(Value::from_serialize(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe, run by this machine's Python through the generated shell code, gives
    /// the keys Ansible's collector gives.
    #[test]
    fn probe_reports_what_ansible_reports() {
        let code = script(None);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&code)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let fact = fact(&Output::parse(&text)).expect("the machine running the tests has python3");
        for key in [
            "version",
            "version_info",
            "executable",
            "has_sslcontext",
            "type",
        ] {
            assert!(
                fact.get_attr(key).is_ok_and(|v| !v.is_undefined()),
                "{key}: {fact}"
            );
        }
        assert_eq!(fact.get_attr("type").unwrap().as_str(), Some("cpython"));
        let v = fact.get_attr("version").unwrap();
        assert_eq!(v.get_attr("major").unwrap().as_i64(), Some(3));
        assert_eq!(
            fact.get_attr("executable").unwrap().as_str(),
            Some("/usr/bin/python3")
        );
    }

    #[test]
    fn what_reads_the_fact() {
        for text in [
            "{{ ansible_python.executable }}",
            "ansible_python['version']",
            "{{ ansible_facts.python.type }}",
            "{{ ansible_facts[ 'python' ] }}",
            "ansible_facts[\"python\"]",
            "x ~ ansible_python",
        ] {
            assert!(read_by(text), "{text}");
        }
        for text in [
            "{{ ansible_python_interpreter }}",
            "{{ ansible_facts.python_version }}",
            "{{ ansible_facts.os_family }}",
            "python",
        ] {
            assert!(!read_by(text), "{text}");
        }
    }

    #[test]
    fn a_named_interpreter_is_used_as_written() {
        let code = script(Some("/opt/py 3/bin/python"));
        assert!(code.starts_with("_fpy='/opt/py 3/bin/python'\n"), "{code}");
        assert!(fact(&Output::parse("x=1\n")).is_none());
    }
}
