"""Browser tests: a real Home Assistant driven through headless Chromium."""
