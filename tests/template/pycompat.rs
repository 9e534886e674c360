use super::common;

use common::{assert_err, render};

#[test]
fn str_predicates() {
    assert_eq!(render("{{ 'foobar'.startswith('foo') }}"), "True");
    assert_eq!(render("{{ 'foobar'.startswith(('x', 'fo')) }}"), "True");
    assert_eq!(render("{{ 'foobar'.startswith(['x', 'y']) }}"), "False");
    assert_eq!(render("{{ 'foobar'.startswith('bar', 3) }}"), "True");
    assert_eq!(render("{{ 'foobar'.endswith('bar') }}"), "True");
    assert_eq!(render("{{ 'foobar'.endswith('foo', 0, 3) }}"), "True");
    assert_eq!(render("{{ '123'.isdigit() }}"), "True");
    assert_eq!(render("{{ '12a'.isdigit() }}"), "False");
    assert_eq!(render("{{ ''.isdigit() }}"), "False");
    assert_eq!(render("{{ 'abc'.isalpha() }}"), "True");
    assert_eq!(render("{{ 'ab1'.isalpha() }}"), "False");
    assert_eq!(render("{{ 'ab1'.isalnum() }}"), "True");
    assert_eq!(render("{{ ' '.isspace() }}"), "True");
    assert_eq!(render("{{ 'ab c'.islower() }}"), "True");
    assert_eq!(render("{{ 'AB'.isupper() }}"), "True");
    assert_err(
        "{{ 'a'.startswith(1) }}",
        "startswith(): expected a string argument",
    );
    assert_err(
        "{{ 'a'.startswith() }}",
        "startswith() takes 1 to 3 argument(s), 0 given",
    );
}

#[test]
fn str_split_family() {
    assert_eq!(
        render("{{ 'a b  c'.split()|to_json }}"),
        r#"["a", "b", "c"]"#
    );
    assert_eq!(
        render("{{ '  a b  c '.split(none, 1)|to_json }}"),
        r#"["a", "b  c "]"#
    );
    assert_eq!(
        render("{{ 'a,b,,c'.split(',')|to_json }}"),
        r#"["a", "b", "", "c"]"#
    );
    assert_eq!(
        render("{{ 'a,b,c'.split(',', 1)|to_json }}"),
        r#"["a", "b,c"]"#
    );
    assert_eq!(
        render("{{ 'a,b,c'.rsplit(',', 1)|to_json }}"),
        r#"["a,b", "c"]"#
    );
    assert_eq!(
        render("{{ ' a b c '.rsplit(none, 1)|to_json }}"),
        r#"[" a b", "c"]"#
    );
    assert_eq!(
        render("{{ 'a=b=c'.split('=', maxsplit=1)|to_json }}"),
        r#"["a", "b=c"]"#
    );
    assert_eq!(
        render("{{ 'a\nb\r\nc'.splitlines()|to_json }}"),
        r#"["a", "b", "c"]"#
    );
    assert_eq!(
        render("{{ 'a\nb\n'.splitlines(true)|to_json }}"),
        r#"["a\n", "b\n"]"#
    );
    assert_err("{{ 'a'.split('') }}", "split(): empty separator");
}

#[test]
fn str_transformations() {
    assert_eq!(render("{{ '  x  '.strip() }}"), "x");
    assert_eq!(render("{{ 'xxaxx'.strip('x') }}"), "a");
    assert_eq!(render("{{ '  x  '.lstrip() }}|"), "x  |");
    assert_eq!(render("{{ '  x  '.rstrip() }}|"), "  x|");
    assert_eq!(render("{{ '/a/'.rstrip('/') }}"), "/a");
    assert_eq!(render("{{ 'aaa'.replace('a', 'b') }}"), "bbb");
    assert_eq!(render("{{ 'aaa'.replace('a', 'b', 1) }}"), "baa");
    assert_eq!(render("{{ 'Hi'.lower() }}{{ 'Hi'.upper() }}"), "hiHI");
    assert_eq!(
        render("{{ \"hello wORLD it's\".title() }}"),
        "Hello World It'S"
    );
    assert_eq!(render("{{ 'hELLO'.capitalize() }}"), "Hello");
    assert_eq!(render("{{ ','.join(['a', 'b']) }}"), "a,b");
    assert_eq!(render("{{ '42'.zfill(5) }}"), "00042");
    assert_eq!(render("{{ '-42'.zfill(5) }}"), "-0042");
    assert_err(
        "{{ ','.join([1, 2]) }}",
        "join(): sequence item must be a string",
    );
    assert_err(
        "{{ 'a'.replace('a') }}",
        "replace() takes 2 to 3 argument(s), 1 given",
    );
}

#[test]
fn str_search() {
    assert_eq!(render("{{ 'hello'.find('l') }}"), "2");
    assert_eq!(render("{{ 'hello'.rfind('l') }}"), "3");
    assert_eq!(render("{{ 'hello'.find('z') }}"), "-1");
    assert_eq!(render("{{ 'héllo'.find('l', 3) }}"), "3");
    assert_eq!(render("{{ 'hello'.index('e') }}"), "1");
    assert_eq!(render("{{ 'hello'.count('l') }}"), "2");
    assert_err("{{ 'hello'.index('z') }}", "index(): substring not found");
}

#[test]
fn str_format() {
    assert_eq!(render("{{ '{} and {}'.format('a', 'b') }}"), "a and b");
    assert_eq!(render("{{ '{1}{0}{1}'.format('a', 'b') }}"), "bab");
    assert_eq!(render("{{ '{name}!'.format(name='x') }}"), "x!");
    assert_eq!(render("{{ '{{literal}} {}'.format(1) }}"), "{literal} 1");
    assert_eq!(
        render("{{ '{:>5}|{:<5}|{:^5}'.format('a', 'b', 'c') }}"),
        "    a|b    |  c  "
    );
    assert_eq!(render("{{ '{:05d}'.format(42) }}"), "00042");
    assert_eq!(render("{{ '{:.2f}'.format(3.14159) }}"), "3.14");
    assert_eq!(render("{{ '{:,}'.format(1234567) }}"), "1,234,567");
    assert_eq!(render("{{ '{:x}'.format(255) }}"), "ff");
    assert_eq!(render("{{ '{!r}'.format('a') }}"), "'a'");
    assert_eq!(render("{{ '{}'.format(true) }}"), "True");
    assert_eq!(render("{{ '{0[0]}-{0[1]}'.format(['a', 'b']) }}"), "a-b");
    assert_eq!(render("{{ '{0.a}'.format(d) }}"), "1");
    assert_err(
        "{{ '{} {}'.format('a') }}",
        "replacement index 1 out of range",
    );
    assert_err("{{ '{x}'.format() }}", "missing keyword argument 'x'");
    assert_err("{{ '{'.format() }}", "unmatched '{'");
    assert_err("{{ '{:d}'.format('a') }}", "unknown format code");
}

#[test]
fn dict_methods() {
    assert_eq!(render("{{ d.keys()|list|to_json }}"), r#"["a", "b"]"#);
    assert_eq!(render("{{ {'x': 1}.values()|list|to_json }}"), "[1]");
    assert_eq!(render("{{ {'x': 1}.items()|to_json }}"), r#"[["x", 1]]"#);
    assert_eq!(
        render("{% for k, v in d.items() %}{{ k }};{% endfor %}"),
        "a;b;"
    );
    assert_eq!(render("{{ d.get('a') }}"), "1");
    assert_eq!(render("{{ d.get('zz', 'dflt') }}"), "dflt");
    assert_eq!(render("{{ d.get('zz') is none }}"), "True");
    assert_eq!(render("{{ d.copy() == d }}"), "True");
    assert_eq!(render("{{ 'a' in d.keys() }}"), "True");
    assert_err("{{ d.get() }}", "get() takes 1 to 2 argument(s), 0 given");
    assert_err("{{ d.nosuchmethod() }}", "no method named nosuchmethod");
}

#[test]
fn list_methods() {
    assert_eq!(render("{{ ['a', 'b'].index('b') }}"), "1");
    assert_eq!(render("{{ [1, 2, 1].count(1) }}"), "2");
    assert_eq!(render("{{ [1, 2].copy()|to_json }}"), "[1, 2]");
    assert_err("{{ ['a'].index('z') }}", "index(): 'z' is not in list");
    assert_err("{{ [1].append(2) }}", "no method named append");
}
