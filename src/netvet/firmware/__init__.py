"""Is the software what was reviewed? Firmware walking, matching and the equivalence verdict."""

from netvet.firmware.compare import compare
from netvet.firmware.limits import Limits
from netvet.firmware.result import Comparison, Finding, Location, Verdict

__all__ = ["Comparison", "Finding", "Limits", "Location", "Verdict", "compare"]
