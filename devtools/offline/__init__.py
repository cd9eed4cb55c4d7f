"""Stand-ins for the integrations Home Assistant's onboarding sets up that go
to the internet; scripts/develop and the browser tests link them into the
configuration's ``custom_components`` so a development instance talks to
loopback only.
"""
