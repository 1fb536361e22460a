"""Only model/kernel.py touches SimPy's private state.

The kernel works on SimPy's scheduler internals for speed, and is proven against plain SimPy by
tests/model/test_kernel_vs_simpy.py on the pinned SimPy. Anywhere else, a private access would be
neither proven nor noticed when SimPy changes, so the rest of the model goes through the kernel
or SimPy's public API (``env.now``, ``env.timeout``, ``a | b``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import simpy

import flowsim

SRC = Path(flowsim.__file__).resolve().parent
KERNEL = SRC / "model" / "kernel.py"
OWN_NAMES = {"_env"}
"""Private names SimPy uses that flowsim's own classes use for their own attributes."""


def simpy_private_names() -> set[str]:
    """The private attributes of SimPy's environment, events, processes and resources, and the
    resource methods that grant and release."""
    env = simpy.Environment()

    def process() -> simpy.events.ProcessGenerator:
        yield env.timeout(1)

    resource = simpy.PriorityResource(env, 1)
    objects = [
        env,
        env.event(),
        env.timeout(1),
        env.process(process()),
        resource,
        resource.request(),
    ]
    names = {
        n for obj in objects for n in vars(obj) if n.startswith("_") and not n.startswith("__")
    }
    methods = {
        n for n in vars(simpy.resources.base.BaseResource) if n.startswith(("_do", "_trigger"))
    }
    return (names | methods) - OWN_NAMES


def private_accesses(source: str, names: set[str]) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in names
    ]


def test_the_private_names_are_simpys() -> None:
    names = simpy_private_names()
    assert {"_now", "_queue", "_eid", "_ok", "_value", "_trigger_put"} <= names


def test_only_the_kernel_touches_simpy_privates() -> None:
    names = simpy_private_names()
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: .{attr}"
        for path in sorted(SRC.rglob("*.py"))
        if path != KERNEL
        for line, attr in private_accesses(path.read_text(encoding="utf-8"), names)
    ]
    assert not found, "use model/kernel.py or SimPy's public API:\n" + "\n".join(found)


def test_the_check_sees_a_private_access() -> None:
    names = simpy_private_names()
    assert private_accesses("def now(env):\n    return env._now\n", names) == [(2, "_now")]
    assert private_accesses("def now(env):\n    return env.now\n", names) == []
    assert private_accesses(KERNEL.read_text(encoding="utf-8"), names)
