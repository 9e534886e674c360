"""The template corpus, rendered by ansible-core's own templar.

Prints one JSON object per line: {"id", "kind", "source", "ansible"}, where "kind" is
"expr" (a playbook string, templated as Ansible templates task arguments) or "yaml" (a
YAML document `v: <scalar>` whose value is templated, to cover quoting and backslashes in
every scalar style), and "ansible" is {"value": ...} or {"error": "undefined"|"error",
"message": ...}.

The corpus is generated, deterministically, from the tables below: every filter with
typical, edge and wrong inputs (each filter applied to every value of VARS), every test
the same way, literals in each YAML scalar style, undefined chains, type round-trips,
whitespace control, macros, namespace and loops. tests/template_diff.rs renders each
case with drover's template layer and compares. Run by hand:

    /var/cache/drover-test/venv/bin/python tests/template_diff/corpus.py | head
"""

import json
import sys

from ansible.errors import AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.template import Templar, trust_as_template

# The variables every case sees (drover's test loads the same JSON).
VARS = {
    "s": "Hello World",
    "e": "",
    "q": "it's \"q\"",
    "bs": "a\\b",
    "u": "héllo wörld",
    "n": 42,
    "neg": -7,
    "f": 3.5,
    "half": 2.5,
    "z": 0,
    "t": True,
    "no": False,
    "none": None,
    "l": [3, 1, 2],
    "ls": ["b", "a", "c", "a"],
    "nested": [[1, 2], [3, [4, 5]]],
    "d": {"b": 2, "a": 1},
    "dl": [{"name": "x", "v": 1, "tags": ["p", "q"]}, {"name": "y", "v": 2, "tags": ["r"]}],
    "path": "/etc/nginx/nginx.conf",
    "csv": "a,b,c",
    "num_s": "12",
    "float_s": "1.5",
    "json_s": '{"k": [1, 2], "m": "x"}',
    "yaml_s": "k: [1, 2]\nm: x\n",
    "b64": "aGVsbG8=",
    "ml": "line one\nline two\n",
    "html": "<p>a &amp; <b>b</b></p>",
    "ver": "1.2.10",
    "size": "10 MB",
}

# Filters with their argument lists (each applied to every variable above).
FILTERS = [
    "upper", "lower", "title", "capitalize", "trim", "length", "count", "first", "last",
    "reverse", "list", "unique", "sort", "join", "join(',')", "join('-', attribute='name')",
    "replace('l', 'L')", "replace('a', 'b', 1)", "center(20)", "truncate(5)",
    "truncate(8, true)", "wordcount", "wordwrap(6)", "striptags", "indent(2)",
    "indent(2, true)", "indent(width=3, first=true, blank=true)", "string", "int",
    "int(base=16)", "float", "bool", "abs", "round", "round(1)", "round(0, 'floor')",
    "round(0, 'ceil')", "regex_replace('o', '0')", "regex_replace('^(\\\\w+).*$', '\\\\1')",
    "regex_search('l+')", "regex_findall('[a-z]')", "regex_escape", "quote", "b64encode",
    "b64decode", "hash('sha1')", "hash('md5')", "md5", "sha1", "checksum", "to_json",
    "to_json(sort_keys=true)", "to_nice_json", "to_nice_json(indent=2)", "to_yaml",
    "to_nice_yaml", "to_nice_yaml(indent=4)", "from_json", "from_yaml", "basename",
    "dirname", "splitext", "urlencode", "urldecode", "default('x')", "default('x', true)",
    "d('y')", "mandatory", "ternary('y', 'n')", "ternary('y', 'n', 'none')", "type_debug",
    "dict2items", "items2dict", "combine({'c': 3})", "combine({'a': {'x': 1}}, recursive=true)",
    "flatten", "flatten(1)", "min", "max", "sum", "map('upper') | list",
    "map('string') | list", "select | list", "reject | list", "select('odd') | list",
    "selectattr('v', 'gt', 1) | list", "rejectattr('name', 'eq', 'x') | list",
    "map(attribute='name') | list", "batch(2) | list", "slice(2) | list",
    "groupby('name') | list", "dictsort", "dictsort(reverse=true)", "items | list",
    "zip([1, 2]) | list", "product([1, 2]) | list", "union([1, 'a'])",
    "intersect([1, 'a', 2])", "difference([1, 'a'])", "symmetric_difference([1, 9])",
    "human_readable", "human_to_bytes", "filesizeformat", "filesizeformat(true)", "xmlattr",
    "tojson", "forceescape", "comment", "comment('c')", "log", "pow(2)", "split",
    "split(',')", "path_join", "subelements('tags') | list", "extract(d) ",
    "zip_longest([1]) | list", "version('1.2.3', '>')", "lines", "items2dict(key_name='name', value_name='v')",
    "dict2items(key_name='k', value_name='val')", "random(seed='x') is defined",
    "unique(attribute='name')", "sort(attribute='v', reverse=true)", "sum(attribute='v')",
    "max(attribute='v')", "min(attribute='v')", "first | string", "string | length",
]

TESTS = [
    "defined", "undefined", "none", "number", "string", "mapping", "sequence", "iterable",
    "boolean", "integer", "float", "true", "false", "lower", "upper", "odd", "even",
    "divisibleby(3)", "sameas(true)", "eq 42", "ne 'x'", "gt 1", "lt 100", "ge 3", "le 3",
    "in ['a', 42]", "contains 1", "contains 'a'", "match('H.*')", "search('o W')",
    "regex('^a')", "version('1.2.3', '>=')", "subset([1, 2, 3, 4])", "superset([1])",
    "truthy", "falsy", "abs", "callable", "escaped", "filter", "test",
]

# Expressions whose text holds quotes and backslashes, for the YAML scalar styles.
YAML_EXPRS = [
    "{{ 'web01.example.com' | regex_replace('^([^.]+)\\\\..*$', '\\\\1') }}",
    "{{ 'a.b.c' | regex_replace('\\\\.', '-') }}",
    "{{ 'x1y22' | regex_findall('\\\\d+') }}",
    "{{ 'tab\\there' }}",
    "{{ 'new\\nline' }}",
    "{{ \"dq 'inner'\" }}",
    "{{ 'sq \"inner\"' }}",
    "{{ 'back\\\\slash' }}",
    "pre {{ 'mid\\\\dle' }} post",
    "{% if 'a\\\\b' | length == 3 %}three{% else %}other{% endif %}",
    "{{ 'C:\\\\path\\\\file' | basename }}",
    "{{ '\\\\1' }}",
    "{{ q }}",
    "{{ bs }}",
    "{{ 'a{b}c' }}",
]

HANDWRITTEN = [
    # undefined chains under default / is defined / mandatory
    "{{ missing | default('d') }}", "{{ missing.a.b | default(1) }}",
    "{{ d.nope.deeper | default('x') }}", "{{ missing is defined }}",
    "{{ d.nope is defined }}", "{{ d.nope.deeper is undefined }}", "{{ missing }}",
    "{{ d.nope }}", "{{ missing.a }}", "{{ missing | mandatory }}",
    "{{ missing | mandatory('custom message') }}", "{{ none | default('x') }}",
    "{{ none | default('x', true) }}", "{{ e | default('x', true) }}",
    "{{ (missing | default({})).get('k', 3) }}", "{{ missing['a'] | default(2) }}",
    "{{ lookup('vars', 'missing', default='dv') }}", "{{ d['a'] }}", "{{ d.a }}",
    "{{ l[0] }}", "{{ l[-1] }}", "{{ l[5] | default('oob') }}", "{{ s[0:5] }}",
    # type round trips
    "{{ 1 }}", "{{ '1' }}", "{{ 1.0 }}", "{{ 1.5 + 1 }}", "{{ 7 // 2 }}", "{{ 7 / 2 }}",
    "{{ 7 % 3 }}", "{{ 2 ** 10 }}", "{{ -n }}", "{{ n | string }}", "{{ n | string | int }}",
    "{{ '3' | int + 1 }}", "{{ '3' + '4' }}", "{{ l + [4] }}", "{{ [1] + [2] }}",
    "x{{ [1, 2] + [3] }}", "{{ l | list + ls }}", "{{ d | dict2items | items2dict }}",
    "{{ true }}", "{{ none }}", "{{ [none] }}", "{{ {'a': none} }}", "x{{ none }}y",
    "{{ t and no }}", "{{ t or no }}", "{{ not t }}", "{{ n > 3 and s }}",
    "{{ 'abc' ~ 1 ~ none ~ true }}", "{{ [1, 'a', true, none, 1.5] }}",
    "v={{ [1, 'a', true, none, 1.5] }}", "{{ {'k': [1, {'x': none}]} }}",
    "v={{ {'k': [1, {'x': none}], 'b': true} }}", "{{ (1, 2) }}", "{{ 0.1 + 0.2 }}",
    "{{ 10 / 4 }}", "{{ 1e3 }}", "{{ 100000000000000000000 }}", "{{ '%05.1f' | format(f) }}",
    "{{ '%s-%s' | format('a', 1) }}", "{{ '%d' % n }}", "{{ '%s and %r' % ('a', 'b') }}",
    "{{ 'x' * 3 }}", "{{ s.split(' ') }}", "{{ s.lower().startswith('hello') }}",
    "{{ s.replace('World', 'There') }}", "{{ csv.split(',') | length }}",
    "{{ d.keys() | list }}", "{{ d.values() | list | sort }}", "{{ d.items() | list }}",
    "{{ d.get('a') }}", "{{ d.get('zz', 'dflt') }}", "{{ ls.index('c') }}",
    "{{ ls.count('a') }}", "{{ s.endswith('d') }}", "{{ s.strip('Hd') }}",
    "{{ '  x ' | trim }}", "{{ s | length > 3 }}", "{{ 'a' in ls }}", "{{ 'zz' not in d }}",
    "{{ range(3) | list }}", "{{ range(1, 10, 3) | list }}", "{{ lookup('items', [1, 2]) }}",
    "{{ query('items', [1, [2]]) }}", "{{ lookup('list', [1, 2]) }}",
    # whitespace control, blocks, macros, namespace, loops
    "{% for i in l %}{{ i }}{% endfor %}", "{% for i in l -%} {{ i }} {%- endfor %}",
    "{% for i in l %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}",
    "{% for i in l if i > 1 %}{{ i }}{% else %}none{% endfor %}",
    "{% for i in [] %}{{ i }}{% else %}empty{% endfor %}",
    "{% for a in nested %}{% for b in a %}{{ loop.depth }}{% endfor %}{% endfor %}",
    "{% for i in l %}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }} {% endfor %}",
    "{% for i in l %}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{% set x = 5 %}{{ x }}", "{% set x = 5 %}{{ x + 1 }}", "{% set ns = namespace(c=0) %}{% for i in l %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}",
    "{% set ns = namespace(items=[]) %}{% for i in l %}{% set ns.items = ns.items + [i * 2] %}{% endfor %}{{ ns.items }}",
    "{% macro m(a, b=2) %}{{ a }}+{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=3) }}",
    "{% macro greet(n) %}hi {{ n }}{% endmacro %}{{ greet('x') | upper }}",
    "{% if n > 40 %}big{% elif n > 10 %}mid{% else %}small{% endif %}",
    "{% if missing is defined %}a{% else %}b{% endif %}", "{% if none %}a{% else %}b{% endif %}",
    "{% raw %}{{ not templated }}{% endraw %}", "a {# comment #} b", "{{ 'a' }}\n", "\n{{ 'a' }}",
    "  {{- ' x ' -}}  ", "{%- if true -%}  yes  {%- endif -%}", "{% filter upper %}up{% endfilter %}",
    "{% with a = 1 %}{{ a }}{% endwith %}", "{{ 'a' if t else 'b' }}", "{{ 'a' if no }}",
    "{{ n if n > 50 else 'small' }}", "{{ [1, 2, 3] | select('gt', 1) | list }}",
    "{{ dl | map(attribute='v') | sum }}", "{{ dl | selectattr('name', 'equalto', 'y') | first }}",
    "{{ dl | items2dict(key_name='name', value_name='v') }}", "{{ dl | json_query('[].name') }}",
    "{{ ansible_managed | default('none') }}", "{{ omit is defined }}",
]

STYLES = {
    "plain": lambda e: e,
    "single": lambda e: "'" + e.replace("'", "''") + "'",
    "double": lambda e: json.dumps(e, ensure_ascii=False),
    "literal": lambda e: "|-\n  " + e,
    "folded": lambda e: ">-\n  " + e,
}


def cases():
    n = 0
    for flt in FILTERS:
        for var in VARS:
            yield "expr", "{{ %s | %s }}" % (var, flt)
    for test in TESTS:
        for var in VARS:
            yield "expr", "{{ %s is %s }}" % (var, test)
    for expr in HANDWRITTEN:
        yield "expr", expr
    for expr in YAML_EXPRS:
        for name, style in STYLES.items():
            # A plain scalar cannot start with '{' (a flow mapping) or hold ': '.
            if name == "plain" and (expr.startswith("{") or ": " in expr or "#" in expr):
                continue
            yield "yaml", "v: " + style(expr) + "\n"
    _ = n


def render(templar, kind, source):
    if kind == "yaml":
        doc = AnsibleLoader(source).get_single_data()
        value = trust_as_template(doc["v"])
    else:
        value = trust_as_template(source)
    try:
        out = templar.template(value)
        return {"value": json.loads(json.dumps(out, default=repr))}
    except AnsibleUndefinedVariable as e:
        return {"error": "undefined", "message": str(e).splitlines()[0]}
    except Exception as e:  # every other failure is compared by class only
        return {"error": "error", "message": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}


def main():
    templar = Templar(loader=DataLoader(), variables=VARS)
    if len(sys.argv) > 1 and sys.argv[1] == "--vars":
        print(json.dumps(VARS))
        return
    for i, (kind, source) in enumerate(cases()):
        print(json.dumps({"id": i, "kind": kind, "source": source, "ansible": render(templar, kind, source)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
