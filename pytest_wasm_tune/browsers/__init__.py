"""Browsers that load the measurement page and register as TVM RPC servers."""

from .chromium import ChromiumBrowser

__all__ = ["ChromiumBrowser"]
