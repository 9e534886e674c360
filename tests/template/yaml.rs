use super::common;

use common::{assert_err, render};
use minijinja::value::Value;

fn parse_json(yaml: &str) -> String {
    let env = common::env();
    let ctx = minijinja::context! { y => Value::from(yaml) };
    env.render_str("{{ y|from_yaml|to_json }}", ctx)
        .unwrap_or_else(|e| panic!("from_yaml of {yaml:?} failed: {e:#}"))
}

fn parse_err(yaml: &str) -> String {
    let env = common::env();
    let ctx = minijinja::context! { y => Value::from(yaml) };
    match env.render_str("{{ y|from_yaml }}", ctx) {
        Ok(s) => panic!("from_yaml of {yaml:?} unexpectedly gave {s:?}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn from_yaml_scalars_follow_yaml_1_1() {
    let doc = "a: yes\nb: Off\nc: ~\nd: null\ne: 0x1F\nf: 0o17\ng: 010\nh: 1_000\ni: 1.5\nj: .inf\nk: -.5\nl: '1'\nm: \"x\\ty\"\nn: 2024-01-01\no: 1:30\np:\nq: y\n";
    assert_eq!(
        parse_json(doc),
        r#"{"a": true, "b": false, "c": null, "d": null, "e": 31, "f": "0o17", "g": 8, "h": 1000, "i": 1.5, "j": Infinity, "k": "-.5", "l": "1", "m": "x\ty", "n": "2024-01-01", "o": 90, "p": null, "q": "y"}"#
    );
}

#[test]
fn from_yaml_block_structures() {
    let doc = "# comment\n---\nusers:\n- name: bob   # trailing comment\n  groups: [wheel, 'adm']\n- name: al\n  groups:\n    - users\nopts:\n  nested:\n    deep: {a: 1, b: [x, y]}\n  empty_list: []\nlist_of_lists:\n- - 1\n  - 2\n- - 3\n";
    assert_eq!(
        parse_json(doc),
        r#"{"users": [{"name": "bob", "groups": ["wheel", "adm"]}, {"name": "al", "groups": ["users"]}], "opts": {"nested": {"deep": {"a": 1, "b": ["x", "y"]}}, "empty_list": []}, "list_of_lists": [[1, 2], [3]]}"#
    );
}

#[test]
fn from_yaml_block_scalars() {
    assert_eq!(
        parse_json("a: |\n  line1\n  line2\nb: x\n"),
        r#"{"a": "line1\nline2\n", "b": "x"}"#
    );
    assert_eq!(
        parse_json("a: |-\n  keep\n   indented\n"),
        r#"{"a": "keep\n indented"}"#
    );
    assert_eq!(
        parse_json("a: >\n  folded\n  text\n\n  para\n"),
        r#"{"a": "folded text\npara\n"}"#
    );
    assert_eq!(parse_json("a: |+\n  x\n\n"), r#"{"a": "x\n\n"}"#);
    assert_eq!(parse_json("- |\n  in list\n- z\n"), r#"["in list\n", "z"]"#);
}

#[test]
fn from_yaml_multiline_flow_and_quotes() {
    assert_eq!(
        parse_json("a: [1,\n  2, 3]\nb: 'it''s'\n"),
        r#"{"a": [1, 2, 3], "b": "it's"}"#
    );
    assert_eq!(
        parse_json("a: \"multi\n  line\"\n"),
        r#"{"a": "multi line"}"#
    );
    assert_eq!(
        parse_json("a: plain\n  continued\n"),
        r#"{"a": "plain continued"}"#
    );
    assert_eq!(
        parse_json("url: http://x/y#frag\n"),
        r#"{"url": "http://x/y#frag"}"#
    );
    assert_eq!(
        parse_json("'quoted key': 1\n\"k2\": 2\n"),
        r#"{"quoted key": 1, "k2": 2}"#
    );
    assert_eq!(
        parse_json("? complex\n: value\n"),
        r#"{"complex": "value"}"#
    );
    assert_eq!(parse_json("{? a : 1}"), r#"{"a": 1}"#);
    assert_eq!(parse_json(""), "null");
    assert_eq!(parse_json("# only a comment\n"), "null");
}

#[test]
fn from_yaml_anchors_aliases_and_core_tags() {
    // What ansible-core 2.19's from_yaml|to_json gives for the same document.
    let doc = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\nl: &l [a, b]\nm: *l\nc: !!str 5\nf: !!float 1\ni: !!int \"0x10\"\nn: !!null \"\"\nbo: !!bool yes\nv: !<tag:yaml.org,2002:str> 7\n";
    assert_eq!(
        parse_json(doc),
        r#"{"base": {"x": 1, "y": 2}, "d": {"x": 1, "y": 3}, "l": ["a", "b"], "m": ["a", "b"], "c": "5", "f": 1.0, "i": 16, "n": null, "bo": true, "v": "7"}"#
    );
    // A repeated key keeps its last value (Ansible warns "Using last defined value only").
    assert_eq!(parse_json("a: 1\na: 2\nb: 3\n"), r#"{"a": 2, "b": 3}"#);
    // Integers beyond 64 bits, base-60 floats; `-.5` is a string to PyYAML.
    assert_eq!(
        parse_json("[99999999999999999999999, 1:30.5, -.5, +.5]"),
        r#"[99999999999999999999999, 90.5, "-.5", "+.5"]"#
    );
    assert_eq!(parse_json("%YAML 1.1\n---\na: 1\n"), r#"{"a": 1}"#);
}

#[test]
fn from_yaml_errors() {
    // Ansible: "could not determine a constructor for the tag '!custom'"; its from_yaml
    // does not know the playbook tags either.
    for tag in ["!custom", "!unsafe", "!vault"] {
        let err = parse_err(&format!("x: {tag} 1\n"));
        assert!(
            err.contains(&format!("from_yaml: unsupported YAML tag '{tag}'")),
            "{err}"
        );
    }
    assert!(parse_err("x: !!int nope\n").contains("not an integer"));
    assert!(parse_err("a: 1\n   b: 2\n").contains("from_yaml: YAML syntax error"));
    assert!(parse_err("a: \"unterminated\n").contains("from_yaml: YAML syntax error"));
    assert!(parse_err("a: \"bad \\q escape\"\n").contains("from_yaml: YAML syntax error"));
    assert!(parse_err("a: *x\n").contains("unknown anchor"));
    assert!(parse_err(&"[".repeat(100_000)).contains("nesting deeper than"));
    let deep: String = (0..1000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    assert!(parse_err(&deep).contains("nesting deeper than"));
}

#[test]
fn from_yaml_all_documents() {
    assert_eq!(
        render("{{ '---\\na: 1\\n...\\n---\\n- x\\n'|from_yaml_all|to_json }}"),
        r#"[{"a": 1}, ["x"]]"#
    );
    // An undefined input is an undefined error before the filter runs (drover then
    // names the variable, see template::template_error).
    assert_err("{{ missing|from_yaml_all }}", "undefined value");
}

#[test]
fn yaml_round_trips() {
    let doc =
        "env:\n  DEBUG: 'no'\n  EMPTY: ''\n  MULTI: 'a\n\n    b'\nname: web\nports:\n- 80\n- 443\n";
    let env = common::env();
    let ctx = minijinja::context! { y => Value::from(doc) };
    assert_eq!(
        env.render_str("{{ y|from_yaml|to_nice_yaml(indent=2) }}", ctx)
            .expect("render"),
        doc
    );
}

#[test]
fn to_yaml_quoting_and_folding() {
    assert_eq!(render("{{ ['on', 'Off', '~', '1.5', '1e3', '0o17', '1_000', '12:30', '2024-01-01', '<<', '='] |to_yaml }}"),
        "['on', 'Off', '~', '1.5', 1e3, 0o17, '1_000', '12:30', '2024-01-01', '<<', '=']\n");
    assert_eq!(
        render("{{ {'tab': 'a\tb', 'uni': 'ü日', 'emoji': '😀', 'nul': '\\x00'}|to_nice_yaml }}"),
        "emoji: \"\\U0001F600\"\nnul: \"\\0\"\ntab: \"a\\tb\"\nuni: ü日\n"
    );
    let long = "word ".repeat(30);
    let env = common::env();
    let out = env
        .render_str(
            "{{ {'long': v.strip()}|to_nice_yaml }}",
            minijinja::context! { v => long },
        )
        .expect("render");
    assert_eq!(
        out,
        "long: word word word word word word word word word word word word word word word word\n    word word word word word word word word word word word word word word\n"
    );
    assert_eq!(
        render("{{ [1.0, 1e20, 1e-7, -0.0, ('nan'|float), ('inf'|float)]|to_yaml }}"),
        "[1.0, 1.0e+20, 1.0e-07, -0.0, .nan, .inf]\n"
    );
    assert_eq!(render("{{ {1: 'a', 'b': 2}|to_yaml }}"), "{1: a, b: 2}\n");
}
