"""Errors of the firmware walker.

`NotThisFormat` is an expected decline, not an error: a probe matched but the bytes are not the
format after all. `CorruptContainer` and `LimitExceeded` end the walk of one container and become
a NOT_COMPARED finding; the comparison goes on.
"""

from netvet.errors import NetvetError


class FirmwareError(NetvetError):
    """Root of firmware walking errors."""


class NotThisFormat(FirmwareError):
    """The probe was a false positive; try the next format or treat the bytes as a plain file."""


class CorruptContainer(FirmwareError):
    """The container is truncated, malformed or hostile."""


class LimitExceeded(FirmwareError):
    """A configured bound (depth, bytes, ratio, entries, time) was reached."""
