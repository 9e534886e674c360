use super::common;

use common::{assert_err, render};

fn is(expr: &str) -> bool {
    match render(&format!("{{{{ {expr} }}}}")).as_str() {
        "True" => true,
        "False" => false,
        other => panic!("{expr} rendered {other:?}"),
    }
}

#[test]
fn defined_undefined_none() {
    assert!(is("missing is undefined"));
    assert!(is("missing is not defined"));
    assert!(is("d is defined"));
    assert!(is("d.nope is undefined"));
    assert!(is("none is none"));
    assert!(!is("0 is none"));
}

#[test]
fn type_tests() {
    assert!(is("'a' is string"));
    assert!(!is("1 is string"));
    assert!(is("1 is number"));
    assert!(is("1.5 is number"));
    assert!(is("true is number"));
    assert!(!is("'1' is number"));
    assert!(is("1 is integer"));
    assert!(!is("true is integer"));
    assert!(!is("1.0 is integer"));
    assert!(is("1.0 is float"));
    assert!(!is("1 is float"));
    assert!(is("true is boolean"));
    assert!(!is("1 is boolean"));
    assert!(is("{} is mapping"));
    assert!(!is("[] is mapping"));
}

#[test]
fn sequence_and_iterable() {
    assert!(is("[] is sequence"));
    assert!(is("'abc' is sequence"));
    assert!(is("{} is sequence"));
    assert!(!is("1 is sequence"));
    assert!(is("'abc' is iterable"));
    assert!(is("{} is iterable"));
    assert!(is("[1] is iterable"));
    assert!(!is("1 is iterable"));
    assert!(!is("none is iterable"));
}

#[test]
fn truthy_falsy() {
    assert!(is("'foo' is truthy"));
    assert!(is("'' is falsy"));
    assert!(is("[] is falsy"));
    assert!(is("'no' is truthy"));
    assert!(!is("'no' is truthy(convert_bool=true)"));
    assert!(is("'off' is falsy(convert_bool=true)"));
    assert!(is("'maybe' is truthy(convert_bool=true)"));
    assert_err(
        "{{ missing is truthy }}",
        "truthy: the input value is undefined",
    );
    assert_err(
        "{{ 1 is truthy(bogus=1) }}",
        "unknown keyword argument 'bogus'",
    );
}

#[test]
fn task_result_tests() {
    assert!(is("res_ok is succeeded"));
    assert!(is("res_ok is success"));
    assert!(is("res_ok is changed"));
    assert!(is("res_ok is change"));
    assert!(!is("res_ok is failed"));
    assert!(is("res_fail is failed"));
    assert!(is("res_fail is failure"));
    assert!(!is("res_fail is succeeded"));
    assert!(is("res_skip is skipped"));
    assert!(is("res_skip is skip"));
    assert!(is("res_skip is success"));
    assert!(!is("res_skip is changed"));
    assert!(is("res_loop is changed"));
    assert!(!is("{} is changed"));
    assert!(!is("{} is skipped"));
    assert!(is("{} is reachable"));
    assert!(is("{'unreachable': true} is unreachable"));
    assert!(is("res_fail is ansible.builtin.failed"));
    assert_err(
        "{{ 'x' is failed }}",
        "The 'failed' test expects a dictionary",
    );
    assert_err(
        "{{ 'x' is changed }}",
        "The 'changed' test expects a dictionary",
    );
    assert_err(
        "{{ 5 is skipped }}",
        "The 'skipped' test expects a dictionary",
    );
    assert_err(
        "{{ 5 is succeeded }}",
        "The 'succeeded' test expects a dictionary",
    );
    assert_err(
        "{{ 5 is reachable }}",
        "The 'reachable' test expects a dictionary",
    );
    assert_err(
        "{{ 5 is unreachable }}",
        "The 'unreachable' test expects a dictionary",
    );
}

#[test]
fn regex_tests() {
    assert!(is("'foobar' is match('foo')"));
    assert!(!is("'foobar' is match('bar')"));
    assert!(is("'foobar' is search('bar')"));
    assert!(is("'FOOBAR' is search('bar', ignorecase=true)"));
    assert!(is("'a\nbar' is match('^bar', multiline=true) == false"));
    assert!(is("'a\nbar' is search('^bar', multiline=true)"));
    assert!(is("'foobar' is regex('bar')"));
    assert!(is("'foobar' is regex('bar', match_type='search')"));
    assert!(!is("'foobar' is regex('bar', match_type='match')"));
    assert!(!is("'foobar' is regex('bar', match_type='fullmatch')"));
    assert!(is("'bar' is regex('bar|x', match_type='fullmatch')"));
    assert!(is("'foo' is ansible.builtin.match('f')"));
    assert_err(
        "{{ 'x' is match('(') }}",
        "match: invalid regular expression",
    );
    assert_err(
        "{{ 'x' is search('[') }}",
        "search: invalid regular expression",
    );
    assert_err(
        "{{ 'x' is regex('x', match_type='bad') }}",
        "invalid match_type 'bad'",
    );
}

#[test]
fn version_tests() {
    assert!(is("'1.10' is version('1.9', '>')"));
    assert!(is("'2.17.1' is version('2.17', '>')"));
    assert!(!is("'1.0' is version('1.0.0', '==')"));
    assert!(is("'1.0a' is version('1.0', '>')"));
    assert!(is("'1.0' is version('1.0b', 'lt')"));
    assert!(is("'2' is version('10', '<')"));
    assert!(is("'a' is version('b', '<')"));
    assert!(is("'1.0.0' is version('1', 'ge')"));
    assert!(is("'1.2' is version('1.2', 'eq')"));
    assert!(is("'1.2' is version('1.2')"));
    assert!(is("'1.2' is version('1.3', '!=')"));
    assert!(is("'1.2' is version('1.3', '<>')"));
    assert!(is("'1.2' is version('1.3', 'ne')"));
    assert!(is("'1.2' is version('1.2', '<=')"));
    assert!(is("'1.3' is version('1.2', '>=')"));
    assert!(is("'1.3' is version('1.2', 'gt')"));
    assert!(is("'1.2' is version('1.3', 'le')"));
    assert!(is("'1.2' is version('1.2', '=')"));
    assert!(is("'1.2.3' is version('1.2.4', '<', strict=true)"));
    assert!(is("'1.2' is version('1.2.0', '==', strict=true)"));
    assert!(is("'1.2a1' is version('1.2', '<', strict=true)"));
    assert!(!is(
        "'1.2.3' is version('1.2.3-beta', '<', version_type='semver')"
    ));
    assert!(is(
        "'1.2.3-alpha' is version('1.2.3-beta', '<', version_type='semver')"
    ));
    assert!(is(
        "'1.2.3-2' is version('1.2.3-10', '<', version_type='semantic')"
    ));
    assert!(is("'1.2.3' is version_compare('1.2.4', '<')"));
    assert!(is("'1.2.3' is ansible.builtin.version('1.2.4', 'lt')"));
    // a float literal is compared through str(): 2.10 is '2.1', as in Ansible
    assert!(!is("2.10 is version('2.9', '>')"));
}

#[test]
fn version_errors() {
    assert_err(
        "{{ '1.2.3' is version('1.2.3', 'foo') }}",
        "invalid operator type (foo)",
    );
    assert_err(
        "{{ '1.2.3' is version('1.2.x', '<') }}",
        "'<' not supported between instances of 'int' and 'str'",
    );
    assert_err(
        "{{ '1.2-3' is version('1.2', '>', strict=true) }}",
        "invalid version number '1.2-3'",
    );
    assert_err(
        "{{ '' is version('1.3', '<') }}",
        "input version value cannot be empty",
    );
    assert_err(
        "{{ '1' is version('', '<') }}",
        "version parameter to compare against cannot be empty",
    );
    assert_err(
        "{{ '1.2' is version('1.3', '<', version_type='semver') }}",
        "invalid semantic version '1.2'",
    );
    assert_err(
        "{{ '1.2' is version('1.3', '<', version_type='pep440') }}",
        "'pep440' is not supported",
    );
    assert_err(
        "{{ '1.2' is version('1.3', '<', version_type='odd') }}",
        "invalid version type (odd)",
    );
    assert_err(
        "{{ '1.2' is version('1.3', '<', strict=true, version_type='loose') }}",
        "cannot specify both",
    );
}

#[test]
fn containment() {
    assert!(is("'a' is in 'abc'"));
    assert!(is("2 is in [1, 2]"));
    assert!(is("[1, 2, 3] is contains 2"));
    assert!(!is("[1, 2, 3] is contains 5"));
    assert!(is("'abc' is contains 'b'"));
    assert!(is("{'k': 1} is contains 'k'"));
    assert!(is("[1, 2] is subset([1, 2, 3])"));
    assert!(!is("[1, 4] is subset([1, 2, 3])"));
    assert!(is("[1, 2, 3] is superset([1, 2])"));
    assert!(is("[1, 2] is issubset([1, 2])"));
    assert!(is("[1, 2] is issuperset([2])"));
    assert!(is("['a', 'b']|select('in', ['a'])|list == ['a']"));
    assert_err(
        "{{ missing is contains 1 }}",
        "contains: the input value is undefined",
    );
    assert_err("{{ [1] is subset(5) }}", "subset: expected a list");
    assert_err("{{ 5 is superset([1]) }}", "superset: expected a list");
}

#[test]
fn any_all_nan() {
    assert!(is("[0, 1] is any"));
    assert!(!is("[0, ''] is any"));
    assert!(is("[1, 'a'] is all"));
    assert!(!is("[1, 0] is all"));
    assert!(is("('nan'|float) is nan"));
    assert!(!is("1.0 is nan"));
    assert_err("{{ 5 is any }}", "any: expected a list");
    assert_err("{{ 5 is all }}", "all: expected a list");
}

#[test]
fn path_tests() {
    assert!(is("'/etc' is abs"));
    assert!(!is("'etc' is abs"));
    assert!(is("'/etc' is is_abs"));
    let dir = std::env::temp_dir().join(format!("drover-filters-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let file = dir.join("f.txt");
    std::fs::write(&file, "x").expect("write temp file");
    let link = dir.join("l");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&file, &link).expect("symlink");
    let dangling = dir.join("dangling");
    let _ = std::fs::remove_file(&dangling);
    std::os::unix::fs::symlink(dir.join("nope"), &dangling).expect("symlink");
    let (d, f, l, x) = (
        dir.display(),
        file.display(),
        link.display(),
        dangling.display(),
    );
    assert!(is(&format!("'{d}' is exists")));
    assert!(is(&format!("'{d}' is directory")));
    assert!(is(&format!("'{d}' is is_dir")));
    assert!(!is(&format!("'{f}' is directory")));
    assert!(is(&format!("'{f}' is file")));
    assert!(is(&format!("'{f}' is is_file")));
    assert!(!is(&format!("'{d}' is file")));
    assert!(is(&format!("'{l}' is link")));
    assert!(is(&format!("'{l}' is is_link")));
    assert!(!is(&format!("'{f}' is link")));
    assert!(is(&format!("'{l}' is file")));
    assert!(!is(&format!("'{x}' is exists")));
    assert!(is(&format!("'{x}' is link_exists")));
    assert!(!is(&format!("'{d}/missing' is exists")));
    assert!(is(&format!("'{d}' is ansible.builtin.directory")));
    let _ = std::fs::remove_dir_all(&dir);
    assert_err("{{ 5 is exists }}", "exists: expected a path string");
    assert_err(
        "{{ missing is file }}",
        "file: the input value is undefined",
    );
    assert_err("{{ [] is directory }}", "directory: expected a path string");
    assert_err("{{ 1 is link }}", "link: expected a path string");
    assert_err("{{ 1 is abs }}", "abs: expected a path string");
}

#[test]
fn comparison_tests() {
    assert!(is("1 is equalto 1"));
    assert!(is("1 is eq 1"));
    assert!(is("[1, 2]|select('==', 1)|list == [1]"));
    assert!(is("1 is ne 2"));
    assert!(is("1 is lt 2"));
    assert!(is("3 is gt 2"));
    assert!(is("2 is le 2"));
    assert!(is("2 is ge 2"));
    assert!(is("[1, 2, 3]|select('gt', 1)|list == [2, 3]"));
}

#[test]
fn number_tests() {
    assert!(is("4 is divisibleby 2"));
    assert!(!is("5 is divisibleby 2"));
    assert!(is("4 is even"));
    assert!(is("3 is odd"));
    assert!(is("none is sameas none"));
    assert!(!is("1 is sameas true"));
}

#[test]
fn case_tests() {
    assert!(is("'hello world' is lower"));
    assert!(!is("'Hello' is lower"));
    assert!(!is("'123' is lower"));
    assert!(is("'HELLO 1' is upper"));
    assert!(!is("'HELLo' is upper"));
    assert!(!is("'' is upper"));
}

#[test]
fn regex_tests_take_look_ahead_as_python() {
    assert!(is(
        "'qa_1 qz_1 qz_2' is search('(?=.*qa_1)(?=.*qz_1)(?=.*qz_2)')"
    ));
    assert!(!is("'qa_1 qz_2' is search('(?=.*qa_1)(?=.*qz_1)')"));
    assert!(is(r"'abab' is match('(ab)\\1')"));
}
