"""Both clients' SigV4 signatures, checked by a third signer: a local server
captures the signed requests of the Python client (botocore) and of the
TypeScript client (@smithy/signature-v4, run with node), and botocore
recomputes each signature from what arrived (method, path, query, signed
headers, body, X-Amz-Date). make dev checks no authorization, so this is
where a request that API Gateway would refuse shows up. Tokens with a space,
a colon and non-ASCII characters exercise the path encoding."""

from __future__ import annotations

import http.server
import json
import pathlib
import shutil
import subprocess
import threading
from typing import Any, Dict, List

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import sfnhooks_client as sh

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TS = pathlib.Path(__file__).resolve().parents[2] / "typescript"
TOKEN = "order 42:ü"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


class _Capture(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        cap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _do(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                cap.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                 "body": self.rfile.read(n) if n else b""})
                data = json.dumps({"token": "t", "executionArn": "e", "hooks": []}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _do

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def verify(server_url: str, req: Dict[str, Any]) -> None:
    """Recompute the request's signature with botocore and compare."""
    h = {k.lower(): v for k, v in req["headers"].items()}
    auth = h["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=" + AKID + "/"), auth
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    scope = parts["Credential"].split("/")
    assert scope[2:] == ["us-east-1", "execute-api", "aws4_request"], scope
    signed = parts["SignedHeaders"].split(";")
    assert "host" in signed and "x-amz-date" in signed, signed
    aws = AWSRequest(method=req["method"], url=server_url + req["path"], data=req["body"],
                     headers={k: h[k] for k in signed})
    aws.context["timestamp"] = h["x-amz-date"]
    signer = SigV4Auth(Credentials(AKID, SECRET), "execute-api", "us-east-1")
    want = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    assert parts["Signature"] == want, f"{req['method']} {req['path']}: signature differs from botocore's"


def test_python_client_signature():
    srv = _Capture()
    try:
        c = sh.Client(srv.url, auth="sigv4", region="us-east-1",
                      session=boto3.Session(aws_access_key_id=AKID, aws_secret_access_key=SECRET))
        c.resume_hook(TOKEN, {"approved": True}, encryption_key_override="alias/k")
        c.get_hook(TOKEN)
        c.list_hooks("arn:aws:states:us-east-1:123456789012:execution:m:e", state="waiting", limit=5)
        c.reject_hook(TOKEN, "No", "why")
        c.list_state_machine_hooks(MACHINE, state="idle", tag="customer:acme co", order="oldest", limit=2, cursor="c/1+=")
        c.dispose_hook(TOKEN, "arn:aws:states:us-east-1:123456789012:execution:m:e")
        assert len(srv.seen) == 6
        assert srv.seen[5]["method"] == "DELETE"
        for req in srv.seen:
            verify(srv.url, req)
    finally:
        srv.shutdown()


SCRIPT = """
import { SfnhooksClient } from './src/index.js';
const [endpoint, akid, secret, token] = process.argv.slice(1);
const c = new SfnhooksClient({ endpoint, auth: 'sigv4', region: 'us-east-1', credentials: { accessKeyId: akid, secretAccessKey: secret } });
await c.resumeHook(token, { approved: true }, 'alias/k');
await c.getHookByToken(token);
await c.listHooks('arn:aws:states:us-east-1:123456789012:execution:m:e', { state: 'waiting', limit: 5 });
await c.rejectHook(token, 'No', 'why');
await c.listStateMachineHooks('arn:aws:states:us-east-1:123456789012:stateMachine:m', { state: 'idle', tag: 'customer:acme co', order: 'oldest', limit: 2, cursor: 'c/1+=' });
await c.disposeHook(token, 'arn:aws:states:us-east-1:123456789012:execution:m:e');
"""


def test_typescript_client_signature():
    node = shutil.which("node")
    if node is None or not (TS / "node_modules").is_dir():
        pytest.fail("node and clients/typescript/node_modules are needed (make test-clients installs them)")
    srv = _Capture()
    try:
        subprocess.run([node, "--input-type=module", "-e", SCRIPT, srv.url, AKID, SECRET, TOKEN], cwd=TS, check=True,
                       capture_output=True, text=True)
        assert len(srv.seen) == 6
        assert srv.seen[5]["method"] == "DELETE"
        for req in srv.seen:
            verify(srv.url, req)
    finally:
        srv.shutdown()


JWT_SCRIPT = """
import { SfnhooksClient } from './src/index.js';
const [endpoint, akid, secret] = process.argv.slice(1);
const c = new SfnhooksClient({ endpoint, auth: 'jwt', jwt: () => 'h.p.s', listAuth: 'sigv4', region: 'us-east-1', credentials: { accessKeyId: akid, secretAccessKey: secret } });
await c.resumeHook('t', 1);
await c.listHooks('arn:aws:states:us-east-1:123456789012:execution:m:e');
await c.listStateMachineHooks('arn:aws:states:us-east-1:123456789012:stateMachine:m', { tag: 'customer:acme' });
await c.disposeHook('t', 'arn:aws:states:us-east-1:123456789012:execution:m:e');
"""


def check_jwt_then_list(srv: _Capture) -> None:
    """The resume carries the bearer; the three operator requests (list by
    execution, by state machine, dispose) are SigV4-signed."""
    assert len(srv.seen) == 4
    resume = {k.lower(): v for k, v in srv.seen[0]["headers"].items()}
    assert resume.get("authorization") == "Bearer h.p.s"
    assert [(r["method"], r["path"].split("?")[0]) for r in srv.seen[1:]] == [
        ("GET", "/hooks"), ("GET", "/hooks"), ("DELETE", "/hooks/t")]
    for req in srv.seen[1:]:
        assert "executionArn=" in req["path"] or "stateMachineArn=" in req["path"]
        assert {k.lower(): v for k, v in req["headers"].items()}["authorization"].startswith("AWS4-HMAC-SHA256 ")
        verify(srv.url, req)


def test_list_is_sigv4_for_a_jwt_client():
    """GET /hooks and DELETE /hooks/{token} are always SigV4 on AWS
    (openapi.yaml): a JWT client signs them (list_auth defaults to sigv4 off
    loopback; set here, the server being on loopback)."""
    srv = _Capture()
    try:
        c = sh.Client(srv.url, auth="jwt", jwt="h.p.s", list_auth="sigv4", region="us-east-1",
                      session=boto3.Session(aws_access_key_id=AKID, aws_secret_access_key=SECRET))
        c.resume_hook("t", 1)
        c.list_hooks("arn:aws:states:us-east-1:123456789012:execution:m:e")
        c.list_state_machine_hooks(MACHINE, tag="customer:acme")
        c.dispose_hook("t", "arn:aws:states:us-east-1:123456789012:execution:m:e")
        check_jwt_then_list(srv)
        assert sh.Client("https://abc.execute-api.eu-west-1.amazonaws.com", auth="jwt", jwt="x")._transport.list_auth == "sigv4"  # type: ignore[union-attr]
    finally:
        srv.shutdown()
    srv = _Capture()
    try:
        subprocess.run([shutil.which("node") or "node", "--input-type=module", "-e", JWT_SCRIPT, srv.url, AKID, SECRET],
                       cwd=TS, check=True, capture_output=True, text=True)
        check_jwt_then_list(srv)
    finally:
        srv.shutdown()
