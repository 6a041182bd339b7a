"""The lab: misbehaving origins, certificates and DNS on loopback, for the demo and the tests.

`run.Lab` starts everything listed in `scenarios.SCENARIOS`; `pki` mints the certificates,
`nginx` runs nginx from a private prefix, `peers` and `dns_server` play what nginx cannot.
"""
