"""journeyflow: customer-lifecycle journeys as code.

>>> import journeyflow
>>> j = journeyflow.loads('journey "hello"\\nevent hi {}\\n'
...     'stage a start { on hi -> b }\\nstage b final')
>>> j.stages
['a', 'b']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeyflow.errors import CompileError, Diagnostic, JourneyError, JourneySyntaxError
    from journeyflow.journey import Journey, load, loads
    from journeyflow.runtime.engine import Engine
    from journeyflow.runtime.models import CustomerState, Event

__all__ = [
    "CompileError",
    "Diagnostic",
    "CustomerState",
    "Engine",
    "Event",
    "Journey",
    "JourneyError",
    "JourneySyntaxError",
    "load",
    "loads",
]

# Where each public name lives. They are imported on first use, so that
# ``import journeyflow.runtime.command`` (every command does the like) does not pay
# for the compiler, the parser and the engine when it needs only one of them.
_HOMES = {
    "CompileError": "journeyflow.errors",
    "Diagnostic": "journeyflow.errors",
    "JourneyError": "journeyflow.errors",
    "JourneySyntaxError": "journeyflow.errors",
    "Journey": "journeyflow.journey",
    "load": "journeyflow.journey",
    "loads": "journeyflow.journey",
    "CustomerState": "journeyflow.runtime.models",
    "Engine": "journeyflow.runtime.engine",
    "Event": "journeyflow.runtime.models",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'journeyflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
