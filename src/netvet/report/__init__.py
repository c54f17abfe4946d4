"""Presenters: pure functions from result values (firmware.result.Comparison, ...) to text.

One module per output format; none of them reads files, walks images or decides a verdict.
"""
