"""Errors of the inventory package.

`BadValue` is raised for one malformed cell (a MAC, an OID): importers count it against the row
and go on. `RegistryUnavailable` says a registry could not be refreshed; the bundled snapshot
stays in use. `DataError` says shipped or cached data (registries, vendor families) is broken.
"""

from netvet.errors import InputError, NetvetError


class InventoryError(NetvetError):
    """Root of inventory errors."""


class BadValue(InventoryError, ValueError):
    """One value (MAC address, OID, enterprise number) is malformed."""


class RegistryUnavailable(InventoryError, InputError):
    """An official registry could not be downloaded (offline, refused, truncated)."""


class DataError(InventoryError, InputError):
    """Registry snapshots or the vendor-families file are unreadable or invalid."""
