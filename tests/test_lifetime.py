"""A one-shot command ends by ``os._exit`` without freeing what it kept, yet its output, its
exit handlers and its exit code are those of a usual exit; with a thread still running it
exits as usual, waiting for the thread."""

from __future__ import annotations

import subprocess
import sys

from splitbrain.harness.base import lifetime

ENDING = """
import atexit, threading, time
from splitbrain.harness.base import lifetime
atexit.register(lambda: print("handler ran"))
lifetime.one_shot()
lifetime.keep(list(range(1000)), 1000)
if THREAD:
    threading.Thread(target=lambda: (time.sleep(0.2), print("thread finished"))).start()
print("output", flush=False)
lifetime.end(3)
print("not reached")
"""


def _end(thread: bool) -> subprocess.CompletedProcess[str]:
    code = ENDING.replace("THREAD", str(thread))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_one_shot_end_flushes_runs_handlers_and_keeps_the_code() -> None:
    done = _end(thread=False)
    assert (done.returncode, done.stdout, done.stderr) == (3, "output\nhandler ran\n", "")


def test_one_shot_end_with_a_thread_running_waits_for_it() -> None:
    done = _end(thread=True)
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["output", "thread finished", "handler ran"]


def test_nothing_is_kept_outside_a_one_shot_process() -> None:
    before = len(lifetime._kept)
    lifetime.keep(object(), 1)
    assert len(lifetime._kept) == before == 0
