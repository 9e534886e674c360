#!/usr/bin/env python3
"""Check a fluent-bit YAML configuration against the documented section and key
names of the plugins the platform uses (fluent-bit-docs: administration/
configuring-fluent-bit/yaml/*, pipeline/inputs|filters|outputs/*.md).

fluent-bit itself only rejects unknown keys from v4.2 (`--dry-run`), and no
image can be pulled here, so this is the check the render test can run.
Usage: check_fluent_bit.py FILE   (exit 0 = valid; errors on stderr)
"""
import re
import sys

import yaml

SECTIONS = {"env", "includes", "service", "pipeline", "parsers", "multiline_parsers", "plugins", "upstream_servers", "customs"}
SERVICE = {
    "flush", "grace", "daemon", "dns.mode", "dns.resolver", "dns.prefer_ipv4", "log_file", "log_level",
    "http_server", "http_listen", "http_port", "health_check", "hc_errors_count", "hc_retry_failure_count",
    "hc_period", "storage.path", "storage.sync", "storage.checksum", "storage.metrics",
    "storage.backlog.mem_limit", "storage.max_chunks_up", "storage.delete_irrecoverable_chunks",
    "parsers_file", "plugins_file", "streams_file", "coro_stack_size", "scheduler.cap", "scheduler.base",
    "json.convert_nan_to_null", "hot_reload", "sp.convert_from_str_to_num",
}
INPUT_COMMON = {"name", "tag", "alias", "log_level", "mem_buf_limit", "storage.type",
                "storage.pause_on_chunks_overlimit", "threaded", "routable"}
FILTER_COMMON = {"name", "match", "match_regex", "alias", "log_level"}
OUTPUT_COMMON = {"name", "match", "match_regex", "alias", "log_level", "retry_limit",
                 "storage.total_limit_size", "workers", "tls", "tls.verify", "tls.ca_file",
                 "tls.crt_file", "tls.key_file", "tls.debug", "tls.vhost"}
PLUGINS = {
    ("input", "forward"): {"listen", "port", "unix_path", "unix_perm", "buffer_chunk_size",
                           "buffer_max_size", "tag_prefix", "shared_key", "self_hostname",
                           "security.users", "empty_shared_key"},
    ("input", "tail"): {"path", "exclude_path", "path_key", "offset_key", "buffer_chunk_size",
                        "buffer_max_size", "skip_long_lines", "skip_empty_lines", "read_from_head",
                        "refresh_interval", "rotate_wait", "ignore_older", "db", "db.sync",
                        "db.locking", "db.journal_mode", "db.compare_filename", "parser", "key",
                        "inotify_watcher", "tag_regex", "static_batch_size", "file_cache_advise",
                        "multiline.parser", "multiline.key_content", "docker_mode",
                        "docker_mode_flush", "docker_mode_parser", "unicode.encoding",
                        "generic.encoding", "exit_on_eof"},
    ("input", "kafka"): {"brokers", "topics", "format", "group_id", "poll_ms", "client_id",
                         "buffer_max_size", "enable_auto_commit", "poll_timeout_ms"},
    ("filter", "lua"): {"script", "call", "code", "type_int_key", "type_array_key",
                        "protected_mode", "time_as_table", "enable_flb_null"},
    ("filter", "rewrite_tag"): {"rule", "emitter_name", "emitter_storage.type", "emitter_mem_buf_limit"},
    ("filter", "parser"): {"key_name", "parser", "preserve_key", "reserve_data", "unescape_key"},
    ("filter", "record_modifier"): {"record", "remove_key", "allowlist_key", "whitelist_key", "uuid_key"},
    ("filter", "nest"): {"operation", "wildcard", "nest_under", "nested_under", "add_prefix", "remove_prefix"},
    ("output", "kafka"): {"format", "message_key", "message_key_field", "timestamp_key",
                          "timestamp_format", "brokers", "topics", "topic_key", "dynamic_topic",
                          "queue_full_retries", "raw_log_key", "schema_str", "schema_id"},
    ("output", "es"): {"host", "port", "path", "compress", "buffer_size", "pipeline", "aws_auth",
                       "aws_region", "aws_sts_endpoint", "aws_role_arn", "aws_external_id",
                       "aws_service_name", "aws_profile", "cloud_id", "cloud_auth", "http_user",
                       "http_passwd", "http_api_key", "index", "type", "logstash_format",
                       "logstash_prefix", "logstash_prefix_separator", "logstash_prefix_key",
                       "logstash_dateformat", "time_key", "time_key_format", "time_key_nanos",
                       "include_tag_key", "tag_key", "generate_id", "id_key", "write_operation",
                       "replace_dots", "trace_output", "trace_error", "current_time_index",
                       "suppress_type_name", "upstream"},
}
# librdkafka properties pass through with this prefix (kafka input and output).
PASSTHROUGH = {("input", "kafka"): "rdkafka.", ("output", "kafka"): "rdkafka."}
REQUIRED = {
    ("input", "kafka"): {"brokers", "topics", "tag"},
    ("input", "tail"): {"path", "tag"},
    ("filter", "lua"): {"call"},
    ("filter", "rewrite_tag"): {"rule"},
    ("filter", "parser"): {"key_name", "parser"},
    ("output", "kafka"): {"brokers", "topics"},
    ("output", "es"): {"host"},
}
COMMON = {"input": INPUT_COMMON, "filter": FILTER_COMMON, "output": OUTPUT_COMMON}
PARSER_KEYS = {"name", "format", "regex", "time_key", "time_format", "time_keep", "time_offset",
               "time_strict", "types", "decode_field", "decode_field_as", "skip_empty_values", "time_system_timezone"}


def check(doc):
    errors = []
    if not isinstance(doc, dict):
        return ["the file is not a YAML mapping"]
    for key in doc:
        if key not in SECTIONS:
            errors.append(f"unknown section {key!r}")
    for key in doc.get("service") or {}:
        if key not in SERVICE:
            errors.append(f"service: unknown key {key!r}")
    parsers = set()
    for p in doc.get("parsers") or []:
        for key in p:
            if key not in PARSER_KEYS:
                errors.append(f"parsers: unknown key {key!r}")
        if p.get("format") not in {"json", "regex", "logfmt", "ltsv"}:
            errors.append(f"parsers: {p.get('name')}: bad format {p.get('format')!r}")
        parsers.add(p.get("name"))
    pipeline = doc.get("pipeline") or {}
    for key in pipeline:
        if key not in {"inputs", "filters", "outputs"}:
            errors.append(f"pipeline: unknown key {key!r}")
    for section, kind in (("inputs", "input"), ("filters", "filter"), ("outputs", "output")):
        for i, plugin in enumerate(pipeline.get(section) or []):
            name = plugin.get("name")
            where = f"pipeline.{section}[{i}] ({name})"
            known = PLUGINS.get((kind, name))
            if known is None:
                errors.append(f"{where}: plugin not in the schema")
                continue
            prefix = PASSTHROUGH.get((kind, name))
            for key in plugin:
                if key in known or key in COMMON[kind] or (prefix and key.startswith(prefix)):
                    continue
                errors.append(f"{where}: unknown key {key!r}")
            for key in REQUIRED.get((kind, name), set()):
                if key not in plugin:
                    errors.append(f"{where}: missing {key!r}")
            if kind in ("filter", "output") and "match" not in plugin and "match_regex" not in plugin:
                errors.append(f"{where}: missing 'match'")
            if kind == "input" and name != "forward" and "tag" not in plugin:
                errors.append(f"{where}: missing 'tag'")
            if name == "rewrite_tag":
                rules = plugin["rule"] if isinstance(plugin["rule"], list) else [plugin["rule"]]
                for rule in rules:
                    if len(str(rule).split()) != 4:
                        errors.append(f"{where}: rule {rule!r} is not 4 fields (no spaces in the regex)")
                if plugin.get("match") == "*":
                    errors.append(f"{where}: match '*' loops the emitted records")
            if name == "parser" and plugin.get("parser") not in parsers:
                errors.append(f"{where}: parser {plugin.get('parser')!r} is not defined in parsers:")
            if name == "lua" and "code" not in plugin and "script" not in plugin:
                errors.append(f"{where}: needs code or script")
            if name == "lua" and "code" in plugin and not re.search(r"function\s+%s\s*\(" % re.escape(str(plugin["call"])), plugin["code"]):
                errors.append(f"{where}: code does not define function {plugin['call']}")
            if (kind, name) == ("output", "es") and str(plugin.get("suppress_type_name")).lower() not in ("on", "true"):
                errors.append(f"{where}: Elasticsearch 8 needs suppress_type_name: on")
            if "storage.type" in plugin and plugin["storage.type"] == "filesystem" and "storage.path" not in (doc.get("service") or {}):
                errors.append(f"{where}: storage.type filesystem needs service.storage.path")
    return errors


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    errors = check(doc)
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
