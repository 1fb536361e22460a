"""Fuzzed scenario input: whatever a file holds, loading it ends in a Scenario or a ScenarioError
that says where the problem is, never another exception, and never runs code.

2,500 mutants of the seed corpus (`tests/properties/fuzz_corpus/*.yaml`: ``valid_*`` seeds that
load and ``bad_*`` seeds, each a hostile input that must be refused; and
`scenarios/baseline.yaml`) are made by seeded `random.Random`s, so every run tries the same
cases and case ``i`` can be rebuilt alone: ``make_case(i, load_seeds(), sentinel)``. A mutant
applies one to three changes to
the parsed data (delete, retype or rename keys; wrong types, nulls, huge, negative, NaN and
infinite numbers; long, unicode and YAML-looking strings; deep nesting; broken distributions and
splits; ``extends`` to missing, cyclic, non-YAML and folder paths) and/or to the text (deleted,
repeated and re-indented lines, tabs, truncation, stray YAML characters, ``!!python/...`` tags
whose payloads would create a file, unreadable standard tags, anchors, recursive aliases, a
"billion laughs", control characters, a BOM, CRLF, invalid UTF-8).

Each outcome must be a valid `Scenario` or a `ScenarioError` whose every problem names a file of
the case and a line or a dotted key (or is about the whole file, like an empty one), in words
for people, not Python. While the fuzzer runs, ``os.system``, ``os.popen`` and
``subprocess.Popen`` raise, and afterwards no file but those the test wrote exists: the
``touch`` payloads did nothing. A sample of mutants also goes through ``flowsim validate``:
exit status 0 or 2, never a traceback. Hypothesis adds free-form text, arbitrary data for
`scenario_from_dict`, and arbitrary changes for `apply_changes`.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import random
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.errors import ScenarioError
from flowsim.scenario import Scenario, apply_changes, load_scenario, scenario_from_dict
from helpers.scenario_strategies import scenario_data

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "fuzz_corpus"
BASELINE = TESTS.parents[1] / "scenarios" / "baseline.yaml"
SEED = 20261128
CASES = int(os.environ.get("FLOWSIM_FUZZ_CASES", "2500"))
CLI_EVERY = 20
SLOW_CASE_SECONDS = 2.0
MUTANT = "mutant.yaml"
WHOLE_FILE = ("the file is empty",)
"""Problems about a whole file, which have no line or key to name."""
NOT_FOR_PEOPLE = ("Traceback", "Input should", "pydantic", "Field required", "<unicode string>")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# ---------------------------------------------------------------- the verdict on one outcome


def assert_points_at_the_problem(error: ScenarioError, files: set[str]) -> None:
    """Every problem names a file of the case (by name) and a line or a dotted key."""
    text = str(error)
    assert error.problems, "a ScenarioError with no problem"
    for problem in error.problems:
        assert Path(problem.file).name in files, f"names a file not in the case: {problem}"
        if problem.line is not None:
            assert f"{problem.file}:{problem.line}: " in text
        else:
            assert problem.key_path or problem.message.startswith(WHOLE_FILE), (
                f"names neither a line nor a key: {problem}"
            )
            assert f"{problem.file}: " in text
        if problem.key_path:
            assert f": {problem.key_path}: " in text
        assert len(problem.message) < 2_000, f"a message of {len(problem.message)} characters"
    for wording in NOT_FOR_PEOPLE:
        assert wording not in text, f"{wording!r} in {text[:500]}"


def outcome(path: Path, files: set[str]) -> str:
    """``"valid"`` or ``"refused"``; any other exception, or a vague error, fails the case."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert_points_at_the_problem(error, files)
        return "refused"
    assert isinstance(scenario, Scenario)
    return "valid"


# ---------------------------------------------------------------- mutations of the data

NASTY_SCALARS: list[Any] = [
    None,
    True,
    False,
    "",
    " ",
    "~",
    "null",
    "yes",
    "NaN",
    ".inf",
    "1e999",
    "0x1F",
    "1_000",
    "12:30:00",
    "2025-13-45",
    0,
    -0.0,
    -1,
    -4,
    1,
    2**31,
    2**63,
    10**100,
    -(10**100),
    1e308,
    -1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    0.5,
    1.0000001,
    "x" * 100_000,
    "ünïcødé ✓ 病院 🏥 \u202e\u200d\u00a0",
    "a: b",
    "- item",
    "{not: a map}",
    "[1, 2",
    "&anchor",
    "*alias",
    "!tag",
    "# comment",
    "'quoted'",
    '"double"',
    "\\",
    "%",
    "@",
    "`",
    "lognormal",
    "P0",
    "frail",
]
NASTY_KEYS: list[Any] = [
    "",
    " ",
    "bedz",
    "BEDS",
    "extends",
    "dist",
    "mean",
    "ünïcødé",
    "🏥",
    "k" * 1_000,  # echoed in full by "unknown key" messages, so not longer
    1,
    0,
    True,
    None,
    1.5,
    "fit",
    "P4",
    "<<",
    "a.b",
    "x[0]",
]
EXTENDS_TARGETS: list[Any] = [
    "nowhere.yaml",
    "valid_smal.yaml",
    "baseline",
    MUTANT,
    "partner.yaml",
    "binary.yaml",
    "empty.yaml",
    "folder.yaml",
    "..",
    ".",
    "/dev/null",
    "../../../scenarios/baseline.yaml",
    "../../../scenarios/../scenarios/baseline.yaml",
    "../fuzz_corpus/valid_small.yaml",
    "",
    "   ",
    123,
    ["valid_small.yaml"],
    {"file": "valid_small.yaml"},
    None,
    "n" * 5_000 + ".yaml",
    "valid_small\x00.yaml",
    "valid_small.yaml\n",
    "bad_cycle_a.yaml",
    "bad_wrong_types.yaml",
]


DIST_TAGS: list[Any] = [
    *("fixed", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical"),
    *("weibull", "Lognormal", "", None, 3),
]
Path_ = tuple[Any, ...]


def nodes(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every path in the data (the root is ``()``)."""
    yield path
    if isinstance(data, dict):
        for key, value in list(data.items()):
            yield from nodes(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from nodes(value, (*path, i))


def get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def put(data: Any, path: Path_, value: Any) -> Any:
    """``data`` with the value at ``path`` replaced (the root if ``path`` is empty)."""
    if not path:
        return value
    get(data, path[:-1])[path[-1]] = value
    return data


def nasty_value(rng: random.Random, data: Any) -> Any:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(NASTY_SCALARS)
    if roll < 0.65:
        return rng.choice([[], {}, [None], {"x": 1}, [[[]]], {"dist": "lognormal"}])
    if roll < 0.75:  # a copy of some other part of the scenario: right values, wrong place
        return copy.deepcopy(get(data, rng.choice(list(nodes(data)))))
    if roll < 0.85:
        return nest(rng, rng.choice(NASTY_SCALARS), rng.choice([2, 10, 49, 51, 80]))
    if roll < 0.92:
        return [rng.choice(NASTY_SCALARS) for _ in range(rng.randint(1, 30))]
    alphabet = ":-[]{},#&*!|>'\"%@`?\t\n abcé✓\x85\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200)))


def nest(rng: random.Random, value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def mutate_data(rng: random.Random, data: Any) -> tuple[Any, str]:
    """One change to the parsed data; returns the new data and a word for what was done."""
    paths = list(nodes(data))
    path = rng.choice(paths)
    node = get(data, path)
    op = rng.choice(
        [
            "delete",
            "delete",
            "replace",
            "replace",
            "replace",
            "retype",
            "rename",
            "add key",
            "number",
            "list",
            "distribution",
            "shares",
            "extends",
            "nest",
        ]
    )
    if op == "delete" and path:
        parent = get(data, path[:-1])
        del parent[path[-1]]
    elif op == "replace":
        data = put(data, path, nasty_value(rng, data))
    elif op == "retype":
        if isinstance(node, dict):
            new: Any = list(node.values())
        elif isinstance(node, list):
            new = {str(i): v for i, v in enumerate(node)}
        elif isinstance(node, int | float) and not isinstance(node, bool):
            new = rng.choice([str(node), [node], {"value": node}, f"{node} beds"])
        else:
            new = rng.choice([[node], {"value": node}, 42, None])
        data = put(data, path, new)
    elif op == "rename" and path and isinstance(path[-1], str):
        parent = get(data, path[:-1])
        key = path[-1]
        new_key = rng.choice(
            [*NASTY_KEYS, key[:-1], key + "s", key.upper(), key.replace("_", "-"), " " + key]
        )
        parent[new_key] = parent.pop(key)
    elif op == "add key" and isinstance(node, dict):
        node[rng.choice(NASTY_KEYS)] = nasty_value(rng, data)
    elif op == "number":
        numbers = [p for p in paths if _is_number(get(data, p))]
        if numbers:
            p = rng.choice(numbers)
            x = get(data, p)
            factor = rng.choice([-1, 0, 0.5, 1.5, 1e6, 1e300, -1e-9])
            data = put(data, p, rng.choice([x * factor, x + 0.5, x - 1, -x, str(x)]))
    elif op == "list":
        lists = [p for p in paths if isinstance(get(data, p), list)]
        if lists:
            p = rng.choice(lists)
            items = get(data, p)
            how = rng.choice(["empty", "truncate", "double", "reverse", "extend"])
            new = {
                "empty": [],
                "truncate": items[: rng.randint(0, max(len(items) - 1, 0))],
                "double": items + items,
                "reverse": items[::-1],
                "extend": [*items, rng.choice(NASTY_SCALARS)],
            }[how]
            data = put(data, p, new)
    elif op == "distribution":
        dists = [p for p in paths if isinstance(get(data, p), dict) and "dist" in get(data, p)]
        if dists:
            p = rng.choice(dists)
            spec = dict(get(data, p))
            how = rng.choice(["rename", "drop", "negate", "zero", "swap", "extra"])
            params = [k for k in spec if k != "dist"]
            if how == "rename":
                spec["dist"] = rng.choice(DIST_TAGS)
            elif how == "drop" and params:
                del spec[rng.choice(params)]
            elif how in ("negate", "zero") and params:
                k = rng.choice(params)
                spec[k] = 0 if how == "zero" else _negated(spec[k])
            elif how == "swap" and len(params) >= 2:
                a, b = rng.sample(params, 2)
                spec[a], spec[b] = spec[b], spec[a]
            else:
                spec[rng.choice(["median", "sigma", "mean", "sd", "cv", "shape"])] = 1.0
            data = put(data, p, spec)
    elif op == "shares":
        splits = [
            p
            for p in paths
            if isinstance(get(data, p), dict)
            and get(data, p)
            and all(_is_number(v) for v in get(data, p).values())
        ]
        if splits:
            shares = get(data, rng.choice(splits))
            k = rng.choice(list(shares))
            shares[k] = rng.choice([shares[k] + 0.01, shares[k] * 2, -0.1, 1.5, 1e-7])
    elif op == "extends" and isinstance(data, dict):
        data["extends"] = rng.choice(EXTENDS_TARGETS)
    elif op == "nest":
        data = put(data, path, nest(rng, node, rng.choice([3, 30, 60, 120])))
    else:
        return data, f"{op} (no-op)"
    return data, op


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _negated(x: Any) -> Any:
    return -x if _is_number(x) else x


# ---------------------------------------------------------------- mutations of the text

TAG_PAYLOADS = [
    '!!python/object/apply:os.system ["touch {sentinel}"]',
    "!!python/object/apply:subprocess.check_call [[touch, {sentinel}]]",
    "!!python/object/new:os.system [touch {sentinel}]",
    "!!python/object/apply:builtins.exec [\"open('{sentinel}', 'w')\"]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:__main__.Anything {{a: 1}}",
    "!!python/tuple [1, 2]",
    "!!python/bytes aGk=",
    "!<tag:yaml.org,2002:python/object/apply:os.system> [touch {sentinel}]",
    "!!int lots",
    "!!float abc",
    "!!bool maybe",
    "!!timestamp never",
    "!!binary '###'",
    "!!null nothing",
    "!!str",
    "!!set {{a, b}}",
    "!!omap [{{a: 1}}]",
    "!!pairs [{{a: 1}}]",
    "!!map [1]",
    "!!seq {{a: 1}}",
    "!custom value",
    "!<!local> value",
    "2025-13-45",
    "2025-02-30",
    "2025-01-01 25:61:00",
    "&a [*a]",
    "*undefined",
    "&x 3",
    "<<: 3",
    "|\n  block\n text",
    ">-",
    "@reserved",
    "`backtick",
    "%directive",
]
LAUGHS = "laughs0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"laughs{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)
)
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\ufffe", "\ud7ff"]
SPECIAL = [*":-[]{},#&*!|>'\"%@`?\t\n ", "\r", "\x85", "\u2028", "\ufeff", "é", "🏥"]


def mutate_text(rng: random.Random, text: str, sentinel: Path) -> tuple[str, str]:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    op = rng.choice(
        [
            "delete line",
            "repeat line",
            "swap lines",
            "indent",
            "dedent",
            "tab",
            "truncate",
            "insert character",
            "delete character",
            "tag value",
            "tag value",
            "anchor and alias",
            "laughs",
            "control character",
            "bom",
            "crlf",
            "long line",
            "document markers",
            "join lines",
        ]
    )
    if op == "delete line":
        del lines[i]
    elif op == "repeat line":
        lines.insert(i, lines[i])
    elif op == "swap lines":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "indent":
        lines[i] = " " * rng.randint(1, 4) + lines[i]
    elif op == "dedent":
        lines[i] = lines[i].lstrip()
    elif op == "tab":
        lines[i] = "\t" + lines[i].lstrip(" ")
    elif op == "truncate":
        return text[: rng.randrange(len(text) + 1)], op
    elif op == "insert character":
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(SPECIAL) * rng.randint(1, 3) + text[at:], op
    elif op == "delete character" and text:
        at = rng.randrange(len(text))
        return text[:at] + text[at + 1 :], op
    elif op in ("tag value", "anchor and alias"):
        with_value = [k for k, line in enumerate(lines) if re.search(r"\S: \S", line)]
        if not with_value:
            return text, f"{op} (no-op)"
        k = rng.choice(with_value)
        key, _, _ = lines[k].partition(": ")
        if op == "tag value":
            token = rng.choice(TAG_PAYLOADS).format(sentinel=sentinel)
        else:
            j = rng.choice(with_value)
            other, _, value = lines[j].partition(": ")
            lines[j] = f"{other}: &fuzz {value}"
            token = "*fuzz"
        lines[k] = f"{key}: {token}"
    elif op == "laughs":
        lines.insert(rng.choice([i, len(lines)]), LAUGHS)
    elif op == "control character":
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(CONTROL) + text[at:], op
    elif op == "bom":
        return "\ufeff" + text, op
    elif op == "crlf":
        return text.replace("\n", "\r\n"), op
    elif op == "long line":
        lines.insert(i, "description: " + "y" * rng.choice([1_000, 50_000]))
    elif op == "document markers":
        lines.insert(i, rng.choice(["---", "...", "--- !!map", "%YAML 1.1", "%YAML 2.0", "%TAG"]))
    elif op == "join lines" and i + 1 < len(lines):
        lines[i : i + 2] = [lines[i] + " " + lines[i + 1]]
    else:
        return text, f"{op} (no-op)"
    return "\n".join(lines), op


# ---------------------------------------------------------------- cases


@dataclass
class Seed:
    name: str
    text: str
    data: Any  # the parsed data, or None if the seed is not readable YAML
    weight: float


@dataclass
class Case:
    number: int
    seed: str
    ops: list[str] = field(default_factory=list)
    content: bytes = b""

    def describe(self) -> str:
        shown = self.content[:1_500].decode("utf-8", "replace")
        return f"case {self.number} (seed {self.seed}; {', '.join(self.ops)}):\n{shown}"


def load_seeds() -> list[Seed]:
    seeds = []
    for path in [BASELINE, *sorted(CORPUS.glob("*.yaml"))]:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        # The hostile seeds (loops, aliases of aliases, tags) are mutated as text only.
        data = None if path.name.startswith("bad_") else yaml.load(text, Loader=LOADER)
        # Valid seeds get most cases; those that read the 20 kB baseline are slower, so fewer.
        heavy = path == BASELINE or "extends: ../../../scenarios/baseline.yaml" in text
        weight = 1.0 if data is None else 2.0 if heavy else 8.0
        seeds.append(Seed(path.name, text, data, weight))
    return seeds


def make_case(number: int, seeds: list[Seed], sentinel: Path) -> Case:
    """Case ``number``, the same on every run: its own generator, seeded from SEED and the
    number."""
    rng = random.Random(f"{SEED}/{number}")
    seed = rng.choices(seeds, weights=[s.weight for s in seeds])[0]
    case = Case(number, seed.name)
    text = seed.text
    changed_data = seed.data is not None and rng.random() < 0.6
    if changed_data:
        data = copy.deepcopy(seed.data)
        for _ in range(rng.choice([1, 1, 2, 3])):
            data, op = mutate_data(rng, data)
            case.ops.append(op)
        try:
            text = yaml.dump(
                data,
                Dumper=DUMPER,
                sort_keys=False,
                allow_unicode=rng.random() < 0.5,
                default_flow_style=rng.choice([False, None]),
                width=rng.choice([80, 1_000_000]),
            )
        except RecursionError:  # nested too deep for PyYAML's writer; keep the seed's text
            case.ops.append("(too deep to write)")
            changed_data = False
    if not changed_data or rng.random() < 0.4:
        for _ in range(rng.choice([1, 1, 2, 3])):
            text, op = mutate_text(rng, text, sentinel)
            case.ops.append(op)
    case.content = text.encode("utf-8", "surrogateescape")
    return case


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the corpus and the baseline, laid out as in the repository (so the seeds'
    ``extends`` resolve), the files ``extends`` mutations point at, and the working directory
    set there (the corpus's ``touch fuzz-pwned`` would land in it)."""
    corpus = tmp_path / "tests" / "properties" / "fuzz_corpus"
    shutil.copytree(CORPUS, corpus)
    (tmp_path / "scenarios").mkdir()
    shutil.copy(BASELINE, tmp_path / "scenarios" / "baseline.yaml")
    (corpus / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (corpus / "empty.yaml").write_text("# nothing\n")
    (corpus / "folder.yaml").mkdir()
    (corpus / "partner.yaml").write_text(f"extends: {MUTANT}\nname: partner\n")
    monkeypatch.chdir(corpus)
    return corpus


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make starting a process fail loudly, and remember any attempt."""
    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args}")
            raise AssertionError(f"the loader tried to run {name}{args}")

        return call

    monkeypatch.setattr(os, "system", refuse("os.system"))
    monkeypatch.setattr(os, "popen", refuse("os.popen"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    return attempts


def test_corpus_seeds_are_what_their_names_say(workdir: Path) -> None:
    """``valid_*`` seeds load; ``bad_*`` seeds (each a hostile input that once escaped as a
    traceback, or could) are refused, pointing at the problem."""
    files = {p.name for p in workdir.parent.parent.rglob("*")}
    for path in sorted(workdir.glob("*.yaml")):
        if path.name.startswith("valid_"):
            assert outcome(path, files) == "valid", path.name
        elif path.name.startswith("bad_"):
            assert outcome(path, files) == "refused", path.name
    assert not (workdir / "fuzz-pwned").exists()


def test_thousands_of_mutants_end_in_a_scenario_or_a_clear_error(
    workdir: Path, no_processes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # typer.testing builds the click command again on every invoke: half of each `flowsim
    # validate` here (22 of 44 ms). The console script builds it once per process; so do we.
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
    sentinel = workdir.parent.parent / "pwned"
    before = {p for p in workdir.parent.parent.rglob("*")}
    files = {p.name for p in before} | {MUTANT}
    seeds = load_seeds()
    mutant = workdir / MUTANT
    results: Counter[str] = Counter()
    seen: dict[bytes, str] = {}  # each content tried, and its outcome (the other files stay)
    failures: list[str] = []
    slowest = (0.0, "")
    cli_runs = 0
    started = time.perf_counter()
    for number in range(CASES):
        case = make_case(number, seeds, sentinel)
        mutant.write_bytes(case.content)
        t0 = time.perf_counter()
        try:
            if case.content not in seen:  # 129 of the 2,500 cases repeat an earlier one
                seen[case.content] = outcome(mutant, files)
            results[seen[case.content]] += 1
        except Exception as error:  # every failure is collected, and the first few shown
            failures.append(f"{type(error).__name__}: {str(error)[:600]}\n{case.describe()}")
        seconds = time.perf_counter() - t0
        slowest = max(slowest, (seconds, case.describe()[:300]))
        if number % CLI_EVERY == 0:
            cli_runs += 1
            result = CliRunner().invoke(app, ["validate", str(mutant)])
            output = result.stdout + result.stderr
            crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
            if crashed or result.exit_code not in (0, 2) or "Traceback" in output:
                failures.append(f"flowsim validate: exit {result.exit_code}\n{output[:800]}")
        if len(failures) >= 10:
            break
    elapsed = time.perf_counter() - started
    assert not failures, f"{len(failures)} bad outcomes, the first:\n\n" + "\n\n".join(failures[:3])
    assert not sentinel.exists() and not (workdir / "fuzz-pwned").exists(), "a payload ran"
    assert not no_processes
    after = {p for p in workdir.parent.parent.rglob("*")}
    assert after - before == {mutant}, f"files appeared: {sorted(map(str, after - before))}"
    assert slowest[0] < SLOW_CASE_SECONDS, f"a case took {slowest[0]:.1f} s: {slowest[1]}"
    # Both outcomes occur often enough for the cases to mean something.
    assert results["valid"] > CASES // 20 and results["refused"] > CASES // 2, results
    print(f"{CASES} mutants in {elapsed:.1f} s: {dict(results)}; {cli_runs} through the CLI")


# ---------------------------------------------------------------- Hypothesis


YAML_PIECES = st.sampled_from(
    [
        "extends: valid_small.yaml\n",
        "extends: ",
        "name: ",
        "afu:\n  beds: ",
        "wards:\n  ",
        "  ",
        "- ",
        ": ",
        "\n",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "*a",
        "<<: ",
        "!!python/object/apply:os.system ['touch flowsim-fuzz-pwned']",
        "!!int ",
        "2025-13-45",
        "{dist: lognormal, median: 5, sigma: 1}",
        ".nan",
        "-1",
        "1e400",
        "'",
        '"',
        "#",
        "\t",
    ]
)
YAML_TEXT = st.lists(st.one_of(YAML_PIECES, st.text(max_size=5)), max_size=30).map("".join)


@pytest.fixture(scope="module")
def typed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for a whole Hypothesis run, holding a copy of the small seed to extend."""
    folder = tmp_path_factory.mktemp("typed")
    shutil.copy(CORPUS / "valid_small.yaml", folder / "valid_small.yaml")
    return folder


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=YAML_TEXT)
def test_any_text_is_a_scenario_or_a_clear_error(text: str, typed_folder: Path) -> None:
    path = typed_folder / "typed.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        outcome(path, {"typed.yaml", "valid_small.yaml"})
    finally:
        assert not (Path.cwd() / "flowsim-fuzz-pwned").exists()


ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([10**100, -(10**100), "lognormal", "P1", "frail"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_data(), where=st.integers(0, 10_000), value=ANY_VALUE)
def test_any_data_is_a_scenario_or_a_clear_error(data: Any, where: int, value: Any) -> None:
    """`scenario_from_dict` on valid data with one part replaced by anything: a Scenario, or a
    ScenarioError naming the source and the dotted key (plain data has no lines)."""
    paths = list(nodes(data))
    data = put(data, paths[where % len(paths)], value)
    try:
        scenario_from_dict(data, source="generated")
    except ScenarioError as error:
        for problem in error.problems:
            assert problem.file == "generated"
            # A key that is the empty string has the empty path; its message names it.
            named = problem.key_path or "unknown key ''" in problem.message
            assert named or not isinstance(data, dict), str(problem)
        for wording in NOT_FOR_PEOPLE:
            assert wording not in str(error)


KEY_PATHS = st.one_of(
    st.sampled_from(
        [
            "afu.beds",
            "wards.surgery.beds",
            "wards.new_ward",
            "population.places[0].segments[0].people",
            "population.places[9].name",
            "ed.disposition.frail.home",
            "run",
            "community.p1",
            "amu.stay_hours.median",
            "amu.stay_hours",
            "ward_routing.fit",
        ]
    ),
    st.text(max_size=30),
)


@functools.cache
def _small() -> Scenario:
    return load_scenario(CORPUS / "valid_small.yaml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(KEY_PATHS, ANY_VALUE, min_size=1, max_size=3))
def test_any_changes_are_applied_or_refused_naming_the_key(changes: dict[str, Any]) -> None:
    base = _small()
    try:
        apply_changes(base, changes)
    except ScenarioError as error:
        for problem in error.problems:
            assert problem.file.startswith("changes to scenario")
        assert any(p.key_path for p in error.problems) or any(
            key in str(error) for key in changes
        ), str(error)
        for wording in NOT_FOR_PEOPLE:
            assert wording not in str(error)
