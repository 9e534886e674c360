//! Registers the Ansible filter/test layer on a minijinja environment.

use minijinja::Environment;

use super::{filters as f, jinja_tests as t, pycompat};

/// Adds each filter under its short name and `ansible.builtin.<name>`.
macro_rules! ansible_filters {
    ($env:expr, { $($name:literal => $func:path),* $(,)? }) => {
        $(
            $env.add_filter($name, $func);
            $env.add_filter(concat!("ansible.builtin.", $name), $func);
        )*
    };
}

/// Adds each test under its short name and `ansible.builtin.<name>`.
macro_rules! ansible_tests {
    ($env:expr, { $($name:literal => $func:path),* $(,)? }) => {
        $(
            $env.add_test($name, $func);
            $env.add_test(concat!("ansible.builtin.", $name), $func);
        )*
    };
}

/// Adds every Ansible filter, test and Python method shim to `env`,
/// overriding minijinja builtins whose semantics differ from Ansible's.
pub fn register(env: &mut Environment<'static>) {
    // Filters shipped by ansible-core.
    ansible_filters!(env, {
        "password_hash" => super::password_hash::password_hash,
        "b64decode" => f::b64decode,
        "b64encode" => f::b64encode,
        "basename" => f::basename,
        "bool" => f::bool_filter,
        "checksum" => f::checksum,
        "unvault" => f::unvault,
        "vault" => f::vault,
        "combine" => f::combine,
        "dict2items" => f::dict2items,
        "difference" => f::difference,
        "dirname" => f::dirname,
        "expanduser" => f::expanduser,
        "extract" => f::extract,
        "flatten" => f::flatten,
        "from_json" => f::from_json,
        "from_yaml" => f::from_yaml,
        "from_yaml_all" => f::from_yaml_all,
        "hash" => f::hash,
        "human_readable" => f::human_readable,
        "human_to_bytes" => f::human_to_bytes,
        "intersect" => f::intersect,
        "items2dict" => f::items2dict,
        "log" => f::log,
        "mandatory" => f::mandatory,
        "md5" => f::md5,
        "path_join" => f::path_join,
        "pow" => f::pow,
        "product" => f::product,
        "quote" => f::quote,
        "realpath" => f::realpath,
        "regex_escape" => f::regex_escape,
        "regex_findall" => f::regex_findall,
        "regex_replace" => f::regex_replace,
        "regex_search" => f::regex_search,
        "root" => f::root,
        "sha1" => f::sha1,
        "split" => minijinja::filters::split,
        "splitext" => f::splitext,
        "subelements" => f::subelements,
        "symmetric_difference" => f::symmetric_difference,
        "ternary" => f::ternary,
        "to_json" => f::to_json,
        "to_nice_json" => f::to_nice_json,
        "to_nice_yaml" => f::to_nice_yaml,
        "to_yaml" => f::to_yaml,
        "type_debug" => f::type_debug,
        "union" => f::union,
        "unique" => f::unique,
        "urldecode" => f::urldecode,
        "zip" => f::zip,
        "zip_longest" => f::zip_longest,
    });

    // Jinja2 builtins whose minijinja versions differ from Jinja2/Ansible.
    env.add_filter(super::percent::FILTER, super::percent::percent_filter);
    // Jinja2's `format` is Python's `%` operator.
    env.add_filter("format", super::percent::percent_filter);
    env.add_filter("int", f::int_filter);
    env.add_filter("float", f::float_filter);
    env.add_filter("string", f::string_filter);
    env.add_filter("title", f::title);
    env.add_filter("replace", f::replace);
    env.add_filter("join", f::join);
    env.add_filter("min", f::min);
    env.add_filter("max", f::max);
    env.add_filter("sum", f::sum);
    env.add_filter("items", f::items);
    // Not in ansible-core; kept as filters for old playbooks or to fail clearly.
    env.add_filter("version_compare", f::version_compare);
    env.add_filter("json_query", f::json_query);
    env.add_filter("community.general.json_query", f::json_query);

    // Tests shipped by ansible-core.
    ansible_tests!(env, {
        "failed" => t::failed,
        "failure" => t::failed,
        "succeeded" => t::succeeded,
        "success" => t::succeeded,
        "successful" => t::succeeded,
        "changed" => t::changed,
        "change" => t::changed,
        "skipped" => t::skipped,
        "skip" => t::skipped,
        "finished" => t::finished,
        "started" => t::started,
        "reachable" => t::reachable,
        "unreachable" => t::unreachable,
        "match" => t::is_match,
        "search" => t::is_search,
        "regex" => t::is_regex,
        "version" => t::version,
        "version_compare" => t::version,
        "contains" => t::contains,
        "subset" => t::subset,
        "issubset" => t::subset,
        "superset" => t::superset,
        "issuperset" => t::superset,
        "any" => t::any,
        "all" => t::all,
        "nan" => t::nan,
        "truthy" => t::truthy,
        "falsy" => t::falsy,
        "abs" => t::is_abs,
        "is_abs" => t::is_abs,
        "exists" => t::exists,
        "directory" => t::is_dir,
        "is_dir" => t::is_dir,
        "file" => t::is_file,
        "is_file" => t::is_file,
        "link" => t::is_link,
        "is_link" => t::is_link,
        "link_exists" => t::link_exists,
    });

    // Jinja2 builtin tests whose minijinja versions differ from Jinja2.
    env.add_test("number", t::is_number);
    env.add_test("sequence", t::is_sequence);
    env.add_test("iterable", t::is_iterable);
    env.add_test("lower", t::is_lower);
    env.add_test("upper", t::is_upper);
    // ansible-core's internal collection, used by its own integration targets.
    env.add_test(
        "ansible._protomatter.tagged_with",
        super::data_tags::tagged_with,
    );

    super::jinja_builtins::register(env);
    super::jinja_globals::register(env);
    env.add_function("dict", f::dict_function);
    env.add_function("now", super::clock::now);
    env.add_filter("strftime", super::clock::strftime);
    pycompat::register(env);
}
