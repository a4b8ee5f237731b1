# The README's two commands: `make run` and `make test`. Both set up first (idempotent).
BIN := .venv/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup setup-test run test lint format bench clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

run: setup
	$(BIN)/python app.py

test: setup-test
	$(BIN)/ruff check vemidi tests bench app.py
	$(BIN)/ruff format --check vemidi tests bench app.py
	$(BIN)/python -m pytest -q -n 2  # two processes (pytest-xdist): the machines have 2 cores

lint:
	$(BIN)/ruff check vemidi tests bench app.py

format:
	$(BIN)/ruff format vemidi tests bench app.py
	$(BIN)/ruff check --fix vemidi tests bench app.py

bench: setup
	$(BIN)/python bench/generate_speed.py
	$(BIN)/python bench/end_to_end.py

clean:
	rm -rf .venv .pytest_cache .ruff_cache .hypothesis
