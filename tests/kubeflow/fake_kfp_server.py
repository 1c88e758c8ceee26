"""A fake Kubeflow Pipelines REST API (v2beta1) on 127.0.0.1, holding what clients sent it.

It answers the calls the `kfp` client makes to upload a pipeline or a version, find or create
an experiment and create a run, the way the real API server shapes its answers, and keeps every
request and upload for the tests to inspect. Nothing is run.
"""

import email.parser
import http.server
import itertools
import json
import threading
import urllib.parse

API = '/apis/v2beta1'


class FakeKfpState:
    """Pipelines, versions, experiments and runs the fake server holds."""

    def __init__(self):
        self.requests = []
        self.pipelines = {}
        self.versions = {}
        self.experiments = {}
        self.runs = []
        self._ids = itertools.count(1)

    def new_id(self, kind):
        return f'{kind}-{next(self._ids)}'


def _display_name_filter(query):
    """The display name an EQUALS predicate of the `filter` query parameter asks for."""
    raw = query.get('filter', [''])[0]
    if not raw:
        return None
    predicates = json.loads(raw).get('predicates', [])
    return next(p['stringValue'] for p in predicates if p['key'] == 'display_name')


def _uploaded_file(headers, body):
    message = email.parser.BytesParser().parsebytes(
        b'Content-Type: ' + headers['Content-Type'].encode() + b'\r\n\r\n' + body
    )
    for part in message.walk():
        if part.get_param('name', header='content-disposition') == 'uploadfile':
            return part.get_payload(decode=True)
    raise ValueError('no uploadfile part in the upload')


class _Handler(http.server.BaseHTTPRequestHandler):
    state: FakeKfpState

    def log_message(self, *args):
        del args  # Quiet: the tests read the state, not a log.

    def _reply(self, payload, status=200):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.state.requests.append((method, url.path))
        handler = getattr(
            self, f'_{method.lower()}_{url.path[len(API) :].strip("/").replace("/", "_")}', None
        )
        if handler is None and url.path.endswith('/versions'):
            handler = self._get_versions
        if handler is None:
            self._reply({'error': f'no route {method} {url.path}'}, status=404)
            return
        self._reply(handler(query, body, url.path))

    def do_GET(self):  # noqa: N802 - http.server's interface.
        self._route('GET')

    def do_POST(self):  # noqa: N802 - http.server's interface.
        self._route('POST')

    def _get_healthz(self, query, body, path):
        return {'multi_user': False}

    def _get_pipelines(self, query, body, path):
        name = _display_name_filter(query)
        found = [p for p in self.state.pipelines.values() if p['display_name'] == name]
        return {'pipelines': found, 'total_size': len(found)} if found else {}

    def _new_version(self, pipeline_id, name, body):
        version = {
            'pipeline_id': pipeline_id,
            'pipeline_version_id': self.state.new_id('version'),
            'display_name': name,
            'spec': _uploaded_file(self.headers, body).decode(),
        }
        self.state.versions.setdefault(pipeline_id, []).append(version)
        return {k: v for k, v in version.items() if k != 'spec'}

    def _post_pipelines_upload(self, query, body, path):
        pipeline = {'pipeline_id': self.state.new_id('pipeline'), 'display_name': query['name'][0]}
        self.state.pipelines[pipeline['pipeline_id']] = pipeline
        self._new_version(pipeline['pipeline_id'], query['name'][0], body)
        return pipeline

    def _post_pipelines_upload_version(self, query, body, path):
        return self._new_version(query['pipelineid'][0], query['name'][0], body)

    def _get_versions(self, query, body, path):
        pipeline_id = path.split('/')[-2]
        newest_first = list(reversed(self.state.versions.get(pipeline_id, [])))
        return {
            'pipeline_versions': [
                {k: v for k, v in version.items() if k != 'spec'} for version in newest_first
            ]
        }

    def _get_experiments(self, query, body, path):
        name = _display_name_filter(query)
        # An empty namespace means none, as in single-user deployments.
        namespace = query.get('namespace', [''])[0]
        found = [
            e
            for e in self.state.experiments.values()
            if e['display_name'] == name and (e.get('namespace') or '') == namespace
        ]
        return {'experiments': found, 'total_size': len(found)} if found else {}

    def _post_experiments(self, query, body, path):
        experiment = json.loads(body)
        experiment['experiment_id'] = self.state.new_id('experiment')
        self.state.experiments[experiment['experiment_id']] = experiment
        return experiment

    def _post_runs(self, query, body, path):
        run = json.loads(body)
        run['run_id'] = self.state.new_id('run')
        run['state'] = 'PENDING'
        self.state.runs.append(run)
        return run


class FakeKfpServer:
    """Serves the fake API on a free port of 127.0.0.1 until stopped."""

    def __init__(self):
        self.state = FakeKfpState()
        handler = type('Handler', (_Handler,), {'state': self.state})
        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.endpoint = f'http://127.0.0.1:{self._server.server_address[1]}'
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
