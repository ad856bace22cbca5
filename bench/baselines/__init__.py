"""Baselines for ``bench/interpreter.py``: the lifecycle journey written by hand and on
the ``transitions`` library, the seeded workload they all run, and the worker harness."""
