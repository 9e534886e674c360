#!/usr/bin/env python3
"""Check a tree rendered by render.yml (RENDER_ROOT/HOST/...) with real validators
and structural checks that need no running service:

  *.yaml / *.yml          parse (compose, fluent-bit, Grafana provisioning, Prometheus)
  compose.yaml            docker compose config -q (Compose v2 plugin)
  prometheus.yml          promtool check config
  fluent-bit.yaml         check_fluent_bit.py (documented keys per plugin)
  *.service / *.timer     systemd-analyze verify (missing binaries the roles install are allowed)
  conf.d/default.conf     check_nginx.sh (nginx -t)
  daemon.json, dashboards JSON parse; Grafana: every datasource uid is the provisioned one
  saved_objects.ndjson    one JSON object per line; Kibana checks: known types, unique
                          ids, every reference resolves, searchSourceJSON/panelsJSON/visState
                          parse, indexRefName/panelRefName have their references, dashboard
                          attributes only the allowed ones (Kibana's schema forbids unknowns)
Usage: check_rendered.py RENDER_ROOT [EXPECTED_HOST...]; prints one line per check; exit 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# Binaries the roles themselves install (absent on the machine running the check).
ROLE_BINARIES = {"/usr/local/bin/node_exporter", "/usr/local/bin/platform-loggen"}
DASHBOARD_ATTRS = {"title", "description", "panelsJSON", "optionsJSON", "timeRestore", "timeFrom",
                   "timeTo", "refreshInterval", "kibanaSavedObjectMeta", "version", "controlGroupInput"}
KIBANA_TYPES = {"index-pattern", "search", "visualization", "dashboard", "lens"}

failures = []
checks = 0


def ok(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"FAIL {what}")
    return cond


def run(cmd, what, allow=None):
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = (p.stdout + p.stderr).strip()
    if allow is not None:  # every line of output must be an allowed one, whatever the exit code
        bad = [l for l in out.splitlines() if l.strip() and not allow(l)]
        return ok(not bad, f"{what}: {' | '.join(bad)}")
    return ok(p.returncode == 0, f"{what}: {out[-2000:]}")


def check_kibana(path):
    objects = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except ValueError as e:
                ok(False, f"{path}:{n}: not JSON: {e}")
    ids = {(o.get("type"), o.get("id")) for o in objects}
    ok(len(ids) == len(objects), f"{path}: duplicate type/id")
    for o in objects:
        where = f"{path}: {o.get('type')}/{o.get('id')}"
        ok(o.get("type") in KIBANA_TYPES, f"{where}: unknown type")
        attrs = o.get("attributes") or {}
        ok(bool(attrs.get("title")), f"{where}: no title")
        refs = o.get("references", [])
        ref_names = {r["name"] for r in refs}
        for r in refs:
            ok((r["type"], r["id"]) in ids, f"{where}: reference {r['name']} -> {r['type']}/{r['id']} does not resolve")
        meta = (attrs.get("kibanaSavedObjectMeta") or {}).get("searchSourceJSON")
        if meta is not None:
            try:
                src = json.loads(meta)
                if "indexRefName" in src:
                    ok(src["indexRefName"] in ref_names, f"{where}: indexRefName {src['indexRefName']} has no reference")
            except ValueError:
                ok(False, f"{where}: searchSourceJSON is not JSON")
        if o["type"] == "index-pattern":
            ok(bool(attrs.get("timeFieldName")), f"{where}: no timeFieldName")
        if o["type"] in ("search", "visualization"):
            ok(any(r["type"] == "index-pattern" for r in refs), f"{where}: no data view reference")
        if o["type"] == "visualization":
            try:
                vis = json.loads(attrs["visState"])
                ok(vis.get("type") and isinstance(vis.get("aggs"), list) and vis["aggs"], f"{where}: visState without type/aggs")
                for agg in vis.get("aggs", []):
                    ok({"id", "type", "schema", "params"} <= set(agg), f"{where}: agg {agg} incomplete")
            except (ValueError, KeyError):
                ok(False, f"{where}: visState missing or not JSON")
        if o["type"] == "dashboard":
            ok(set(attrs) <= DASHBOARD_ATTRS, f"{where}: attributes not allowed: {set(attrs) - DASHBOARD_ATTRS}")
            try:
                panels = json.loads(attrs["panelsJSON"])
                ok(len(panels) > 0, f"{where}: no panels")
                for p in panels:
                    want = f"{p['panelIndex']}:{p['panelRefName']}"
                    ok(want in ref_names, f"{where}: panel {p['panelIndex']} has no reference {want}")
                    ok(p["gridData"]["i"] == p["panelIndex"], f"{where}: gridData.i != panelIndex")
            except (ValueError, KeyError) as e:
                ok(False, f"{where}: panelsJSON: {e}")
    titles = {o["attributes"]["title"] for o in objects if o["type"] == "dashboard"}
    ok({"Logs", "Traffic"} <= titles, f"{path}: dashboards Logs and Traffic expected, got {titles}")
    searches = {o["id"] for o in objects if o["type"] == "search"}
    ok({"platform-errors", "platform-5xx", "platform-by-service", "platform-by-host"} <= searches, f"{path}: saved searches missing")
    return objects


def check_grafana(root):
    ds_file = os.path.join(root, "provisioning/datasources/platform.yaml")
    with open(ds_file) as f:
        ds = yaml.safe_load(f)
    uids = [d["uid"] for d in ds["datasources"]]
    ok(len(uids) == 1 and uids[0], f"{ds_file}: one datasource with a fixed uid")
    uid = uids[0]
    dash_dir = os.path.join(root, "dashboards")
    names = sorted(os.listdir(dash_dir))
    ok(len(names) >= 4, f"{dash_dir}: 4 dashboards expected, got {names}")
    for name in names:
        path = os.path.join(dash_dir, name)
        with open(path) as f:
            d = json.load(f)
        ok("id" not in d and d.get("uid"), f"{path}: needs uid, no id")
        for p in d.get("panels", []):
            ok(p.get("datasource", {}).get("uid") == uid, f"{path}: panel {p.get('title')} datasource uid != {uid}")
            for t in p.get("targets", []):
                ok(t.get("datasource", {}).get("uid") == uid, f"{path}: target of {p.get('title')} datasource uid != {uid}")
                ok(bool(t.get("expr")), f"{path}: target without expr")


def main():
    root = sys.argv[1]
    expected = sys.argv[2:]
    hosts = sorted(os.listdir(root))
    for h in expected:
        ok(h in hosts, f"{root}: nothing rendered for {h}")
    counts = {}
    for host in hosts:
        for dirpath, _, files in os.walk(os.path.join(root, host)):
            for name in files:
                path = os.path.join(dirpath, name)
                kind = None
                if name.endswith((".yaml", ".yml")):
                    with open(path) as f:
                        ok(yaml.safe_load(f) is not None, f"{path}: empty YAML")
                    kind = "yaml"
                if name == "compose.yaml":
                    run(["docker", "compose", "-p", "check", "-f", path, "config", "-q"], f"{path}: docker compose config")
                    kind = "compose"
                elif name == "prometheus.yml":
                    run(["promtool", "check", "config", path], f"{path}: promtool")
                    kind = "prometheus"
                elif name == "fluent-bit.yaml":
                    run([sys.executable, os.path.join(HERE, "check_fluent_bit.py"), path], f"{path}: fluent-bit schema")
                    kind = "fluent-bit"
                elif name.endswith((".service", ".timer")):
                    units = [path]
                    if name.endswith(".timer"):
                        units.append(path[: -len(".timer")] + ".service")
                    allow = lambda l: any(f"Command {b} is not executable" in l for b in ROLE_BINARIES)
                    run(["systemd-analyze", "verify", "--man=no"] + units, f"{path}: systemd-analyze verify", allow)
                    kind = "systemd"
                elif name == "default.conf":
                    run([os.path.join(HERE, "check_nginx.sh"), path], f"{path}: nginx -t")
                    kind = "nginx"
                elif name.endswith(".json"):
                    with open(path) as f:
                        json.load(f)
                    kind = "json"
                elif name.endswith(".ndjson"):
                    check_kibana(path)
                    kind = "kibana"
                elif name == "platform-loggen":
                    run(["sh", "-n", path], f"{path}: sh -n")
                    kind = "sh"
                if kind:
                    counts[kind] = counts.get(kind, 0) + 1
        grafana = os.path.join(root, host, "opt/platform/grafana")
        if os.path.isfile(os.path.join(grafana, "provisioning/datasources/platform.yaml")):
            check_grafana(grafana)
    print(f"checked {sum(counts.values())} files ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), {checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
