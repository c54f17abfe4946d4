"""The exception root of netvet. Library code raises these; only the CLI turns them into exits."""


class NetvetError(Exception):
    """Root of every error netvet raises on purpose."""


class InputError(NetvetError):
    """The input cannot be read or is not what it claims to be (exit code 2)."""
