"""The validated journey model (frozen structs the compiler makes)."""
