"""The demo's prompt generator: waits for the agent, sends seeded prompts, counts the actions."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moderation.fleet import traffic


class FakeAgent(BaseHTTPRequestHandler):
    prompts: list = []  # noqa: RUF012 (one list per test, reset by the fixture)
    ready = True

    def do_GET(self):
        self.send_response(200 if self.ready else 503)
        self.end_headers()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.prompts.append(body["prompt"])
        action = "review" if body["prompt"] in traffic.FLAGGED else "allow"
        raw = json.dumps({"action": action}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def agent():
    FakeAgent.prompts, FakeAgent.ready = [], True
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAgent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_stream_is_seeded_and_mixes_flagged_prompts():
    a = [p for p, _ in zip(traffic.prompts(7, 0.5), range(200), strict=False)]
    b = [p for p, _ in zip(traffic.prompts(7, 0.5), range(200), strict=False)]
    assert a == b
    flagged = sum(p in traffic.FLAGGED for p in a)
    assert 60 < flagged < 140
    none = [p for p, _ in zip(traffic.prompts(7, 0.0), range(50), strict=False)]
    assert not set(none) & set(traffic.FLAGGED)


def test_it_sends_prompts_and_counts_the_actions(agent):
    out = io.StringIO()
    counts = traffic.run(
        agent, rate=200, seconds=0.5, seed=1, flagged_share=0.5, report=0.1, out=out
    )
    assert sum(counts.values()) == len(FakeAgent.prompts) > 5
    assert counts["review"] == sum(p in traffic.FLAGGED for p in FakeAgent.prompts)
    assert "sent so far" in out.getvalue()


def test_it_waits_for_an_active_bundle_and_gives_up_with_a_message(agent, capsys):
    FakeAgent.ready = False
    assert traffic.wait_ready(agent, timeout=1.5) is False
    assert traffic.main(["--agent", agent, "--wait", "1", "--seconds", "1"]) == 1
    assert "has no active bundle" in capsys.readouterr().err
