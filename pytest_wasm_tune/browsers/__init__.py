"""Browsers that load the measurement page and register as TVM RPC servers.

`registry.LOCAL_BROWSERS` lists the local ones; `remote_webdriver` drives farm-file entries.
"""
