"""Bounded load test of the serving stand-in on loopback, with the in-process model as the floor.

Starts `python -m serving --backend stand-in` on a free 127.0.0.1 port against the newest pushed
version under the serving root, sends a fixed number of REST predict requests (`instances` of
pixel rows, `serving_pixels`) at each concurrency, and prints p50/p99 latency and requests per
second. The same SavedModel called in this process, with the same batches and threads, is the
floor: what is left once HTTP, JSON and the prediction log are taken away. The server logs its
predictions to a scratch folder, never to the pipeline's own prediction log.

    python benchmarks/serving_load.py [--requests 300] [--concurrency 1,4,16] [--rows 1,32]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence

import httpx
import numpy as np
import tensorflow as tf

from pipeline.config import add_config_flags, config_from_namespace
from pipeline.serving_layout import latest_version
from serving.model_store import load_version

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HOST = '127.0.0.1'
STARTUP_TIMEOUT_S = 180
WARMUP_REQUESTS = 20


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_flags(parser)
    parser.add_argument('--requests', type=int, default=300, help='requests per measurement')
    parser.add_argument('--concurrency', default='1,4,16', help='comma-separated client threads')
    parser.add_argument('--rows', default='1,32', help='comma-separated rows per request')
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(config, port: int, scratch: str) -> subprocess.Popen:
    command = [
        sys.executable, '-m', 'serving', '--backend', 'stand-in', '--host', HOST,
        '--port', str(port), '--serving-root', config.serving_root,
        '--model-name', config.model_name, '--pipeline-root', scratch,
    ]  # fmt: skip
    log_path = os.path.join(scratch, 'server.log')
    with open(log_path, 'w') as log:
        server = subprocess.Popen(command, cwd=_REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            with open(log_path) as log:
                raise SystemExit(f'the server exited while starting:\n{log.read()}')
        try:
            if httpx.get(f'http://{HOST}:{port}/v1/models/{config.model_name}').is_success:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    server.kill()
    raise SystemExit(f'the server did not answer within {STARTUP_TIMEOUT_S} s')


def run_load(call: Callable[[], None], total: int, concurrency: int) -> tuple[np.ndarray, float]:
    """Runs `total` calls over `concurrency` threads; returns latencies (s) and wall time (s)."""
    latencies = []
    lock = threading.Lock()
    remaining = [total]

    def worker() -> None:
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            call()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array(latencies), time.perf_counter() - start


class HttpCaller:
    """Posts one prepared body; each client thread keeps its own keep-alive connection."""

    def __init__(self, url: str, body: bytes):
        self._url = url
        self._body = body
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    def __call__(self) -> None:
        client = getattr(self._local, 'client', None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=60)
            self._clients.append(client)
        response = client.post(
            self._url, content=self._body, headers={'Content-Type': 'application/json'}
        )
        response.raise_for_status()

    def close(self) -> None:
        for client in self._clients:
            client.close()


def in_process_caller(loaded, rows: np.ndarray) -> Callable[[], None]:
    signature = loaded.signatures['serving_pixels']
    batch = tf.constant(rows)

    def call() -> None:
        signature(image=batch)['probabilities'].numpy()

    return call


def report(label: str, rows: int, concurrency: int, latencies: np.ndarray, wall_s: float) -> None:
    p50, p99 = np.percentile(latencies * 1000, [50, 99])
    rate = len(latencies) / wall_s
    print(
        f'{label:<11}{rows:>5}{concurrency:>6}{p50:>10.2f}{p99:>10.2f}{rate:>10.0f}'
        f'{rate * rows:>11.0f}'
    )


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    config = config_from_namespace(args)
    concurrencies = [int(text) for text in args.concurrency.split(',')]
    row_counts = [int(text) for text in args.rows.split(',')]

    version = latest_version(config.serving_model_dir)
    if version is None:
        raise SystemExit(
            f'no pushed version under {config.serving_model_dir}; run the pipeline first '
            '(make run) or pass --serving-root'
        )
    path = os.path.join(config.serving_model_dir, str(version))
    loaded = load_version(path, version)
    spec = loaded.image_spec
    generator = np.random.default_rng(0)
    batches = {
        rows: generator.integers(
            int(spec.pixel_min), int(spec.pixel_max) + 1, size=(rows, spec.num_pixels)
        ).astype(np.float32)
        for rows in row_counts
    }

    print(
        f'Serving load on {HOST}: model {config.model_name} version {version} ({path}), '
        f'{args.requests} requests per line, {os.cpu_count()} CPUs'
    )
    print(
        f'{"path":<11}{"rows":>5}{"conc":>6}{"p50 ms":>10}{"p99 ms":>10}{"req/s":>10}{"rows/s":>11}'
    )
    with tempfile.TemporaryDirectory(prefix='serving_load_') as scratch:
        port = free_port()
        server = start_server(config, port, scratch)
        url = f'http://{HOST}:{port}/v1/models/{config.model_name}:predict'
        try:
            for rows, batch in batches.items():
                body = json.dumps(
                    {'signature_name': 'serving_pixels', 'instances': batch.tolist()}
                ).encode()
                for concurrency in concurrencies:
                    call = HttpCaller(url, body)
                    run_load(call, WARMUP_REQUESTS, concurrency)
                    report('http', rows, concurrency, *run_load(call, args.requests, concurrency))
                    call.close()
                for concurrency in concurrencies:
                    call = in_process_caller(loaded, batch)
                    run_load(call, WARMUP_REQUESTS, concurrency)
                    report(
                        'in-process', rows, concurrency, *run_load(call, args.requests, concurrency)
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == '__main__':
    main(sys.argv[1:])
