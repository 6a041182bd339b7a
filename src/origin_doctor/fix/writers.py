"""Write a verified bundle in the shape each server wants: nginx (one full-chain PEM), ACM
(certificate.pem + chain.pem and the import command), HAProxy (chain + key, mode 0600).
Files are written next to their destination and renamed into place, so a reload never sees half.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from origin_doctor.errors import InputError, UsageError
from origin_doctor.fix.plan import ChainPlan
from origin_doctor.fix.sources import PrivateKey

FORMATS = ("nginx", "acm", "haproxy")


@dataclass(frozen=True, slots=True)
class Written:
    files: tuple[Path, ...]
    command: str | None = None  # a command to run next (ACM import)


def _write(path: Path, text: str, mode: int) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        try:
            os.fchmod(handle, mode)
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def _key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def default_out(plan: ChainPlan, form: str) -> Path:
    base = plan.name.replace("*", "wildcard") or "origin"
    return Path({"nginx": f"{base}-fullchain.pem", "acm": f"{base}-acm", "haproxy": f"{base}.pem"}[form])


def write_bundle(plan: ChainPlan, form: str, out: Path, key: PrivateKey | None = None,
                 key_path: Path | None = None) -> Written:
    """Write `plan`'s bundle; the caller has checked that the plan is ok (and the key matches)."""
    if form == "nginx":
        _write(out, plan.pem(), 0o644)
        return Written((out,))
    if form == "haproxy":
        if key is None:
            raise UsageError("--format haproxy writes the chain and the key in one file: give --key KEY")
        _write(out, plan.pem() + _key_pem(key), 0o600)
        return Written((out,))
    if form == "acm":
        certificate, chain = out / "certificate.pem", out / "chain.pem"
        _write(certificate, plan.pem(plan.bundle[:1]), 0o644)
        files = [certificate]
        command = ["aws", "acm", "import-certificate", "--certificate", f"fileb://{certificate}"]
        if len(plan.bundle) > 1:
            _write(chain, plan.pem(plan.bundle[1:]), 0o644)
            files.append(chain)
            command += ["--certificate-chain", f"fileb://{chain}"]
        command += ["--private-key", f"fileb://{key_path}" if key_path else "fileb://PRIVATE-KEY.pem"]
        return Written(tuple(files), " ".join(shlex.quote(part) for part in command))
    raise UsageError(f"--format {form!r}: use one of {', '.join(FORMATS)}")
