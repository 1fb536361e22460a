"""Experiments: replications of a scenario, run serially or in worker processes.

Imports the model and the scenario layers only (never analysis or report).
"""

from flowsim.experiment.runner import default_workers, iter_replications, run_replications

__all__ = ["default_workers", "iter_replications", "run_replications"]
