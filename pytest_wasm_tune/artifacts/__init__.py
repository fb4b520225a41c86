"""Run artifacts: result records, the environment, and report.json (databases: see README)."""

from .environment import collect_environment
from .report import RunRecorder, write_report
from .results import result_to_dict

__all__ = ["RunRecorder", "collect_environment", "result_to_dict", "write_report"]
