"""Orchestration infrastructure: Prefect servers of our own, the API a command runs against,
`wpflow serve`, the production topology, deployments and workers, and the one patch of
Prefect's code (`orchestration.prefect_patches`). It sits above `flows/`."""
