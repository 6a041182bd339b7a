"""The lab: misbehaving origins, certificates and DNS on loopback, for the demo and the tests."""
