"""The `wpflow` command line: the Typer app (`app`), one module per command group (`db`, `ops`,
`report`, `validate`, `init`), shared options (`options`), failures mapped to one line and an
exit code (`errors`) and listings that fit the terminal (`terminal`).

The top of wpflow: may import every wpflow package, and — inside the commands that need them,
so `wpflow validate` never loads Prefect — `flows` and `orchestration`.
"""
