"""Every documented error code becomes its own class: a local server answers
each code with its status, as the API would. A fake, because most codes come
from routes or faults the dev stack does not produce on demand (HookConflict of
hook-task, Contention, InternalError, WebhookGone, …); test_dev.py gets the ones
it can from make dev itself."""

from __future__ import annotations

import http.server
import json
import threading
from importlib import resources

import pytest

import sfnhooks_client as sh


def test_one_class_per_code_of_contract_json():
    contract = json.loads(resources.files("sfnhooks_client").joinpath("contract.json").read_text())
    assert sorted(sh.ERROR_CLASSES) == sorted(contract["errors"])
    assert sh.ERROR_STATUS == contract["errors"]
    for code, cls in sh.ERROR_CLASSES.items():
        assert cls.__name__ == (code if code.endswith("Error") else code + "Error")
        assert issubclass(cls, sh.SfnhooksError)
        assert getattr(sh, cls.__name__) is cls


class _Fake(http.server.ThreadingHTTPServer):
    def __init__(self, answer):
        self.answer, self.keys = answer, []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _do(self):
                n = int(self.headers.get("content-length") or 0)
                if n:
                    self.rfile.read(n)
                fake.keys.append(self.headers.get("idempotency-key"))
                status, headers, body = fake.answer()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                data = json.dumps(body).encode()
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _do

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.mark.parametrize("code", sorted(sh.ERROR_STATUS))
def test_each_code_is_its_class(code):
    status = sh.ERROR_STATUS[code]
    headers = {"content-type": "application/json"}
    if status == 429:
        headers["retry-after"] = "7"
    body = {"error": code, "message": f"m-{code}"}
    if code == "SchemaValidation":
        body["details"] = [{"instanceLocation": "", "keywordLocation": "/required", "error": "x"}]
    srv = _Fake(lambda: (status, headers, body))
    try:
        with pytest.raises(sh.ERROR_CLASSES[code]) as e:
            sh.Client(srv.url, max_retries=0).get_hook("t")
        assert (e.value.code, e.value.status) == (code, status)
        assert f"m-{code}" in str(e.value)
        if status == 429:
            assert e.value.retry_after == 7
        if code == "SchemaValidation":
            assert len(e.value.details) == 1
    finally:
        srv.shutdown()


def test_api_gateway_answer_without_code():
    srv = _Fake(lambda: (403, {"content-type": "application/json"}, {"message": "Forbidden"}))
    try:
        with pytest.raises(sh.SfnhooksError) as e:
            sh.Client(srv.url).resume_hook("t", {})
        assert type(e.value) is sh.SfnhooksError and (e.value.status, e.value.code) == (403, "")
    finally:
        srv.shutdown()


def test_contention_and_internal_error_retried_with_same_key():
    answers = [(503, {}, {"error": "Contention", "message": ""}), (500, {}, {"error": "InternalError", "message": ""}),
               (200, {}, {"token": "t", "executionArn": "e"})]
    srv = _Fake(lambda: answers.pop(0))
    try:
        hook = sh.Client(srv.url).resume_hook("t", {"a": 1})
        assert hook["runId"] == "e"
        assert len(srv.keys) == 3 and srv.keys[0] and len(set(srv.keys)) == 1
        srv.keys.clear()
        srv.answer = lambda: (500, {}, {"error": "InternalError", "message": ""})
        with pytest.raises(sh.InternalError):
            sh.Client(srv.url).resume_hook("t", {})
        assert len(srv.keys) == 4, "max_retries (3) retries, then the error"
        srv.keys.clear()
        srv.answer = lambda: (404, {}, {"error": "HookNotFound", "message": ""})
        with pytest.raises(sh.HookNotFoundError):
            sh.Client(srv.url).resume_hook("t", {})
        assert len(srv.keys) == 1
    finally:
        srv.shutdown()
