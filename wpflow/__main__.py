"""`python -m wpflow`: the same command line as the `wpflow` script, for a venv not on PATH."""

from wpflow.cli.app import main

main()
