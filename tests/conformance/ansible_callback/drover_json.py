# -*- coding: utf-8 -*-
"""drover_json: an Ansible stdout callback that prints what drover's `--format json`
prints, one JSON object per line, so the differential suite (tests/conformance.rs) can
compare task outcomes without scraping coloured text.

Lines: {"event": "task_result", "host", "task", "status", "changed", "item", "handler",
"result"} and {"event": "recap", "hosts": {HOST: {ok, changed, unreachable, failed,
skipped, rescued, ignored}}}. Statuses use drover's vocabulary: ok, changed, skipped,
failed, ignored (failed with ignore_errors), unreachable. A loop task prints one line per
item (with "item", the loop label) and no aggregate line, as drover does; an empty loop
prints its aggregate (skipped) line without an item.

Load with ANSIBLE_CALLBACK_PLUGINS=<this dir> ANSIBLE_STDOUT_CALLBACK=drover_json.
"""
from __future__ import annotations

import json
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: drover_json
    type: stdout
    short_description: one JSON line per task result, in drover's event vocabulary
    description:
      - Used by drover's differential conformance suite.
"""


INCLUDES = frozenset(
    a + n
    for a in ("", "ansible.builtin.", "ansible.legacy.")
    for n in ("include_tasks", "include_role")
)


def _get(obj, public, private):
    v = getattr(obj, public, None)
    if v is None:
        v = getattr(obj, private, None)
    return v


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "drover_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._out = sys.stdout

    def _emit(self, obj):
        self._out.write(json.dumps(obj, default=str, sort_keys=False) + "\n")
        self._out.flush()

    @staticmethod
    def _plain(value):
        try:
            return json.loads(json.dumps(value, default=str))
        except Exception:  # pragma: no cover - defensive
            return str(value)

    def _task_result(self, result, status, item=None):
        task = _get(result, "task", "_task")
        host = _get(result, "host", "_host")
        res = _get(result, "result", "_result") or {}
        if hasattr(res, "copy"):
            res = res.copy()
        line = {
            "event": "task_result",
            "host": host.get_name(),
            "task": task.get_name(),
            "status": status,
            "changed": bool(res.get("changed", False)),
            "item": item,
            "handler": task.__class__.__name__ == "Handler",
            "action": task.action,
            "result": self._plain(
                {k: v for k, v in res.items() if not str(k).startswith("_ansible")}
            ),
        }
        self._emit(line)

    @staticmethod
    def _is_loop(result):
        task = _get(result, "task", "_task")
        res = _get(result, "result", "_result") or {}
        return bool(task.loop is not None or task.loop_with) and "results" in res

    @staticmethod
    def _label(result):
        task = _get(result, "task", "_task")
        res = _get(result, "result", "_result") or {}
        label = res.get("_ansible_item_label")
        if label is None:
            loop_var = res.get("ansible_loop_var", "item")
            label = res.get(loop_var)
        # As the default callback shows it: "(item=%s)" % label
        return str(label)

    def _aggregate(self, result, status):
        if self._is_loop(result):
            res = _get(result, "result", "_result") or {}
            if res.get("results"):
                return
        self._task_result(result, status)

    @staticmethod
    def _is_include(result):
        task = _get(result, "task", "_task")
        return task.action in INCLUDES

    # task-level results
    def v2_runner_on_ok(self, result):
        if self._is_include(result):
            return  # reported by v2_playbook_on_include, as drover's "included" event
        res = _get(result, "result", "_result") or {}
        self._aggregate(result, "changed" if res.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._aggregate(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._aggregate(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._task_result(result, "unreachable")

    # loop items
    def v2_runner_item_on_ok(self, result):
        if self._is_include(result):
            return
        res = _get(result, "result", "_result") or {}
        self._task_result(result, "changed" if res.get("changed") else "ok", self._label(result))

    def v2_runner_item_on_failed(self, result):
        self._task_result(result, "failed", self._label(result))

    def v2_runner_item_on_skipped(self, result):
        self._task_result(result, "skipped", self._label(result))

    def v2_playbook_on_include(self, included_file):
        for host in included_file._hosts:
            self._emit(
                {
                    "event": "included",
                    "host": host.get_name(),
                    "file": str(included_file._filename),
                }
            )

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in sorted(stats.processed.keys()):
            s = stats.summarize(h)
            hosts[h] = {
                "ok": s["ok"],
                "changed": s["changed"],
                "unreachable": s["unreachable"],
                "failed": s["failures"],
                "skipped": s["skipped"],
                "rescued": s["rescued"],
                "ignored": s["ignored"],
            }
        self._emit({"event": "recap", "hosts": hosts})
