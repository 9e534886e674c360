use super::common;

use common::{assert_err, render, render_err};

// --- default / bool / int / float / string -------------------------------

#[test]
fn default_on_undefined_under_strict() {
    assert_eq!(render("{{ missing|default('dflt') }}"), "dflt");
    assert_eq!(render("{{ missing|d('x') }}"), "x");
    assert_eq!(render("{{ d.nope|default(5) }}"), "5");
    assert_eq!(render("{{ ''|default('dflt') }}"), "");
    assert_eq!(render("{{ ''|default('dflt', true) }}"), "dflt");
    assert_eq!(render("{{ 0|default('zero', true) }}"), "zero");
    assert_eq!(render("{{ 'set'|default('dflt', true) }}"), "set");
    assert_eq!(
        render("{{ missing|ansible.builtin.default('x') if false else 'ok' }}"),
        "ok"
    );
}

#[test]
fn undefined_without_default_fails() {
    render_err("{{ missing }}");
    render_err("{{ missing|upper }}");
}

#[test]
fn bool_filter() {
    for t in [
        "'yes'", "'On'", "'1'", "'TRUE'", "'y'", "'t'", "1", "1.0", "true",
    ] {
        assert_eq!(render(&format!("{{{{ {t}|bool }}}}")), "True", "{t}");
    }
    for f in [
        "'no'", "'off'", "'0'", "'False'", "'n'", "'f'", "''", "0", "2", "none", "false",
    ] {
        assert_eq!(render(&format!("{{{{ {f}|bool }}}}")), "False", "{f}");
    }
    assert_eq!(render("{{ 'yes'|ansible.builtin.bool }}"), "True");
    // Anything else is false, as ansible-core 2.19 computes it (tests/template_diff).
    assert_eq!(render("{{ 'maybe'|bool }}"), "False");
    assert_eq!(render("{{ [1]|bool }}"), "False");
    render_err("{{ missing|bool }}");
}

#[test]
fn int_filter() {
    assert_eq!(render("{{ '0644'|int }}"), "644");
    assert_eq!(render("{{ '0x1F'|int(base=16) }}"), "31");
    assert_eq!(render("{{ '1F'|int(base=16) }}"), "31");
    assert_eq!(render("{{ '0o17'|int(base=0) }}"), "15");
    assert_eq!(render("{{ ' 42 '|int }}"), "42");
    assert_eq!(render("{{ '1_000'|int }}"), "1000");
    assert_eq!(render("{{ '3.7'|int }}"), "3");
    assert_eq!(render("{{ '-3.7'|int }}"), "-3");
    assert_eq!(render("{{ 3.9|int }}"), "3");
    assert_eq!(render("{{ true|int }}"), "1");
    assert_eq!(render("{{ 'abc'|int }}"), "0");
    assert_eq!(render("{{ 'abc'|int(7) }}"), "7");
    assert_eq!(render("{{ 'abc'|int(default=9) }}"), "9");
    assert_eq!(render("{{ none|int }}"), "0");
    assert_eq!(render("{{ ('5'|int) + 1 }}"), "6");
    assert_err("{{ '5'|int(base=99) }}", "base must be");
    render_err("{{ missing|int }}");
}

#[test]
fn float_filter() {
    assert_eq!(render("{{ '1.5'|float }}"), "1.5");
    assert_eq!(render("{{ 2|float }}"), "2.0");
    assert_eq!(render("{{ '1e3'|float }}"), "1000.0");
    assert_eq!(render("{{ 'x'|float }}"), "0.0");
    assert_eq!(render("{{ 'x'|float(1.25) }}"), "1.25");
    render_err("{{ missing|float }}");
}

#[test]
fn string_filter() {
    assert_eq!(render("{{ 42|string }}"), "42");
    assert_eq!(render("{{ true|string }}"), "True");
    assert_eq!(render("{{ none|string }}"), "None");
    assert_eq!(render("{{ [1, 'a']|string }}"), "[1, 'a']");
    assert_eq!(render("{{ (42|string) ~ 'x' }}"), "42x");
    render_err("{{ missing|string }}");
}

#[test]
fn type_debug() {
    assert_eq!(render("{{ 'abc'|type_debug }}"), "str");
    assert_eq!(render("{{ 1|type_debug }}"), "int");
    assert_eq!(render("{{ 1.5|type_debug }}"), "float");
    assert_eq!(render("{{ true|type_debug }}"), "bool");
    assert_eq!(render("{{ {}|type_debug }}"), "dict");
    assert_eq!(render("{{ []|type_debug }}"), "list");
    assert_eq!(render("{{ none|type_debug }}"), "NoneType");
    render_err("{{ missing|type_debug }}");
}

// --- strings ----------------------------------------------------------------

#[test]
fn case_filters() {
    assert_eq!(render("{{ 'Hello'|lower }}"), "hello");
    assert_eq!(render("{{ 'Hello'|upper }}"), "HELLO");
    assert_eq!(render("{{ 'hELLO wORLD'|capitalize }}"), "Hello world");
    assert_eq!(
        render("{{ 'hello world-wide foo.bar'|title }}"),
        "Hello World-Wide Foo.bar"
    );
    assert_eq!(render("{{ \"it's\"|title }}"), "It's");
    render_err("{{ missing|title }}");
}

#[test]
fn trim_and_replace() {
    assert_eq!(render("{{ '  x  '|trim }}"), "x");
    assert_eq!(render("{{ 'xxaxx'|trim('x') }}"), "a");
    assert_eq!(render("{{ 'aaa'|replace('a', 'b') }}"), "bbb");
    assert_eq!(render("{{ 'aaa'|replace('a', 'b', 2) }}"), "bba");
    assert_eq!(render("{{ 'abc'|replace('', '-') }}"), "-a-b-c-");
    assert_err(
        "{{ 'a'|replace([1], 'b') }}",
        "argument 'old' must be a string",
    );
}

#[test]
fn split_and_join() {
    assert_eq!(render("{{ 'a b  c'|split|to_json }}"), r#"["a", "b", "c"]"#);
    assert_eq!(
        render("{{ 'a,b,,c'|split(',')|to_json }}"),
        r#"["a", "b", "", "c"]"#
    );
    assert_eq!(
        render("{{ 'a,b,c'|split(',', 1)|to_json }}"),
        r#"["a", "b,c"]"#
    );
    assert_eq!(render("{{ 'a.b'|ansible.builtin.split('.')|last }}"), "b");
    assert_eq!(render("{{ ['a', 'b']|join(',') }}"), "a,b");
    assert_eq!(render("{{ [1, true, none]|join }}"), "1TrueNone");
    assert_eq!(
        render("{{ users|join(', ', attribute='name') }}"),
        "bob, al"
    );
    assert_err("{{ 5|join(',') }}", "join: expected a list");
}

#[test]
fn quote_filter() {
    assert_eq!(render("{{ \"it's\"|quote }}"), r#"'it'"'"'s'"#);
    assert_eq!(render("{{ ''|quote }}"), "''");
    assert_eq!(render("{{ none|quote }}"), "''");
    assert_eq!(
        render("{{ 'a-b/c.d@e%f+g=h:i,j_k'|quote }}"),
        "a-b/c.d@e%f+g=h:i,j_k"
    );
    assert_eq!(render("{{ 'a b'|quote }}"), "'a b'");
    assert_eq!(render("{{ '$HOME'|quote }}"), "'$HOME'");
    render_err("{{ missing|quote }}");
}

#[test]
fn base64_filters() {
    assert_eq!(render("{{ 'abc'|b64encode }}"), "YWJj");
    assert_eq!(render("{{ 'YWJj'|b64decode }}"), "abc");
    assert_eq!(render("{{ 'YW Jj\n'|b64decode }}"), "abc");
    assert_eq!(render("{{ 'é'|b64encode|b64decode }}"), "é");
    assert_eq!(
        render("{{ 'ab'|b64encode(encoding='utf-16-le') }}"),
        "YQBiAA=="
    );
    assert_eq!(
        render("{{ 'YQBiAA=='|b64decode(encoding='utf-16-le') }}"),
        "ab"
    );
    assert_err(
        "{{ 'YWJ'|b64decode }}",
        "b64decode: input is not valid base64",
    );
    assert_err(
        "{{ 'a'|b64encode(encoding='latin9') }}",
        "unsupported encoding",
    );
}

#[test]
fn urlencode_and_urldecode() {
    assert_eq!(render("{{ 'a b&c'|urlencode }}"), "a%20b%26c");
    assert_eq!(render("{{ 'a%20b+c'|urldecode }}"), "a b c");
    assert_eq!(render("{{ '100%'|urldecode }}"), "100%");
    render_err("{{ missing|urldecode }}");
}

// --- regular expressions ------------------------------------------------------

#[test]
fn regex_replace_python_backrefs() {
    assert_eq!(
        render(r"{{ 'foo bar'|regex_replace('(o+) (b)', '\\2\\1') }}"),
        "fbooar"
    );
    assert_eq!(
        render(r"{{ 'foo bar'|regex_replace('(?P<x>o+)', '<\\g<x>>') }}"),
        "f<oo> bar"
    );
    assert_eq!(
        render(r"{{ 'foo bar'|regex_replace('(o+)', '\\g<1>0') }}"),
        "foo0 bar"
    );
    assert_eq!(render("{{ 'a$b'|regex_replace('b', '$1') }}"), "a$$1");
    assert_eq!(
        render("{{ 'Foo'|regex_replace('foo', 'x', ignorecase=true) }}"),
        "x"
    );
    assert_eq!(
        render("{{ 'a\nb'|regex_replace('^b', 'c', multiline=true) }}"),
        "a\nc"
    );
    assert_eq!(
        render("{{ 'aaa'|regex_replace('a', 'b', count=2) }}"),
        "bba"
    );
    assert_eq!(render("{{ 'abc'|regex_replace('x*', '-') }}"), "-a-b-c-");
    assert_eq!(render(r"{{ 'ab'|regex_replace('(x)?b', '[\\1]') }}"), "a[]");
    assert_eq!(render("{{ 'ab'|regex_replace('b') }}"), "a");
    assert_eq!(render(r"{{ 'path'|regex_replace('\\Z', '/') }}"), "path/");
}

#[test]
fn regex_look_around_and_backreferences_as_python() {
    // Python: re.sub('(?=x)', 'y', 'x') == 'yx'
    assert_eq!(render("{{ 'x'|regex_replace('(?=x)', 'y') }}"), "yx");
    assert_eq!(
        render(r"{{ 'foobar foobaz'|regex_search('foo(?!bar)\\w+') }}"),
        "foobaz"
    );
    assert_eq!(
        render(r"{{ 'abab cdcd'|regex_findall('(\\w\\w)\\1')|to_json }}"),
        r#"["ab", "cd"]"#
    );
    assert_eq!(render(r"{{ 'x1'|regex_replace('\\d\\Z', 'N') }}"), "xN");
    assert_err(
        "{{ 'x'|regex_replace('*', 'y') }}",
        "nothing to repeat at position 0",
    );
}

#[test]
fn regex_replace_errors() {
    assert_err(
        "{{ 'x'|regex_replace('(', 'y') }}",
        "regex_replace: invalid regular expression \"(\"",
    );
    assert_err(
        r"{{ 'x'|regex_replace('(x)', '\\2') }}",
        "invalid group reference 2",
    );
    assert_err(r"{{ 'x'|regex_replace('x', '\\q') }}", "bad escape \\q");
    assert_err(
        "{{ 'aa'|regex_replace('a', 'b', mandatory_count=1) }}",
        "should match 1 times, but matches 2 times",
    );
    assert_err(
        "{{ 'a'|regex_replace('a', 'b', bogus=1) }}",
        "unknown keyword argument 'bogus'",
    );
}

#[test]
fn regex_search() {
    assert_eq!(render("{{ 'foo bar'|regex_search('o+') }}"), "oo");
    assert_eq!(render("{{ 'foo bar'|regex_search('zz') is none }}"), "True");
    assert_eq!(
        render(r"{{ 'foo bar'|regex_search('(o+) (b)', '\\2', '\\1')|to_json }}"),
        r#"["b", "oo"]"#
    );
    assert_eq!(
        render(r"{{ 'foo bar'|regex_search('(?P<x>o+) (b)', '\\g<x>')|to_json }}"),
        r#"["oo"]"#
    );
    assert_eq!(
        render("{{ 'FOO'|regex_search('foo', ignorecase=true) }}"),
        "FOO"
    );
    assert_err(
        "{{ 'x'|regex_search('(') }}",
        "regex_search: invalid regular expression",
    );
    assert_err(
        "{{ 'x'|regex_search('x', 'bad') }}",
        "unknown argument 'bad'",
    );
    assert_err(r"{{ 'x'|regex_search('x', '\\3') }}", "no such group 3");
}

#[test]
fn regex_findall() {
    assert_eq!(
        render(r"{{ 'a1b22'|regex_findall('\\d+')|to_json }}"),
        r#"["1", "22"]"#
    );
    assert_eq!(
        render(r"{{ 'a1b22'|regex_findall('[a-z](\\d)')|to_json }}"),
        r#"["1", "2"]"#
    );
    assert_eq!(
        render(r"{{ 'a1b22'|regex_findall('(\\w)(\\d)')|to_json }}"),
        r#"[["a", "1"], ["b", "2"]]"#
    );
    assert_eq!(
        render("{{ 'A a'|regex_findall('a', ignorecase=true)|length }}"),
        "2"
    );
    assert_err(
        "{{ 'x'|regex_findall('[') }}",
        "regex_findall: invalid regular expression",
    );
}

#[test]
fn regex_escape() {
    assert_eq!(render("{{ 'a.b*c'|regex_escape }}"), r"a\.b\*c");
    assert_eq!(render("{{ '1+1=2 ok'|regex_escape }}"), r"1\+1=2\ ok");
    assert_eq!(
        render("{{ 'a.b[c]'|regex_escape('posix_basic') }}"),
        r"a\.b\[c\]"
    );
    assert_err(
        "{{ 'x'|regex_escape('posix_extended') }}",
        "not implemented",
    );
    assert_err("{{ 'x'|regex_escape('perl') }}", "invalid re_type 'perl'");
}

// --- lists ----------------------------------------------------------------------

#[test]
fn map_select_reject() {
    assert_eq!(
        render("{{ users|map(attribute='name')|join(',') }}"),
        "bob,al"
    );
    assert_eq!(
        render("{{ ['a', 'B']|map('upper')|list|to_json }}"),
        r#"["A", "B"]"#
    );
    assert_eq!(
        render("{{ users|map(attribute='admin', default=false)|list|to_json }}"),
        "[true, false]"
    );
    assert_eq!(
        render("{{ [1, 2, 3, 4]|select('odd')|list|to_json }}"),
        "[1, 3]"
    );
    assert_eq!(
        render("{{ [1, 2, 3, 4]|reject('odd')|list|to_json }}"),
        "[2, 4]"
    );
    assert_eq!(
        render("{{ ['ab', 'cd']|select('match', 'a')|list|to_json }}"),
        r#"["ab"]"#
    );
    assert_eq!(
        render("{{ users|selectattr('admin', 'defined')|map(attribute='name')|join }}"),
        "bob"
    );
    assert_eq!(
        render("{{ users|rejectattr('admin', 'defined')|map(attribute='name')|join }}"),
        "al"
    );
    assert_eq!(
        render("{{ users|selectattr('age', 'gt', 25)|map(attribute='name')|join }}"),
        "bob"
    );
    assert_eq!(
        render("{{ users|selectattr('name', 'equalto', 'al')|list|length }}"),
        "1"
    );
    render_err("{{ [1]|map('no_such_filter')|list }}");
}

#[test]
fn unique_and_set_operations() {
    assert_eq!(
        render("{{ [1, 2, 2, 'a', 'A']|unique|to_json }}"),
        r#"[1, 2, "a"]"#
    );
    assert_eq!(
        render("{{ ['a', 'A']|unique(case_sensitive=true)|to_json }}"),
        r#"["a", "A"]"#
    );
    assert_eq!(
        render("{{ [{'a': 1}, {'a': 1}]|unique|to_json }}"),
        r#"[{"a": 1}]"#
    );
    assert_eq!(render("{{ users|unique(attribute='age')|length }}"), "2");
    assert_eq!(
        render("{{ [1, 2, 2, 3]|union([3, 4, 4])|to_json }}"),
        "[1, 2, 3, 4]"
    );
    assert_eq!(
        render("{{ [1, 2, 2, 3]|intersect([3, 2, 4])|to_json }}"),
        "[2, 3]"
    );
    assert_eq!(
        render("{{ [1, 2, 2, 3]|difference([3, 4])|to_json }}"),
        "[1, 2]"
    );
    assert_eq!(
        render("{{ [1, 2, 2, 3]|symmetric_difference([3, 4, 4])|to_json }}"),
        "[1, 2, 4]"
    );
    assert_eq!(
        render("{{ [1]|ansible.builtin.union([2])|to_json }}"),
        "[1, 2]"
    );
    assert_err("{{ 5|unique }}", "unique: expected a list");
    assert_err(
        "{{ [1]|union(missing) }}",
        "union: the input value is undefined",
    );
    assert_err("{{ [1]|intersect(5) }}", "intersect: expected a list");
    assert_err(
        "{{ none|difference([1]) }}",
        "difference: expected a list, got none",
    );
    assert_err(
        "{{ [1]|symmetric_difference(3) }}",
        "symmetric_difference: expected a list",
    );
}

#[test]
fn sort_first_last() {
    assert_eq!(
        render("{{ ['b', 'A', 'c']|sort|to_json }}"),
        r#"["A", "b", "c"]"#
    );
    assert_eq!(
        render("{{ [3, 1, 2]|sort(reverse=true)|to_json }}"),
        "[3, 2, 1]"
    );
    assert_eq!(
        render("{{ users|sort(attribute='age')|map(attribute='name')|join(',') }}"),
        "al,bob"
    );
    assert_eq!(render("{{ [3, 1]|first }}"), "3");
    assert_eq!(render("{{ 'abc'|first }}"), "a");
    assert_eq!(render("{{ [3, 1]|last }}"), "1");
    render_err("{{ 5|first }}");
}

#[test]
fn min_max() {
    assert_eq!(render("{{ [3, 1, 2]|min }}"), "1");
    assert_eq!(render("{{ [3, 1, 2]|max }}"), "3");
    assert_eq!(render("{{ (users|max(attribute='age')).name }}"), "bob");
    assert_eq!(render("{{ (users|min(attribute='age')).name }}"), "al");
    assert_eq!(render("{{ ['a', 'B']|max }}"), "B");
    assert_eq!(render("{{ ['a', 'B']|max(case_sensitive=true) }}"), "a");
    assert_eq!(render("{{ []|max is undefined }}"), "True");
    assert_err("{{ 5|min }}", "min: expected a list");
}

#[test]
fn length_count_sum() {
    assert_eq!(render("{{ [1, 2]|length }}"), "2");
    assert_eq!(render("{{ 'abc'|count }}"), "3");
    assert_eq!(render("{{ {'a': 1}|length }}"), "1");
    assert_eq!(render("{{ [1.5, 2]|sum }}"), "3.5");
    assert_eq!(render("{{ [1, 2]|sum(start=10) }}"), "13");
    assert_eq!(render("{{ users|sum(attribute='age') }}"), "50");
    assert_eq!(
        render("{{ [[1], [2, 3]]|sum(start=[])|to_json }}"),
        "[1, 2, 3]"
    );
    assert_err("{{ ['a']|sum }}", "sum: cannot add number and string");
    render_err("{{ 5|length }}");
}

#[test]
fn flatten() {
    assert_eq!(
        render("{{ [[1, [2]], [3, [4, [5]]]]|flatten|to_json }}"),
        "[1, 2, 3, 4, 5]"
    );
    assert_eq!(
        render("{{ [[1, [2]], [3, [4, [5]]]]|flatten(levels=1)|to_json }}"),
        "[1, [2], 3, [4, [5]]]"
    );
    assert_eq!(
        render("{{ [1, none, [none], 'null']|flatten|to_json }}"),
        "[1]"
    );
    assert_eq!(
        render("{{ [1, none]|flatten(skip_nulls=false)|to_json }}"),
        "[1, null]"
    );
    assert_eq!(
        render("{{ ['ab', ['cd']]|flatten|to_json }}"),
        r#"["ab", "cd"]"#
    );
    assert_err("{{ 5|flatten }}", "flatten: expected a list");
}

#[test]
fn zip_and_zip_longest() {
    assert_eq!(
        render("{{ [1, 2]|zip(['a', 'b', 'c'])|to_json }}"),
        r#"[[1, "a"], [2, "b"]]"#
    );
    assert_eq!(render("{{ ([1, 2]|zip(['a', 'b']))[1][1] }}"), "b");
    assert_eq!(
        render("{{ dict(['a', 'b']|zip([1, 2]))|to_json }}"),
        r#"{"a": 1, "b": 2}"#
    );
    assert_eq!(
        render("{{ [1, 2]|zip_longest(['a', 'b', 'c'], fillvalue='x')|to_json }}"),
        r#"[[1, "a"], [2, "b"], ["x", "c"]]"#
    );
    assert_eq!(
        render("{{ [1]|zip_longest(['a', 'b'])|to_json }}"),
        r#"[[1, "a"], [null, "b"]]"#
    );
    assert_err("{{ [1]|zip(5) }}", "zip: expected a list");
    assert_err("{{ [1]|zip_longest(5) }}", "zip_longest: expected a list");
}

#[test]
fn product() {
    assert_eq!(
        render("{{ [1, 2]|product(['a', 'b'])|to_json }}"),
        r#"[[1, "a"], [1, "b"], [2, "a"], [2, "b"]]"#
    );
    assert_eq!(
        render("{{ [1, 2]|product(['a'], [3])|map('join', '-')|join(',') }}"),
        "1-a-3,2-a-3"
    );
    assert_eq!(render("{{ [0, 1]|product(repeat=2)|length }}"), "4");
    assert_err("{{ [1]|product(5) }}", "product: expected a list");
}

#[test]
fn subelements() {
    let tpl = "{% for u, g in users2|subelements('groups') %}{{ u.name }}:{{ g }} {% endfor %}";
    let full = format!(
        "{{% set users2 = [{{'name': 'a', 'groups': ['x', 'y']}}, {{'name': 'b', 'groups': ['z']}}] %}}{tpl}"
    );
    assert_eq!(render(&full), "a:x a:y b:z ");
    assert_eq!(
        render("{{ [{'n': 1, 'a': {'b': [7]}}]|subelements('a.b')|map('last')|list|to_json }}"),
        "[7]"
    );
    assert_eq!(
        render("{{ [{'n': 1}]|subelements('groups', skip_missing=true)|length }}"),
        "0"
    );
    assert_err(
        "{{ [{'n': 1}]|subelements('groups') }}",
        "could not find 'groups' key",
    );
    assert_err(
        "{{ [{'g': 1}]|subelements('g') }}",
        "should point to a list",
    );
    assert_err("{{ 5|subelements('g') }}", "input must be a list of dicts");
}

#[test]
fn list_and_items() {
    assert_eq!(render("{{ 'ab'|list|to_json }}"), r#"["a", "b"]"#);
    assert_eq!(render("{{ {'a': 1}|list|to_json }}"), r#"["a"]"#);
    assert_eq!(
        render("{{ {'a': 1, 'b': 2}|items|to_json }}"),
        r#"[["a", 1], ["b", 2]]"#
    );
    assert_eq!(
        render("{% for k, v in d|items %}{{ k }}={{ v|to_json }};{% endfor %}"),
        r#"a=1;b={"c": [1, 2]};"#
    );
    assert_eq!(render("{{ (d|items)[0][0] }}"), "a");
    assert_err("{{ [1]|items }}", "items: requires a dictionary");
}

// --- dictionaries ------------------------------------------------------------------

#[test]
fn dict2items_items2dict() {
    assert_eq!(
        render("{{ {'a': 1, 'b': 2}|dict2items|to_json }}"),
        r#"[{"key": "a", "value": 1}, {"key": "b", "value": 2}]"#
    );
    assert_eq!(
        render("{{ {'a': 1}|dict2items(key_name='k', value_name='v')|to_json }}"),
        r#"[{"k": "a", "v": 1}]"#
    );
    assert_eq!(
        render("{{ [{'key': 'a', 'value': 1}]|items2dict|to_json }}"),
        r#"{"a": 1}"#
    );
    assert_eq!(
        render("{{ [{'k': 'a', 'v': 1}]|items2dict(key_name='k', value_name='v')|to_json }}"),
        r#"{"a": 1}"#
    );
    assert_eq!(render("{{ d|dict2items|items2dict == d }}"), "True");
    assert_err("{{ 5|dict2items }}", "dict2items: requires a dictionary");
    assert_err(
        "{{ [{'k': 'a'}]|items2dict }}",
        "must contain the keys 'key' and 'value'",
    );
    assert_err("{{ {'a': 1}|items2dict }}", "items2dict: requires a list");
    assert_err("{{ [1]|items2dict }}", "requires a list of dictionaries");
}

#[test]
fn combine_basic() {
    assert_eq!(
        render("{{ {'a': 1}|combine({'b': 2}, {'a': 3})|to_json }}"),
        r#"{"a": 3, "b": 2}"#
    );
    assert_eq!(
        render("{{ [{'a': 1}, {'b': 2}]|combine|to_json }}"),
        r#"{"a": 1, "b": 2}"#
    );
    assert_eq!(render("{{ {'a': 1}|combine|to_json }}"), r#"{"a": 1}"#);
    assert_eq!(
        render("{{ {'a': {'x': 1, 'y': [1]}, 'l': [1, 2]}|combine({'a': {'y': [2], 'z': 3}, 'l': [3]})|to_json }}"),
        r#"{"a": {"y": [2], "z": 3}, "l": [3]}"#
    );
}

#[test]
fn combine_recursive_and_list_merge() {
    let base = "{'a': {'x': 1, 'y': [1, 2]}, 'l': [1, 2]}";
    let over = "{'a': {'y': [2, 3], 'z': 3}, 'l': [2, 3]}";
    let run = |kw: &str| render(&format!("{{{{ {base}|combine({over}, {kw})|to_json }}}}"));
    assert_eq!(
        run("recursive=true"),
        r#"{"a": {"x": 1, "y": [2, 3], "z": 3}, "l": [2, 3]}"#
    );
    assert_eq!(
        run("recursive=true, list_merge='append'"),
        r#"{"a": {"x": 1, "y": [1, 2, 2, 3], "z": 3}, "l": [1, 2, 2, 3]}"#
    );
    assert_eq!(
        run("recursive=true, list_merge='append_rp'"),
        r#"{"a": {"x": 1, "y": [1, 2, 3], "z": 3}, "l": [1, 2, 3]}"#
    );
    assert_eq!(
        run("recursive=true, list_merge='prepend_rp'"),
        r#"{"a": {"x": 1, "y": [2, 3, 1], "z": 3}, "l": [2, 3, 1]}"#
    );
    assert_eq!(
        run("list_merge='prepend'"),
        r#"{"a": {"y": [2, 3], "z": 3}, "l": [2, 3, 1, 2]}"#
    );
    assert_eq!(
        run("list_merge='keep'"),
        r#"{"a": {"y": [2, 3], "z": 3}, "l": [1, 2]}"#
    );
    assert_eq!(
        render("{{ {'a': [1, 1, 2]}|combine({'a': [2, 3, 3]}, list_merge='append_rp')|to_json }}"),
        r#"{"a": [1, 1, 2, 3, 3]}"#
    );
    assert_eq!(
        render("{{ {'a': {'b': 1}}|combine({'a': none}, recursive=true)|to_json }}"),
        r#"{"a": null}"#
    );
}

#[test]
fn combine_errors() {
    assert_err(
        "{{ {'a': 1}|combine({'b': 2}, list_merge='bad') }}",
        "'list_merge' must be one of",
    );
    assert_err(
        "{{ {'a': 1}|combine(5) }}",
        "combine: expected dictionaries, got a number",
    );
    assert_err(
        "{{ {'a': 1}|combine({}, deep=true) }}",
        "unknown keyword argument 'deep'",
    );
    assert_err(
        "{{ {'a': 1}|combine(missing) }}",
        "combine: the input value is undefined",
    );
}

#[test]
fn extract() {
    assert_eq!(
        render("{{ ['a', 'b']|map('extract', {'a': 1, 'b': 2})|list|to_json }}"),
        "[1, 2]"
    );
    assert_eq!(
        render("{{ [0, 2]|map('extract', ['x', 'y', 'z'])|list|to_json }}"),
        r#"["x", "z"]"#
    );
    assert_eq!(
        render("{{ ['a']|map('extract', {'a': {'b': {'c': 5}}}, ['b', 'c'])|list|to_json }}"),
        "[5]"
    );
    assert_eq!(
        render("{{ 'a'|extract({'a': {'b': {'c': 5}}}, 'b')|to_json }}"),
        r#"{"c": 5}"#
    );
    assert_eq!(render("{{ 'zz'|extract({'a': 1}) is undefined }}"), "True");
    assert_err(
        "{{ 'a'|extract(missing) }}",
        "extract: the input value is undefined",
    );
}

#[test]
fn dict_function_and_methods() {
    assert_eq!(render("{{ dict(a=1)|to_json }}"), r#"{"a": 1}"#);
    assert_eq!(
        render("{{ dict([['a', 1], ['b', 2]])|to_json }}"),
        r#"{"a": 1, "b": 2}"#
    );
    assert_eq!(
        render("{{ dict({'a': 1}, b=2)|to_json }}"),
        r#"{"a": 1, "b": 2}"#
    );
    assert_eq!(render("{{ dict()|to_json }}"), "{}");
    assert_err(
        "{{ dict([1, 2]) }}",
        "dict: sequence elements must be [key, value] pairs",
    );
}

// --- JSON / YAML ----------------------------------------------------------------------

#[test]
fn to_json_python_formatting() {
    assert_eq!(render("{{ d|to_json }}"), r#"{"a": 1, "b": {"c": [1, 2]}}"#);
    assert_eq!(
        render("{{ {'z': 1, 'a': 2}|to_json }}"),
        r#"{"z": 1, "a": 2}"#
    );
    assert_eq!(
        render("{{ {'z': 1, 'a': 2}|to_json(sort_keys=true) }}"),
        r#"{"a": 2, "z": 1}"#
    );
    assert_eq!(render("{{ 'ü日'|to_json }}"), r#""\u00fc\u65e5""#);
    assert_eq!(render("{{ 'ü'|to_json(ensure_ascii=false) }}"), r#""ü""#);
    assert_eq!(render("{{ '😀'|to_json }}"), r#""\ud83d\ude00""#);
    assert_eq!(render("{{ 'a\"b\\\\c\n'|to_json }}"), r#""a\"b\\c\n""#);
    assert_eq!(
        render("{{ [1.0, 1e20, 1e-7, none, true]|to_json }}"),
        "[1.0, 1e+20, 1e-07, null, true]"
    );
    assert_eq!(render("{{ {1: 'a'}|to_json }}"), r#"{"1": "a"}"#);
    assert_eq!(
        render("{{ [1, [2]]|to_json(indent=2) }}"),
        "[\n  1,\n  [\n    2\n  ]\n]"
    );
    assert_err("{{ missing|to_json }}", "to_json");
    assert_err(
        "{{ [missing]|to_json }}",
        "to_json: cannot serialize an undefined value",
    );
}

#[test]
fn to_nice_json_matches_ansible() {
    assert_eq!(
        render("{{ {'z': 1, 'a': [1, 2, {'x': none}], 'e': {}, 'f': []}|to_nice_json }}"),
        "{\n    \"a\": [\n        1,\n        2,\n        {\n            \"x\": null\n        }\n    ],\n    \"e\": {},\n    \"f\": [],\n    \"z\": 1\n}"
    );
    assert_eq!(
        render("{{ {'b': 1, 'a': 2}|to_nice_json(indent=2) }}"),
        "{\n  \"a\": 2,\n  \"b\": 1\n}"
    );
    assert_eq!(
        render("{{ {'b': 1, 'a': 2}|to_nice_json(2) }}"),
        "{\n  \"a\": 2,\n  \"b\": 1\n}"
    );
    assert_eq!(
        render("{{ {'b': 1, 'a': 2}|to_nice_json(sort_keys=false) }}"),
        "{\n    \"b\": 1,\n    \"a\": 2\n}"
    );
    assert_err(
        "{{ {'a': 1}|to_nice_json(indent='x') }}",
        "indent must be a non-negative integer",
    );
}

#[test]
fn from_json() {
    assert_eq!(
        render(r#"{{ ('{"a": [1, 2.5, null, true], "b": "x"}'|from_json).a[1] }}"#),
        "2.5"
    );
    assert_eq!(
        render(r#"{{ '{"z": 1, "a": 2}'|from_json|to_json }}"#),
        r#"{"z": 1, "a": 2}"#
    );
    assert_eq!(render("{{ d|to_json|from_json == d }}"), "True");
    assert_err(
        "{{ '{bad'|from_json }}",
        "from_json: input is not valid JSON",
    );
    assert_err("{{ 5|from_json }}", "from_json: expected a JSON string");
}

#[test]
fn to_yaml_flow_style_for_scalar_collections() {
    assert_eq!(
        render("{{ {'z': 1, 'a': [1, 2]}|to_yaml }}"),
        "a: [1, 2]\nz: 1\n"
    );
    assert_eq!(render("{{ 'hello'|to_yaml }}"), "hello\n");
    assert_eq!(
        render("{{ [1, [2, [3]], {'a': {'b': 1}}]|to_yaml }}"),
        "- 1\n- - 2\n  - [3]\n- a: {b: 1}\n"
    );
    assert_eq!(
        render("{{ {'a': [{'b': 1, 'c': 2}]}|to_yaml }}"),
        "a:\n- {b: 1, c: 2}\n"
    );
    assert_eq!(
        render("{{ {'a': 1}|to_yaml(default_flow_style=false) }}"),
        "a: 1\n"
    );
    assert_err("{{ missing|to_yaml }}", "to_yaml");
    assert_err(
        "{{ {'a': 1}|to_yaml(width='x') }}",
        "width must be a positive integer",
    );
}

#[test]
fn to_nice_yaml_matches_ansible() {
    let out = render(
        "{{ {'z': 1, 'a': [1, 2, {'x': none}], 'e': {}, 'f': [], 's': 'yes', 't': '0644', 'u': '', 'n': 'null', 'f2': 1.5, 'b': true, 'k': 'a: b', 'q': \"it's\", 'h': '#x', 'dash': '-', 'sp': ' x'}|to_nice_yaml }}",
    );
    assert_eq!(
        out,
        "a:\n- 1\n- 2\n-   x: null\nb: true\ndash: '-'\ne: {}\nf: []\nf2: 1.5\nh: '#x'\nk: 'a: b'\nn: 'null'\nq: it's\ns: 'yes'\nsp: ' x'\nt: '0644'\nu: ''\nz: 1\n"
    );
    assert_eq!(
        render("{{ [1, [2, 3], {'a': 1}]|to_nice_yaml }}"),
        "- 1\n-   - 2\n    - 3\n-   a: 1\n"
    );
    assert_eq!(
        render("{{ {'ml': ml}|to_nice_yaml }}"),
        "ml: 'line1\n\n    line2\n\n    '\n"
    );
    assert_eq!(render("{{ 'yes'|to_nice_yaml }}"), "'yes'\n");
    assert_eq!(render("{{ {}|to_nice_yaml }}"), "{}\n");
    assert_eq!(
        render("{{ {'a': {'b': 1}}|to_nice_yaml(indent=2) }}"),
        "a:\n  b: 1\n"
    );
    assert_eq!(
        render("{{ {'a': {'b': 1}}|to_nice_yaml(2) }}"),
        "a:\n  b: 1\n"
    );
    assert_err(
        "{{ {'a': 1}|to_nice_yaml(indent='x') }}",
        "indent must be a positive integer",
    );
}

#[test]
fn from_yaml_block_and_flow() {
    let src = "{% set doc = 'a: 1\\nb:\\n  - x\\n  - y: 2\\n    z: [1, 2]\\nc: yes\\nd: \"q\"\\ne: 0644\\n' %}{{ doc|from_yaml|to_json }}";
    assert_eq!(
        render(src),
        r#"{"a": 1, "b": ["x", {"y": 2, "z": [1, 2]}], "c": true, "d": "q", "e": 420}"#
    );
    assert_eq!(
        render(r#"{{ '{"a": [1, "b"]}'|from_yaml|to_json }}"#),
        r#"{"a": [1, "b"]}"#
    );
    assert_eq!(render("{{ 'plain text'|from_yaml }}"), "plain text");
    assert_eq!(render("{{ none|from_yaml is none }}"), "True");
    assert_eq!(render("{{ d|from_yaml == d }}"), "True");
    assert_eq!(render("{{ d|to_nice_yaml|from_yaml == d }}"), "True");
    assert_eq!(
        render("{{ 'a: 1\\n---\\nb: 2\\n'|from_yaml_all|to_json }}"),
        r#"[{"a": 1}, {"b": 2}]"#
    );
    assert_eq!(render("{{ ('a: &x 1\\nb: *x'|from_yaml).b }}"), "1");
    assert_err("{{ 'a: [1, 2'|from_yaml }}", "from_yaml: YAML syntax error");
}

// --- paths --------------------------------------------------------------------------

#[test]
fn path_filters() {
    assert_eq!(render("{{ '/a/b/c.txt'|basename }}"), "c.txt");
    assert_eq!(render("{{ '/a/b/'|basename }}"), "");
    assert_eq!(render("{{ '/a/b/c.txt'|dirname }}"), "/a/b");
    assert_eq!(render("{{ 'c.txt'|dirname }}"), "");
    assert_eq!(render("{{ '/c.txt'|dirname }}"), "/");
    assert_eq!(render("{{ '/a/./b/../c'|realpath }}"), "/a/c");
    assert_eq!(
        render("{{ '/a/b.tar.gz'|splitext|to_json }}"),
        r#"["/a/b.tar", ".gz"]"#
    );
    assert_eq!(
        render("{{ '.bashrc'|splitext|to_json }}"),
        r#"[".bashrc", ""]"#
    );
    assert_eq!(render("{{ ['a', '/b', 'c']|path_join }}"), "/b/c");
    assert_eq!(render("{{ ['etc', 'x.conf']|path_join }}"), "etc/x.conf");
    assert_eq!(render("{{ 'a/b'|path_join }}"), "a/b");
    assert_eq!(render("{{ '/x/~'|expanduser }}"), "/x/~");
    assert_eq!(render("{{ '~user/x'|expanduser }}"), "~user/x");
    assert_err("{{ 5|path_join }}", "path_join: expects a string or a list");
    render_err("{{ missing|basename }}");
}

#[test]
fn expanduser_uses_home() {
    let home = std::env::var("HOME").unwrap_or_default();
    if !home.is_empty() {
        assert_eq!(
            render("{{ '~/x'|expanduser }}"),
            format!("{}/x", home.trim_end_matches('/'))
        );
        assert_eq!(render("{{ '~'|expanduser }}"), home);
    }
}

#[test]
fn realpath_relative_uses_cwd() {
    let cwd = std::env::current_dir()
        .expect("cwd")
        .to_string_lossy()
        .into_owned();
    assert_eq!(render("{{ 'x/../y'|realpath }}"), format!("{cwd}/y"));
}

// --- hashing --------------------------------------------------------------------------

#[test]
fn hash_filters() {
    assert_eq!(
        render("{{ 'abc'|hash('sha1') }}"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        render("{{ 'abc'|hash }}"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        render("{{ 'abc'|hash('md5') }}"),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(
        render("{{ 'abc'|hash('sha256') }}"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(render("{{ 'abc'|hash('sha512') }}").starts_with("ddaf35a193617aba"));
    assert_eq!(
        render("{{ 'abc'|checksum }}"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        render("{{ 'abc'|md5 }}"),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(
        render("{{ 'abc'|sha1 }}"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_err(
        "{{ 'abc'|hash('blake9') }}",
        "hash: unsupported hash type 'blake9'",
    );
    render_err("{{ missing|md5 }}");
}

// --- logic and misc ---------------------------------------------------------------------

#[test]
fn mandatory() {
    assert_eq!(render("{{ 'x'|mandatory }}"), "x");
    assert_eq!(render("{{ none|mandatory is none }}"), "True");
    assert_err("{{ missing|mandatory }}", "Mandatory variable not defined.");
    assert_err("{{ missing|mandatory('custom msg') }}", "custom msg");
}

#[test]
fn ternary() {
    assert_eq!(render("{{ true|ternary('y', 'n') }}"), "y");
    assert_eq!(render("{{ (1 > 2)|ternary('y', 'n') }}"), "n");
    assert_eq!(render("{{ none|ternary('y', 'n', 'z') }}"), "z");
    assert_eq!(render("{{ none|ternary('y', 'n') }}"), "n");
    assert_eq!(render("{{ ''|ternary('y', 'n', 'z') }}"), "n");
    render_err("{{ missing|ternary('y', 'n') }}");
}

#[test]
fn version_compare_filter() {
    assert_eq!(
        render("{{ '1.2.3'|version_compare('1.2.4', '<') }}"),
        "True"
    );
    assert_eq!(render("{{ '1.10'|version_compare('1.9', 'gt') }}"), "True");
    assert_err(
        "{{ '1.0'|version_compare('1.0', 'foo') }}",
        "invalid operator type (foo)",
    );
}

#[test]
fn human_readable() {
    assert_eq!(render("{{ 1024|human_readable }}"), "1.00 KB");
    assert_eq!(render("{{ 1500000|human_readable }}"), "1.43 MB");
    assert_eq!(render("{{ 10|human_readable }}"), "10.00 Bytes");
    assert_eq!(render("{{ 0|human_readable }}"), "0.00 Bytes");
    assert_eq!(render("{{ 1024|human_readable(isbits=true) }}"), "1.00 Kb");
    assert_eq!(
        render("{{ 1048576|human_readable(unit='K') }}"),
        "1024.00 KB"
    );
    assert_err(
        "{{ 'abc'|human_readable }}",
        "human_readable: expected a number",
    );
}

#[test]
fn human_to_bytes() {
    assert_eq!(render("{{ '1 KB'|human_to_bytes }}"), "1024");
    assert_eq!(render("{{ '1.5M'|human_to_bytes }}"), "1572864");
    assert_eq!(render("{{ '10'|human_to_bytes }}"), "10");
    assert_eq!(render("{{ '2'|human_to_bytes(default_unit='K') }}"), "2048");
    assert_eq!(render("{{ '1Mb'|human_to_bytes(isbits=true) }}"), "1048576");
    assert_eq!(render("{{ '1 byte'|human_to_bytes }}"), "1");
    assert_err("{{ '1 GiB'|human_to_bytes }}", "expected GB or G");
    assert_err(
        "{{ 'foo'|human_to_bytes }}",
        "cannot interpret \"foo\" as a size",
    );
    assert_err("{{ '1 Q'|human_to_bytes }}", "unit must start with one of");
}

#[test]
fn math_filters() {
    assert_eq!(render("{{ 8|log(2) }}"), "3.0");
    assert_eq!(render("{{ 2|pow(3) }}"), "8.0");
    assert_eq!(render("{{ 9|root }}"), "3.0");
    assert_eq!(render("{{ 27|root(3)|round }}"), "3.0");
    assert_err("{{ 'x'|log }}", "log: expected a number");
}

#[test]
fn json_query_is_refused() {
    assert_err(
        "{{ d|json_query('a') }}",
        "json_query (community.general, JMESPath) is not supported",
    );
}

#[test]
fn fqcn_aliases_exist() {
    for name in [
        "to_json",
        "to_nice_json",
        "to_yaml",
        "to_nice_yaml",
        "from_json",
        "from_yaml",
        "combine",
        "regex_replace",
        "regex_search",
        "b64encode",
        "quote",
        "ternary",
        "dict2items",
        "items2dict",
        "flatten",
        "bool",
        "mandatory",
        "hash",
        "path_join",
        "zip_longest",
        "split",
        "unique",
        "human_to_bytes",
        "subelements",
    ] {
        let tpl = format!("{{{{ 'ansible.builtin.{name}' is filter }}}}");
        assert_eq!(render(&tpl), "True", "ansible.builtin.{name} missing");
    }
}

#[test]
fn builtin_range_and_python_literals() {
    assert_eq!(render("{{ range(3)|list|to_json }}"), "[0, 1, 2]");
    assert_eq!(render("{{ range(1, 7, 2)|join(',') }}"), "1,3,5");
    assert_eq!(
        render("{{ 'Foo'|regex_replace('foo', 'x', ignorecase=True) }}"),
        "x"
    );
    assert_eq!(render("{{ None|ternary('y', 'n', 'z') }}"), "z");
}

#[test]
fn large_multiline_flow_yaml_parses() {
    let items: Vec<String> = (0..20_000).map(|i| format!("  {i},")).collect();
    let doc = format!("[\n{}\n  -1\n]\n", items.join("\n"));
    let env = common::env();
    let ctx = minijinja::context! { y => doc };
    let out = env
        .render_str("{{ (y|from_yaml)|length }}", ctx)
        .expect("render");
    assert_eq!(out, "20001");
}
