//! `drover schema`: JSON Schemas for playbooks, task files and inventories, generated from
//! the same tables the loader checks against (so the editor and drover never disagree).

use crate::modules::{self, ArgType};
use crate::playbook::{BLOCK_KEYWORDS, PLAY_KEYWORDS, TASK_KEYWORDS};
use serde_json::{json, Map, Value as J};

fn arg_schema(t: ArgType, choices: &[&str]) -> J {
    let templated = json!({"type": "string", "pattern": "\\{\\{"});
    let base = match t {
        ArgType::Str => json!({"type": ["string", "number", "boolean"]}),
        ArgType::Bool => json!({"type": ["boolean", "string"]}),
        ArgType::Int => json!({"type": ["integer", "string"]}),
        ArgType::Float => json!({"type": ["number", "string"]}),
        ArgType::Mode => json!({"type": ["string", "integer"]}),
        ArgType::List => json!({"type": ["array", "string"]}),
        ArgType::Dict => json!({"anyOf": [{"type": "object"}, templated]}),
        ArgType::Any => json!({}),
    };
    if choices.is_empty() {
        base
    } else {
        json!({"anyOf": [{"enum": choices}, templated]})
    }
}

fn keyword_schema(k: &str) -> J {
    match k {
        "name" | "register" | "become_user" | "become_method" | "delegate_to" => {
            json!({"type": "string"})
        }
        "when" | "changed_when" | "failed_when" | "until" => {
            json!({"type": ["string", "boolean", "array"]})
        }
        "tags" | "notify" | "listen" => json!({"type": ["string", "array", "integer"]}),
        "become" | "check_mode" | "diff" | "no_log" | "run_once" | "any_errors_fatal"
        | "gather_facts" | "force_handlers" => json!({"type": ["boolean", "string"]}),
        "vars" | "environment" | "args" | "loop_control" => json!({"type": ["object", "string"]}),
        "module_defaults" => json!({"type": ["object", "array"]}),
        "collections" => json!({"type": ["array", "string"]}),
        "throttle" => json!({"type": ["integer", "string"]}),
        "block" | "rescue" | "always" | "pre_tasks" | "tasks" | "post_tasks" | "handlers" => {
            json!({"$ref": "#/$defs/task_list"})
        }
        _ => json!({}),
    }
}

/// The schema for one kind of file: `playbook`, `tasks` or `inventory`.
pub fn schema(kind: &str) -> Option<J> {
    let mut module_props = Map::new();
    for m in modules::registry() {
        let spec = m.spec();
        let mut args = Map::new();
        for a in spec.args {
            for name in std::iter::once(a.name).chain(a.aliases.iter().copied()) {
                args.insert(name.to_string(), arg_schema(a.ty, a.choices));
            }
        }
        let args_schema = if spec.any_keys {
            json!({"type": "object"})
        } else {
            json!({"anyOf": [{"type": "object", "properties": args, "additionalProperties": false}, {"type": "string"}, {"type": "null"}]})
        };
        module_props.insert(spec.name.to_string(), args_schema.clone());
        module_props.insert(format!("ansible.builtin.{}", spec.name), args_schema);
    }
    for engine in [
        "include_tasks",
        "import_tasks",
        "include_role",
        "import_role",
    ] {
        module_props.insert(engine.to_string(), json!({"type": ["string", "object"]}));
        module_props.insert(
            format!("ansible.builtin.{engine}"),
            json!({"type": ["string", "object"]}),
        );
    }
    let mut task_props = module_props;
    for k in TASK_KEYWORDS {
        task_props.insert(k.to_string(), keyword_schema(k));
    }
    let block_props: Map<String, J> = BLOCK_KEYWORDS
        .iter()
        .map(|k| (k.to_string(), keyword_schema(k)))
        .collect();
    let play_props: Map<String, J> = PLAY_KEYWORDS
        .iter()
        .map(|k| (k.to_string(), keyword_schema(k)))
        .collect();
    let defs = json!({
        "task": {"type": "object", "properties": task_props, "additionalProperties": false, "minProperties": 1},
        "block": {"type": "object", "properties": block_props, "required": ["block"], "additionalProperties": false},
        "task_list": {"type": ["array", "null"], "items": {"anyOf": [{"$ref": "#/$defs/block"}, {"$ref": "#/$defs/task"}]}},
        "play": {"type": "object", "properties": play_props, "required": ["hosts"], "additionalProperties": false},
        "import_playbook": {"type": "object", "properties": {"import_playbook": {"type": "string"}, "name": {"type": "string"}}, "required": ["import_playbook"], "additionalProperties": false},
        "group": {
            "type": ["object", "null"],
            "properties": {
                "hosts": {"type": ["object", "null"], "additionalProperties": {"type": ["object", "null"]}},
                "vars": {"type": ["object", "null"]},
                "children": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/group"}}
            },
            "additionalProperties": false
        }
    });
    let (title, root) = match kind {
        "playbook" => (
            "drover playbook",
            json!({"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/import_playbook"}, {"$ref": "#/$defs/play"}]}}),
        ),
        "tasks" => ("drover task file", json!({"$ref": "#/$defs/task_list"})),
        "inventory" => (
            "drover YAML inventory",
            json!({"type": "object", "additionalProperties": {"$ref": "#/$defs/group"}}),
        ),
        _ => return None,
    };
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    out.insert("title".into(), json!(title));
    if let J::Object(r) = root {
        out.extend(r);
    }
    out.insert("$defs".into(), defs);
    Some(J::Object(out))
}
