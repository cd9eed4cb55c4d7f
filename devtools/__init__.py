"""Development tools: bring up simulators and a ready-to-use Home Assistant.

``scripts/develop`` and the browser tests (``tests_browser/``) share this code.
"""
