"""Radio Browser, off: onboarding would set it up, and it looks up its
servers on the internet at once (and retries while that fails).
"""
