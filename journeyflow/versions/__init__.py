"""Versions of a journey: what changed between two of them, for the people who review an
edit while customers are inside the journey."""

from journeyflow.versions.changes import Change, Group, JourneyDiff, RuleRef, Side
from journeyflow.versions.diff import diff_journeys

__all__ = ["Change", "Group", "JourneyDiff", "RuleRef", "Side", "diff_journeys"]
