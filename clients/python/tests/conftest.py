"""Fixtures: make dev's stack (scripts/test-clients.sh starts it and names its
.state file in SFNHOOKS_DEV_STATE), executions of its examples, and two more
examples (collect, webhook) created here with boto3 against its AWS endpoint."""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import time
from typing import Any, Callable, Dict

import boto3
import pytest
import urllib3

ROOT = pathlib.Path(__file__).resolve().parents[3]


def uniq(prefix: str) -> str:
    return f"{prefix}-{int(time.time() * 1000):x}-{secrets.token_hex(3)}"


def until(what: str, fn: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            v = fn()
        except Exception:  # noqa: BLE001 - polled again
            v = None
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)



def without_settings(output: Any) -> Any:
    """The examples keep their await timeout in $.settings (a first Pass
    state); the assertions are about what the workflow received."""
    if isinstance(output, dict):
        output.pop("settings", None)
    return output

class Dev:
    def __init__(self, state: Dict[str, Any]) -> None:
        self.state = state
        self.api = state["apiUrl"]
        aws = dict(region_name="us-east-1", endpoint_url=state["bridgeUrl"], aws_access_key_id="test",
                   aws_secret_access_key="test")
        self.sfn = boto3.client("stepfunctions", **aws)
        self.lambda_ = boto3.client("lambda", **aws)
        self.http = urllib3.PoolManager()
        self._machines: Dict[str, str] = {}

    def start(self, machine: str, payload: Dict[str, Any]) -> str:
        """An execution of one of make dev's examples (its helper route)."""
        r = self.http.request("POST", f"{self.api}/dev/executions/{machine}", body=json.dumps(payload).encode())
        assert r.status == 200, r.data
        return json.loads(r.data)["executionArn"]

    def machine(self, short: str, file: str) -> str:
        if short in self._machines:
            return self._machines[short]
        definition = (ROOT / "examples" / file).read_text().replace("${HookTaskFunctionArn}", self.state["functions"]["hookTask"]).replace("${AwaitTimeoutSeconds}", "86400")
        name = f"sfnhooks-clients-py-{short}"
        try:
            arn = self.sfn.create_state_machine(name=name, definition=definition,
                                                roleArn="arn:aws:iam::123456789012:role/sfnhooks-example")["stateMachineArn"]
        except self.sfn.exceptions.StateMachineAlreadyExists:
            arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
            self.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        self._machines[short] = arn
        return arn

    def start_sdk(self, machine_arn: str, payload: Dict[str, Any]) -> str:
        return self.sfn.start_execution(stateMachineArn=machine_arn, name=uniq("exe"), input=json.dumps(payload))["executionArn"]

    def finished(self, execution_arn: str, seconds: float = 60) -> Dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                return {"status": d["status"], "output": without_settings(json.loads(d["output"])) if d.get("output") else None,
                        "error": d.get("error"), "cause": d.get("cause")}
            if time.monotonic() > deadline:
                raise AssertionError(f"execution {execution_arn} still RUNNING")
            time.sleep(0.1)

    def hook_task(self, event: Dict[str, Any]) -> Dict[str, Any]:
        out = self.lambda_.invoke(FunctionName=self.state["functions"]["hookTask"], Payload=json.dumps(event).encode())
        body = json.loads(out["Payload"].read())
        assert not out.get("FunctionError"), body
        return body


@pytest.fixture(scope="session")
def dev() -> Dev:
    path = os.environ.get("SFNHOOKS_DEV_STATE")
    if not path:
        pytest.fail("SFNHOOKS_DEV_STATE is not set: run make test-clients (scripts/test-clients.sh), which starts make dev for these tests")
    return Dev(json.loads(pathlib.Path(path).read_text()))


def fake_execution() -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:sfnhooks-clients-py:{uniq('x')}"
