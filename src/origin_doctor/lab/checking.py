"""How the demo, the tests and the benchmarks point the engine at a running lab: its trust store,
its addresses, its DNS server, its pinned clock, and short timeouts so failures come fast."""

from __future__ import annotations

from dataclasses import replace

from origin_doctor.engine import CheckOptions
from origin_doctor.lab.run import Lab
from origin_doctor.model import Target
from origin_doctor.profile import load_profile
from origin_doctor.targets import parse_resolve

# Short on purpose: the lab's silent peers would otherwise hold a check for CloudFront's 3 x 10 s.
LAB_CONNECT_TIMEOUT = 2.0
LAB_READ_TIMEOUT = 2.0


def lab_options(lab: Lab, profile: str = "cloudfront", **changes: object) -> CheckOptions:
    chosen = load_profile(profile).with_overrides(
        connect_timeout=LAB_CONNECT_TIMEOUT, connect_attempts=1, read_timeout=LAB_READ_TIMEOUT,
        ca_bundle=lab.ca_bundle,
    )
    options = CheckOptions(
        profile=chosen,
        now=lab.now,
        resolve=parse_resolve(tuple(lab.resolve_args())),
        nameservers=(lab.dns_address,),
        dns_timeout=2.0,
    )
    return replace(options, **changes) if changes else options  # type: ignore[arg-type]


def lab_target(lab: Lab, name: str, *, websocket: bool = True) -> Target:
    scenario = lab.scenario(name)
    _, port = lab.endpoints[name]
    return Target(name=name, origin=name, port=port,
                  websocket_path=scenario.websocket_path if websocket else None)
