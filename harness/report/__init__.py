"""HTML report of one run, the index of runs in a store, and the `serve` HTTP server."""

from splitbrain.harness.report.index import write_index
from splitbrain.harness.report.page import write_history_report, write_report
from splitbrain.harness.report.server import make_server, serve

__all__ = ["write_report", "write_history_report", "write_index", "serve", "make_server"]
