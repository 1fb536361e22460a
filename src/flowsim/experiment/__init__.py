"""Experiments: run settings, the one runner (replications of one or more scenarios, paired on
common random numbers), executors (this process, local processes, Dask), a persistent worker
pool, the replications stopping rule, sweeps and the result store.

Imports the model and the scenario layers only (never analysis or report): a caller that wants
KPIs computed where a replication runs passes the reducing function in.
"""

from flowsim.experiment.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    choose_executor,
    default_workers,
)
from flowsim.experiment.runner import (
    ReplicationTask,
    iter_replications,
    replications_in_order,
    run_paired,
    run_replication,
    run_replications,
)
from flowsim.experiment.settings import RunSettings

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "ReplicationTask",
    "RunSettings",
    "SerialExecutor",
    "choose_executor",
    "default_workers",
    "iter_replications",
    "replications_in_order",
    "run_paired",
    "run_replication",
    "run_replications",
]
