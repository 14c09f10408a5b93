"""The `wpflow` command line: the Typer app, one module per command group, shared options,
error mapping to exit codes and terminal output."""
