"""The `config.*` findings about a distribution: those that need no network (ports, IP origins, S3
website endpoints, missing origins...) and those that explain probe results by the configuration
(a forwarded Host the certificate cannot cover, OriginSslProtocols the origin rejects).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from origin_doctor import codes
from origin_doctor.codes import CodeInfo, finding
from origin_doctor.distribution.model import Distribution, Origin
from origin_doctor.distribution.plan import Plan, Probe
from origin_doctor.distribution.policies import HostDecision
from origin_doctor.model import Finding, Severity
from origin_doctor.result import TargetResult

FAIL, WARN, INFO = Severity.FAIL, Severity.WARN, Severity.INFO

codes.register(
    CodeInfo("config.port_not_allowed", FAIL, None, 4,
             "an origin port outside 80, 443 and 1024-65535, which CloudFront does not connect to",
             "Serve the origin on 443 (or 80 for HTTP), or on a port from 1024 to 65535, and set it on the origin."),
    CodeInfo("config.https_to_s3_website", FAIL, None, None,
             "HTTPS (https-only or match-viewer) to an S3 website endpoint, which serves HTTP only",
             "Set the origin protocol policy to HTTP only for the S3 website endpoint, or use the bucket's REST "
             "endpoint as an S3 origin with origin access control."),
    CodeInfo("config.match_viewer_allow_all", WARN, None, None,
             "match-viewer origin behind a behaviour that allows HTTP viewers: http viewers reach the origin over "
             "HTTP while https and wss viewers need its TLS, so one can work while the other fails",
             "Set the viewer protocol policy to redirect-to-https (or https-only), or the origin protocol policy "
             "to https-only, so that every viewer takes the same path to the origin."),
    CodeInfo("config.missing_origin", FAIL, None, None,
             "a cache behaviour targets an origin or origin group id that does not exist",
             "Point the behaviour's TargetOriginId at an existing origin or origin group."),
    CodeInfo("config.group_member_missing", FAIL, None, None,
             "an origin group names a member origin that does not exist",
             "Make both members of the origin group existing origins of the distribution."),
    CodeInfo("config.policy_unknown", WARN, None, None,
             "a custom origin request or cache policy could not be read, so whether Host is forwarded is a guess "
             "(assumed: not forwarded)",
             "Pass the policy with --origin-request-policy/--cache-policy FILE (aws cloudfront "
             "get-origin-request-policy --id ID > FILE), or check live with --id."),
    CodeInfo("config.host_not_on_certificate", FAIL, "502", 1,
             "the behaviour forwards the viewer's Host, so CloudFront sends the alias as SNI and checks it on the "
             "origin's certificate, which does not cover it",
             "Add the alias to the origin certificate's subjectAltName, or stop forwarding Host "
             "(managed policy AllViewerExceptHostHeader) so that CloudFront checks the origin domain."),
    CodeInfo("config.ssl_protocols_rejected", FAIL, "502", 2,
             "the origin's OriginSslProtocols allow only TLS versions the origin rejects",
             "Add TLSv1.2 to the origin's OriginSslProtocols (or enable an allowed version on the origin)."),
    CodeInfo("config.s3_origin", INFO, None, None,
             "an S3 REST origin: S3 supplies the certificate and CloudFront always uses TLSv1.2; the bucket policy "
             "and origin access control cannot be checked from outside",
             "Nothing to do for TLS; check bucket policy and origin access control in the AWS console."),
    CodeInfo("config.vpc_origin", INFO, None, None,
             "a VPC origin: private, reachable only through CloudFront; ports, protocol policy and timeouts are "
             "listed but the origin cannot be probed from outside",
             "If it answers 504, allow the CloudFront-VPCOrigins-Service-SG security group on the load balancer."),
    CodeInfo("config.http_only_origin", INFO, None, None,
             "an http-only origin: CloudFront uses plain HTTP, so there is no TLS or certificate to check",
             "Nothing to check for TLS; consider https-only if the traffic to the origin must be encrypted."),
)

ALLOWED_PORTS = "80, 443, 1024-65535"


def _port_allowed(port: int) -> bool:
    return port in (80, 443) or 1024 <= port <= 65535


def _is_ip(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        return False
    return True


def static_findings(dist: Distribution, decisions: Mapping[int, HostDecision],
                    unread: Mapping[str, str] | None = None) -> list[Finding]:
    """Findings from the configuration alone, in the order a reader meets them. `unread`: why a
    policy could not be fetched live, by policy id."""
    unread = unread or {}
    found: list[Finding] = []
    for origin in dist.origins:
        found += _origin_findings(origin)
    origin_ids = {o.id for o in dist.origins}
    for group in dist.groups:
        for member in group.members:
            if member not in origin_ids:
                found.append(finding("config.group_member_missing", f"origin group {group.id}",
                                     f"Origin group '{group.id}' names member '{member}', which is not an origin.",
                                     group=group.id, member=member))
    reported_policies: set[str] = set()
    for index, behaviour in enumerate(dist.behaviours):
        subject = f"behaviour {behaviour.label}"
        target = behaviour.target_origin_id
        target_group = dist.group(target)
        if target not in origin_ids and target_group is None:
            found.append(finding("config.missing_origin", subject,
                                 f"Behaviour {behaviour.label} targets '{target}', which is neither an origin nor an "
                                 "origin group.", behaviour=behaviour.label, target_origin_id=target))
        members = [dist.origin(m) for m in (target_group.members if target_group else (target,))]
        if behaviour.viewer_protocol_policy == "allow-all":
            for candidate in members:
                if candidate is not None and candidate.kind == "custom" and candidate.protocol_policy == "match-viewer":
                    found.append(finding(
                        "config.match_viewer_allow_all", subject,
                        f"Behaviour {behaviour.label} allows HTTP viewers and origin '{candidate.id}' matches the viewer: "
                        f"http:// requests go to port {candidate.http_port} without TLS, https:// and wss:// requests "
                        f"to port {candidate.https_port} with TLS, so http can work while https and wss fail.",
                        behaviour=behaviour.label, origin=candidate.id))
        for policy_id in decisions[index].unknown_policies:
            if policy_id not in reported_policies:
                reported_policies.add(policy_id)
                why = f" ({unread[policy_id]})" if policy_id in unread else " (not given with --origin-request-policy)"
                found.append(finding("config.policy_unknown", subject,
                                     f"Custom policy {policy_id} of behaviour {behaviour.label} could not be read"
                                     f"{why}; Host is assumed not forwarded.", policy=policy_id,
                                     reason=unread.get(policy_id)))
    return found


def _origin_findings(origin: Origin) -> list[Finding]:
    subject = f"origin {origin.id}"
    found: list[Finding] = []
    if _is_ip(origin.domain):
        found.append(finding("config.ip_origin", subject,
                             f"Origin '{origin.id}' uses the IP address {origin.domain} as its domain; CloudFront "
                             "only accepts a domain name.", origin=origin.id, domain=origin.domain))
    if origin.kind == "s3":
        found.append(finding("config.s3_origin", subject, f"Origin '{origin.id}' ({origin.domain}) is an S3 REST "
                             "origin; listed, not probed.", origin=origin.id, domain=origin.domain))
        return found
    if origin.kind == "vpc":
        found.append(finding("config.vpc_origin", subject, f"Origin '{origin.id}' ({origin.domain}) is a VPC origin; "
                             "listed, not probed.", origin=origin.id, domain=origin.domain,
                             read_timeout=origin.read_timeout, keepalive_timeout=origin.keepalive_timeout))
        return found
    for name, port in (("HTTPPort", origin.http_port), ("HTTPSPort", origin.https_port)):
        if not _port_allowed(port):
            found.append(finding("config.port_not_allowed", subject,
                                 f"Origin '{origin.id}' has {name} {port}; CloudFront connects only to {ALLOWED_PORTS}.",
                                 origin=origin.id, field=name, port=port))
    if "s3-website" in origin.domain and origin.protocol_policy != "http-only":
        found.append(finding("config.https_to_s3_website", subject,
                             f"Origin '{origin.id}' ({origin.domain}) is an S3 website endpoint with protocol policy "
                             f"{origin.protocol_policy}; website endpoints do not serve HTTPS.",
                             origin=origin.id, protocol_policy=origin.protocol_policy))
    if origin.protocol_policy == "http-only":
        found.append(finding("config.http_only_origin", subject, f"Origin '{origin.id}' is http-only (port "
                             f"{origin.http_port}); no TLS to check.", origin=origin.id, http_port=origin.http_port))
    return found


def result_findings(plan: Plan, results: Mapping[Probe, TargetResult]) -> list[Finding]:
    """Configuration explanations of what the probes saw (one finding per alias and origin)."""
    found: list[Finding] = []
    seen: set[tuple[str, ...]] = set()
    for row in plan.rows:
        result = results.get(row.probe) if row.probe is not None else None
        if result is None or row.origin is None or row.probe is None:
            continue
        codes_seen = {f.code for f in result.findings}
        target = result.target
        if row.host.forwarded and target.host_header and codes_seen & {"cert.name_mismatch", "tls.sni_rejected"}:
            key = ("host", target.host_header, row.origin.id)
            if key not in seen:
                seen.add(key)
                observed = "cert.name_mismatch" if "cert.name_mismatch" in codes_seen else "tls.sni_rejected"
                found.append(finding(
                    "config.host_not_on_certificate", f"origin {row.origin.id} alias {target.host_header}",
                    f"Behaviour {row.behaviour.label} forwards Host: CloudFront sends '{target.host_header}' as SNI "
                    f"to {row.origin.domain}:{target.port} and checks it on the certificate, which does not cover it "
                    f"({observed}).", alias=target.host_header, origin=row.origin.id,
                    behaviour=row.behaviour.label, host_reason=row.host.reason, observed=observed))
        if row.probe.settings.ssl_protocols and "tls.protocol_mismatch" in codes_seen:
            key = ("ssl", row.origin.id, "")
            if key not in seen:
                seen.add(key)
                allowed = ", ".join(row.probe.settings.ssl_protocols)
                found.append(finding(
                    "config.ssl_protocols_rejected", f"origin {row.origin.id}",
                    f"Origin '{row.origin.id}' allows only {allowed} (OriginSslProtocols); {row.origin.domain} "
                    "accepts none of them.", origin=row.origin.id, ssl_protocols=list(row.probe.settings.ssl_protocols)))
    return found
