"""The JSON shape of ``journeyflow diff --format json``, as a JSON Schema.

Tools may validate against it; docs/diff.md describes each field in words.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DIFF_SCHEMA", "KINDS"]

KINDS = (
    "journey.name", "journey.version", "journey.timezone", "journey.timezone_attribute",
    "attribute", "event", "event.field", "message", "message.channel", "message.subject",
    "message.body", "message.template", "message.transactional", "consent", "holdout", "channel",
    "limit", "quiet_hours", "send_window", "segment", "goal", "value", "reentry", "migrate",
    "stage", "stage.start", "stage.final", "rule", "rule.trigger", "rule.guard", "rule.target",
    "rule.order", "action", "action.target", "action.timer", "action.condition", "action.split",
    "action.split_position",
)

_SIDE: dict[str, Any] = {
    "type": "object",
    "required": ["file", "line", "text"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "text": {"type": ["string", "null"]},
    },
}
_VERSION: dict[str, Any] = {
    "type": "object",
    "required": ["file", "journey", "version"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string"},
        "journey": {"type": "string"},
        "version": {"type": ["integer", "null"]},
    },
}
_INDEX: dict[str, Any] = {"type": ["integer", "null"], "minimum": 0}
_RULE: dict[str, Any] = {
    "type": "object",
    "required": ["stage", "trigger", "old_index", "new_index"],
    "additionalProperties": False,
    "properties": {
        "stage": {"type": ["string", "null"]},
        "trigger": {"type": "string"},
        "old_index": _INDEX,
        "new_index": _INDEX,
    },
}
_CHANGE: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "verb", "group", "subject", "old", "new", "stages", "everyone",
                 "rules", "note"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": list(KINDS)},
        "verb": {"enum": ["added", "removed", "changed", "renamed", "reordered", "moved"]},
        "group": {
            "type": "object",
            "required": ["kind", "name"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["journey", "anywhere", "stage"]},
                "name": {"type": ["string", "null"]},
            },
        },
        "subject": {"type": "string"},
        "old": _SIDE,
        "new": _SIDE,
        "stages": {"type": "array", "items": {"type": "string"}},
        "everyone": {"type": "boolean"},
        "rules": {"type": "array", "items": _RULE},
        "note": {"type": ["string", "null"]},
        # with --store only: the in-flight customers it touches, the migration it blocks
        "in_flight": {"type": "integer", "minimum": 0},
        "blocks": {"type": "array", "items": {"type": "string"}},
    },
}
_STORE: dict[str, Any] = {
    "type": "object",
    "required": ["url", "customers", "by_stage", "migration"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string"},
        "customers": {"type": "integer", "minimum": 0},
        "by_stage": {"type": "object", "additionalProperties": {"type": "integer"}},
        "migration": {"type": "object"},  # the report of `journeyflow migrate --format json`
    },
}
DIFF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "journeyflow diff",
    "type": "object",
    "required": ["old", "new", "changed", "count", "changes"],
    "additionalProperties": False,
    "properties": {
        "old": _VERSION,
        "new": _VERSION,
        "changed": {"type": "boolean"},
        "count": {"type": "integer", "minimum": 0},
        "changes": {"type": "array", "items": _CHANGE},
        "store": _STORE,  # with --store only
    },
}
