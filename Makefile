# The two commands a new user needs: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= results/baseline

.PHONY: run test mutate lint bench clean venv app check-presets check-truth bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# flowsim's own bytecode, written once: where PYTHONDONTWRITEBYTECODE is set (as here) every
# process would otherwise compile src/ afresh, 0.1-0.3 s of CPU each (the suite starts hundreds).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 src

run: bytecode
	$(BIN)/flowsim run scenarios/baseline.yaml --out $(OUT)

# One process per core (pytest-xdist); tests that share an expensive fixture carry one
# xdist_group so it is built once. The browser tests fail, not skip, when chromium is missing
# (apt-get install chromium); a plain `pytest` run outside make lets them skip.
test: bytecode
	FLOWSIM_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -n auto --dist loadgroup --durations=15

# Every app preset at the app's defaults against its stated result (~1 min idle, ~3 under load; not in make test).
check-presets: $(STAMP)
	FLOWSIM_CHECK_PRESETS=1 $(BIN)/python -m pytest -q tests/app/test_presets.py

# The app's default baseline against the annual run's KPIs, then every library scenario's headline
# effect at the app's defaults against its annual direction (a few minutes; not in make test).
check-truth: $(STAMP)
	FLOWSIM_CHECK_TRUTH=1 $(BIN)/python -m pytest -q -s tests/app/test_truth.py
	$(BIN)/python benchmarks/same_sign.py

# Deliberate bugs, one at a time, on a copy of src/; prints which tests catch each (not in CI).
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts notebooks
	$(BIN)/ruff format --check src tests benchmarks scripts notebooks

app: bytecode
	$(BIN)/flowsim app

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tandem.py
	$(BIN)/python benchmarks/bench_baseline.py
	$(BIN)/python benchmarks/bench_experiments.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache build src/*.egg-info
