"""Probes: the only code that opens connections, one module per stage, deadlines everywhere."""
