# The pipeline image: every Kubeflow task of the compiled pipeline runs in it.
#
#   docker build -t REGISTRY/tfx-digits:0.1.0 .      (or: make image IMAGE=REGISTRY/tfx-digits:0.1.0)
#
# It holds the exact dependencies of requirements.lock on Python 3.10 and this package, installed
# and also kept as source in /pipeline, the working directory. Each task runs
# `python -m runners.kubeflow_entrypoint`, which imports the executors, `preprocessing` and
# `models` by module path; nothing is packaged at run time.

ARG PYTHON_IMAGE=python:3.10.13-slim-bookworm

# Two packages of the lock (crcmod, pyfarmhash) ship as source only and need a compiler; they are
# built into wheels here so the final image carries no build tools.
FROM ${PYTHON_IMAGE} AS wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /build/requirements.lock
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels -r /build/requirements.lock

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The same installer versions as the Makefile's virtual environment.
RUN pip install pip==24.2 setuptools==75.8.2 wheel==0.45.1
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-deps /wheels/*.whl

WORKDIR /pipeline
COPY pyproject.toml README.md ./
COPY dataprep/ dataprep/
COPY models/ models/
COPY pipeline/ pipeline/
COPY preprocessing/ preprocessing/
COPY runners/ runners/
COPY schema/ schema/
COPY serving/ serving/
RUN pip install --no-deps --no-build-isolation . && pip check

# Kubeflow sets each task's command; run alone, the image shows the entry point's usage.
CMD ["python", "-m", "runners.kubeflow_entrypoint", "--help"]
