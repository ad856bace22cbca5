"""journeyflow: customer-lifecycle journeys as code.

>>> import journeyflow
>>> j = journeyflow.loads('journey "hello"\\nevent hi {}\\n'
...     'stage a start { on hi -> b }\\nstage b final')
>>> j.stages
['a', 'b']
"""

from journeyflow.errors import CompileError, Diagnostic, JourneyError, JourneySyntaxError
from journeyflow.journey import Journey, load, loads
from journeyflow.runtime.engine import CustomerState, Engine
from journeyflow.runtime.events import Event

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
