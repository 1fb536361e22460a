"""Experiments: replications, executors (this process, local processes, Dask), sweeps and the
result store.

Imports the model and the scenario layers only (never analysis or report): a caller that wants
KPIs computed where a replication runs passes the reducing function in.
"""

from flowsim.experiment.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
)
from flowsim.experiment.runner import (
    ReplicationTask,
    iter_replications,
    run_replication,
    run_replications,
)

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "ReplicationTask",
    "SerialExecutor",
    "default_workers",
    "iter_replications",
    "run_replication",
    "run_replications",
]
