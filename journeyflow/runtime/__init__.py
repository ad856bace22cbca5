"""Stepping customers through a compiled journey (docs/language.md)."""
