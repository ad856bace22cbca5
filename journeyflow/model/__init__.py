"""The validated journey model (pydantic v2, frozen)."""
