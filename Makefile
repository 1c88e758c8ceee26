# Two commands do all the set-up on a fresh machine: 'make run' and 'make test'.
# Both build the virtual environment from requirements.lock the first time and reuse it after.

SHELL := /bin/bash
DATASET ?= digits
ARGS ?=
# What `make new-span` imports: a dataprep command and its flags (see `python -m dataprep -h`).
SOURCE ?= digits
# The pipeline image every Kubeflow task runs.
IMAGE ?= tfx-digits:0.1.0

# TFX 1.16 needs Python 3.10: take the first interpreter that really is 3.10.
PYTHON310 ?= $(firstword $(foreach p,python3.10 $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) /usr/bin/python3.10 /usr/local/bin/python3.10,$(shell $(p) -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && echo $(p))))

# Quiet TensorFlow's C++ start-up lines and the Google client libraries' Python-version notices.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONWARNINGS ?= ignore::FutureWarning

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run data new-span retrain schema serve status report image compile submit test test-fast lint format benchmark serving-benchmark lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found (TFX 1.16 needs it); set PYTHON310=/path/to/python3.10" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON310) from requirements.lock (about 3 GB, a few minutes the first time)"
	$(PYTHON310) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --no-input --upgrade pip==24.2 setuptools==75.8.2 wheel==0.45.1
	$(VENV)/bin/pip install --quiet --no-deps --no-input -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation --no-input -e .
	$(VENV)/bin/pip check
	@touch $@

data: $(STAMP)
	@test -d data/$(DATASET) || test "$(DATASET)" != digits || $(PY) -m dataprep digits --data-root data/digits
	@test -d data/$(DATASET) || { echo "error: data/$(DATASET) does not exist; import data first, e.g. $(PY) -m dataprep idx --images F --labels F --data-root data/$(DATASET) (see README: Your own data)" >&2; exit 2; }

run: $(STAMP) data
	$(PY) -m runners.local_runner --dataset $(DATASET) $(ARGS)

# Simulates new data arriving: writes the next span, e.g. SOURCE="images --folder scans/" or
# SOURCE="digits --shuffle-labels 0.33" (a degraded span the Evaluator must refuse).
new-span: $(STAMP)
	$(PY) -m dataprep $(SOURCE) --data-root data/$(DATASET)

# Continuous training: runs on the newest data; pushes only a candidate better than the served one.
retrain: $(STAMP)
	$(PY) -m runners.local_runner --dataset $(DATASET) $(ARGS)

schema: $(STAMP)
	$(PY) -m schema.curate --data-root data/$(DATASET) --output schema/$(DATASET)

serve: $(STAMP)
	$(PY) -m serving --dataset $(DATASET) $(ARGS)

status: $(STAMP)
	$(PY) -m runners.status --dataset $(DATASET) $(ARGS)

report: $(STAMP)
	$(PY) -m runners.report --dataset $(DATASET) $(ARGS)

# The pipeline image (needs a Docker engine with BuildKit; none runs on the development machines).
image:
	DOCKER_BUILDKIT=1 docker build --platform linux/amd64 -t $(IMAGE) .

# Compiles the pipeline for Kubeflow Pipelines 2.x into build/kubeflow/pipeline.yaml.
compile: $(STAMP)
	$(PY) -m runners.kubeflow_runner --dataset $(DATASET) --image $(IMAGE) $(ARGS)

# Compiles, uploads a new pipeline version, and starts a run in the experiment.
submit: $(STAMP)
	$(PY) -m runners.kubeflow_runner --dataset $(DATASET) --image $(IMAGE) --submit $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e" $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

benchmark: $(STAMP) data
	$(PY) benchmarks/pipeline_run.py --dataset $(DATASET) $(ARGS)

serving-benchmark: $(STAMP)
	$(PY) benchmarks/serving_load.py --dataset $(DATASET) $(ARGS)

# Re-resolves the dependencies from constraints-seed.txt in a scratch environment and freezes them.
lock:
	rm -rf build/lock-venv
	$(PYTHON310) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -c constraints-seed.txt -e '.[dev]'
	{ sed -n '1,4p' requirements.lock; build/lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf work .pytest_cache .ruff_cache
