"""flowsim: simulate patient flow through an urgent-care and frailty system.

``flowsim.compare``, ``flowsim.warmup`` and ``flowsim.auto_replications`` (see `flowsim.api`)
are imported on first use, so ``import flowsim`` stays quick for the command line.
"""

from typing import Any

from flowsim._version import __version__ as __version__

_API = ("compare", "run_kpis", "warmup", "auto_replications")


def __getattr__(name: str) -> Any:
    if name in _API:
        from flowsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'flowsim' has no attribute {name!r}")
