"""Tripwires: the diff compares every part of the model that reaches customers.

The diff compares journey-wide declarations and messages field by field. When the model
grows a field, these tests fail until the diff compares it too (or the field is listed
here as one that cannot reach customers), so a new language feature is never silently
left out of ``journeyflow diff``.
"""

from __future__ import annotations

from journeyflow.model import journey as m

# field -> the change kinds that report it (see journeyflow/versions/declarations.py)
JOURNEY_FIELDS = {
    "name": "journey.name", "version": "journey.version", "timezone": "journey.timezone",
    "timezone_attribute": "journey.timezone_attribute", "consents": "consent",
    "holdout": "holdout",
    "file": None,  # where it was read from: not part of the journey
    "attributes": "attribute", "events": "event, event.field",
    "messages": "message, message.*", "channels": "channel", "limits": "limit",
    "quiet_hours": "quiet_hours", "send_window": "send_window", "segments": "segment",
    "goals": "goal", "value": "value", "reentry": "reentry", "migration": "migrate",
    "anywhere": "rule*, action* in the anywhere group", "stages": "stage*, rule*, action*",
}
MESSAGE_FIELDS = {"name", "channel", "subject", "body", "template", "transactional",
                  "location"}
# Stages, rules and triggers are compared whole (journeyflow/versions/canon.py), so a new
# field of theirs is compared without a change here; these lists only make sure of it.
STAGE_FIELDS = {"name", "start", "final", "rules", "location"}
RULE_FIELDS = {"trigger", "guard", "target", "body", "location", "stage"}


def _names(part: type[m.Part]) -> set[str]:
    return set(part.__struct_fields__)


def test_every_journey_field_is_compared() -> None:
    assert set(_names(m.JourneyModel)) == set(JOURNEY_FIELDS)


def test_every_message_field_is_compared() -> None:
    assert set(_names(m.Message)) == MESSAGE_FIELDS


def test_stage_and_rule_fields() -> None:
    assert set(_names(m.Stage)) == STAGE_FIELDS
    assert set(_names(m.Rule)) == RULE_FIELDS
