"""The command line: a thin Typer layer that parses, calls the library, renders and exits."""
