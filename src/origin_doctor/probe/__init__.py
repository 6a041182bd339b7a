"""The only code that opens connections: one module per stage, each step under a deadline.

Probes observe and return frozen observations; they never raise for what the remote side did.
"""
