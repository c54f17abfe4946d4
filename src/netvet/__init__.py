"""netvet: who made the equipment, is it allowed here, is its firmware what was reviewed."""

__version__ = "0.1.0"
