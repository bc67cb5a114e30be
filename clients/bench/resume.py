"""Time of one resume with the Python client against a running make dev: N
approval executions are started and parked, then each is resumed once. Prints
the median, p90 and the first call.

    .state/venv-clients/bin/python clients/bench/resume.py [.state/dev.json] [N=20] [http|sigv4|lambda]
"""
import json
import statistics
import sys
import time

import urllib3

import sfnhooks_client as sh

dev = json.load(open(sys.argv[1] if len(sys.argv) > 1 else ".state/dev.json"))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
transport = sys.argv[3] if len(sys.argv) > 3 else "http"
if transport == "http":
    client = sh.Client(dev["apiUrl"])
elif transport == "sigv4":
    client = sh.Client(dev["apiUrl"], auth="sigv4", region="us-east-1")
else:
    client = sh.Client(resume_hook_function=dev["functions"]["resumeHook"], lambda_endpoint_url=dev["bridgeUrl"], region="us-east-1")
run = f"benchpy-{int(time.time() * 1000):x}"
pool = urllib3.PoolManager()
tokens = []
for i in range(n):
    pool.request("POST", f"{dev['apiUrl']}/dev/executions/approval", body=json.dumps({"orderId": f"{run}-{i}"}).encode())
    tokens.append(f"approval-{run}-{i}")
probe = sh.Client(dev["apiUrl"])
for t in tokens:
    while True:
        try:
            if probe.get_hook(t)["waiting"]:
                break
        except sh.HookNotFoundError:
            pass
        time.sleep(0.1)
ms = []
for t in tokens:
    start = time.perf_counter()
    client.resume_hook(t, {"approved": True})
    ms.append((time.perf_counter() - start) * 1000)
s = sorted(ms)
print(f"python {transport}: {n} resumes, median {statistics.median(ms):.1f} ms, p90 {s[min(n - 1, int(0.9 * n))]:.1f} ms, first {ms[0]:.1f} ms")
