"""Orchestration infrastructure: Prefect servers of our own, `wpflow serve`, the production
topology, deployments, workers and the Dask task runner. It sits above `flows/`."""
