# imgkit: the two commands of the README, and what they need.
#   make lab   - install what is missing, start the lab registry, open JupyterLab
#   make test  - install what is missing, run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.imgkit-installed

.PHONY: lab test bench system-deps venv lab-stop clean

lab: system-deps venv
	$(VENV)/bin/imgkit lab start
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: system-deps venv
	$(VENV)/bin/ruff check imgkit tests bench tools
	$(PY) -m pytest
	bash tools/test-notebooks.sh

# Benchmarks against skopeo and umoci (not part of `make test`): see bench/RESULTS.md.
bench: system-deps venv
	$(PY) bench/run.py

system-deps:
	@bash tools/system-deps.sh $(if $(filter test,$(MAKECMDGOALS)),chromium:chromium)

# Bytecode too: an editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set
# every `imgkit` command would compile the package from source again (60 ms of each pull).
venv: $(STAMP)
	@$(PY) -m compileall -q imgkit

# Reinstall when the package's declared dependencies change.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "imgkit needs Python 3.10 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[lab,test]'
	@touch $@

lab-stop:
	$(VENV)/bin/imgkit lab stop

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
