#!/usr/bin/env python3
"""Ask a running Xietong gateway about a proof bundle, or a file's SHA-256, over its HTTP API.

An example for integrators: the standard library and ``httpx`` only, nothing of Xietong's own
code. It uses the routes docs/API.md documents:

- a **bundle** (``xietong-proof/3``, as ``xietong dataset proof`` or ``GET /v1/proofs/{leaf}``
  writes it): a file leaf is asked with ``GET /v1/verify?hash=<leaf hash>&with_proof=true``, a
  record leaf with ``POST /v1/verify/record`` (its record hash and salt in the body, never in a
  URL) and ``"with_proof": true``. The gateway answers with every version holding the leaf,
  each with the gateway's own bundle of it; the example takes the bundle's version and compares
  the two bundles member by member. The gateway *vouches* for the bundle when that version is
  ``anchored`` (confirmed, not revoked) and the two bundles are the same.
- a **hash** (``--hash 0x…``, a file's content SHA-256 or a leaf hash): ``GET /v1/verify``.

This trusts the gateway. To check a bundle trusting no gateway, use ``xietong verify-proof``
with the consortium trust file, or hardhat-node/examples/check-anchor.mjs with the manifest.

Usage::

    export XIETONG_API_KEY=xt_…            # a read key (`xietong apikey create --scope read`)
    python examples/verify_bundle.py proof.json --gateway http://127.0.0.1:8000
    python examples/verify_bundle.py --hash 0x<64 hex digits>

It prints one JSON document (the verdict) on stdout. Exit status: 0 the gateway vouches for the
bundle (or holds the hash in an anchored version); 3 it answered, but does not (``vouched``
false: another version, a difference, or a version revoked or not yet confirmed); 1 no answer
(one sentence on stderr: a missing or malformed bundle, a gateway that cannot be reached, or
a problem document, whose title and detail are shown); 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

import httpx

DEFAULT_GATEWAY = "http://127.0.0.1:8000"
BUNDLE_FORMAT = "xietong-proof/3"
#: A real bundle is a few KB; anything much larger is not one.
MAX_BUNDLE_BYTES = 1 << 20
TIMEOUT_SECONDS = 30.0
HASH = re.compile(r"0x[0-9a-fA-F]{64}")
#: Exit statuses (see the module's docstring).
VOUCHED, FAILED, USAGE, NOT_VOUCHED = 0, 1, 2, 3


class RefusalError(Exception):
    """No answer: its message is the one sentence shown on stderr (exit status 1)."""


# ------------------------------------------------------------------------------ output


def _safe(text: str) -> str:
    """``text`` with what could act on a terminal (control, bidirectional and invisible
    characters: Unicode categories C* but the line feed, and Zl/Zp) written as ``\\uXXXX``
    escapes, which keep a JSON text valid and equal. Names come from the chain, where any
    department may write any text."""
    return "".join(
        f"\\u{ord(c):04x}"
        if (unicodedata.category(c)[0] == "C" and c != "\n") or c in "\u2028\u2029"
        else c
        for c in text
    )


def emit(document: dict[str, Any]) -> None:
    """Print ``document`` as JSON, readable (non-ASCII kept) and terminal-safe."""
    print(_safe(json.dumps(document, indent=2, ensure_ascii=False)))


def fail(sentence: str) -> NoReturn:
    raise RefusalError(sentence)


# ------------------------------------------------------------------------------ the bundle


def read_bundle(path: Path) -> dict[str, Any]:
    """The bundle at ``path``, checked for what this example reads (the gateway judges the rest,
    and the comparison catches any member that differs)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        fail(f"no proof bundle at {path}.")
    except IsADirectoryError:
        fail(f"the proof bundle {path} is a folder, not a file.")
    except OSError as exc:
        fail(f"cannot read the proof bundle {path} ({exc.strerror}).")
    if len(raw) > MAX_BUNDLE_BYTES:
        fail(f"the proof bundle {path} is larger than {MAX_BUNDLE_BYTES} bytes.")
    try:
        bundle = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail(f"the proof bundle {path} is not valid JSON.")
    if not isinstance(bundle, dict):
        fail(f"the proof bundle {path} is not a JSON object.")
    if bundle.get("format") != BUNDLE_FORMAT:
        fail(f"{path} is not a {BUNDLE_FORMAT} proof bundle.")
    leaf = bundle.get("leaf")
    if not (
        isinstance(leaf, dict)
        and leaf.get("types") in (["bytes32", "string"], ["bytes32", "bytes32"])
        and isinstance(leaf.get("values"), list)
        and len(leaf["values"]) == 2
        and all(isinstance(v, str) for v in leaf["values"])
        and isinstance(leaf.get("hash"), str)
        and HASH.fullmatch(leaf["hash"])
    ):
        fail(f"the proof bundle {path} has no well-formed `leaf` (types, two values, hash).")
    if not (isinstance(bundle.get("version_id"), str) and HASH.fullmatch(bundle["version_id"])):
        fail(f"the proof bundle {path} has no well-formed `version_id`.")
    return bundle


def _normal(value: Any) -> Any:
    """``value`` with hex strings lowercased (an address's checksum case is not a difference)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        return value.lower()
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The members (top level) in which two bundles differ, sorted."""
    return sorted(
        name
        for name in set(ours) | set(theirs)
        if _normal(ours.get(name)) != _normal(theirs.get(name))
    )


# ------------------------------------------------------------------------------ the gateway


class Gateway:
    """The gateway's read API, with the key in ``X-API-Key`` (never printed)."""

    def __init__(self, url: str, api_key: str | None) -> None:
        self.url = url.rstrip("/")
        headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON answer of a request; a RefusalError for anything else."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError:
            fail(f"cannot reach the gateway at {self.url} (connection refused or no such host).")
        except httpx.TimeoutException:
            fail(f"the gateway at {self.url} did not answer within {TIMEOUT_SECONDS:.0f} seconds.")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            fail(f"the request to the gateway at {self.url} failed ({type(exc).__name__}).")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        try:
            body = response.json() if media_type.endswith("json") else None
        except ValueError:  # not JSON after all (nor UTF-8)
            body = None
        if response.is_success and media_type == "application/json" and isinstance(body, dict):
            return body
        if media_type == "application/problem+json" and isinstance(body, dict):
            # RFC 9457: `title` names the kind of problem, `detail` this occurrence.
            title = _safe(str(body.get("title", "an error")))
            detail = _safe(str(body.get("detail", "")))
            fail(f"the gateway answered {response.status_code} {title}: {detail}")
        fail(f"the gateway at {self.url} answered HTTP {response.status_code}, not JSON.")


def summary(match: dict[str, Any]) -> dict[str, Any]:
    """What a person wants of one match: the version, who published it, when, and who may
    receive it now (the gateway's own words, names as the chain holds them)."""
    version = match.get("version") or {}
    return {
        "status": match.get("status"),
        "kind": match.get("kind"),
        "path": match.get("path"),
        "version_id": version.get("id"),
        "root": version.get("root"),
        "dataset_id": version.get("dataset_id"),
        "owner": (version.get("owner") or {}).get("name"),
        "anchored_by": (version.get("anchored_by") or {}).get("name"),
        "anchored_at": version.get("anchored_at"),
        "transaction": version.get("transaction"),
        "confirmations": version.get("confirmations"),
        "revoked_at": version.get("revoked_at"),
        "may_be_shared_with": [
            (a.get("consumer") or {}).get("name") for a in match.get("authorizations") or []
        ],
    }


def check_bundle(gateway: Gateway, bundle: dict[str, Any], source: str) -> int:
    """Ask the gateway for the bundle's leaf, compare its bundle of the bundle's version with
    this one, print the verdict; the exit status."""
    leaf = bundle["leaf"]
    if leaf["types"][1] == "string":  # a file leaf: content SHA-256 and path
        answer = gateway.request(
            "GET", "/v1/verify", params={"hash": leaf["hash"], "with_proof": "true"}
        )
    else:  # a record leaf: record hash and salt, in the body
        record_hash, salt = leaf["values"]
        answer = gateway.request(
            "POST",
            "/v1/verify/record",
            json={"record_hash": record_hash, "salt": salt, "with_proof": True},
        )
    matches = answer.get("matches") or []
    version_id = bundle["version_id"].lower()
    chosen = [
        m for m in matches if str((m.get("version") or {}).get("id", "")).lower() == version_id
    ]
    verdict: dict[str, Any] = {"gateway": gateway.url, "bundle": source, "leaf": leaf["hash"]}
    if not chosen:
        verdict |= {
            "vouched": False,
            "reason": "the gateway holds this leaf, but not in the bundle's version.",
            "versions": [summary(m) for m in matches],
        }
        emit(verdict)
        return NOT_VOUCHED
    match = chosen[0]
    theirs = match.get("proof")
    differ = differences(bundle, theirs) if isinstance(theirs, dict) else ["(no bundle given)"]
    vouched = match.get("status") == "anchored" and not differ
    verdict |= {"vouched": vouched, "differences": differ, **summary(match)}
    emit(verdict)
    return VOUCHED if vouched else NOT_VOUCHED


def check_hash(gateway: Gateway, digest: str) -> int:
    """Ask the gateway for a content SHA-256 (or leaf hash), print its verdict; the exit status."""
    answer = gateway.request("GET", "/v1/verify", params={"hash": digest})
    status = answer.get("status")
    emit(
        {
            "gateway": gateway.url,
            "hash": digest,
            "status": status,
            "versions": [summary(m) for m in answer.get("matches") or []],
        }
    )
    return VOUCHED if status == "anchored" else NOT_VOUCHED


# ------------------------------------------------------------------------------ main


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verify_bundle.py",
        description="Ask a Xietong gateway whether it vouches for a proof bundle, or a hash.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("bundle", nargs="?", type=Path, help="a xietong-proof/3 bundle (JSON)")
    what.add_argument("--hash", help="a file's content SHA-256, or a leaf hash (0x + 64 hex)")
    parser.add_argument(
        "--gateway",
        default=os.environ.get("XIETONG_GATEWAY_URL", DEFAULT_GATEWAY),
        help=f"the gateway's base URL (default $XIETONG_GATEWAY_URL or {DEFAULT_GATEWAY})",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("XIETONG_API_KEY"),
        help="a read key (default $XIETONG_API_KEY; none for a gateway with open reads)",
    )
    options = parser.parse_args(argv)
    if options.hash is not None and not HASH.fullmatch(options.hash.strip()):
        parser.error("--hash is 0x and 64 hex digits.")
    if not options.gateway.startswith(("http://", "https://")):
        parser.error("--gateway must be an http:// or https:// URL.")
    if options.api_key and not (options.api_key.isascii() and options.api_key.isprintable()):
        parser.error("the API key holds characters no key has.")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    gateway = Gateway(options.gateway, options.api_key)
    try:
        if options.hash is not None:
            return check_hash(gateway, options.hash.strip().lower())
        return check_bundle(gateway, read_bundle(options.bundle), str(options.bundle))
    except RefusalError as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return FAILED
    finally:
        gateway.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader left (`| head`): nothing more to say, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(FAILED)
