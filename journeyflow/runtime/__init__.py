"""Stepping customers through a compiled journey (LANGUAGE.md sections 6, 8, 9, 11)."""
