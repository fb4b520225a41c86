"""Local services as context managers, usable without pytest: tracker, proxy, page server."""

from .page_server import PageServer
from .proxy import ProxyService
from .tracker import TrackerService

__all__ = ["PageServer", "ProxyService", "TrackerService"]
