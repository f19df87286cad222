"""A local stand-in for Bluesky's video service (video.bsky.app), bound to 127.0.0.1 on a
free port and named `http://localhost:PORT` (DID did:web:localhost%3APORT).

Modelled on the `app.bsky.video.*` lexicons the reference PDS ships and on what the
service is documented to do (bsky-docs tutorials/video.mdx; social-app
src/lib/media/video/upload*.ts):

- `GET app.bsky.video.getUploadLimits`: a service token for this service (aud = its
  did:web, lxm = the method) → `{canUpload, remainingDailyVideos, remainingDailyBytes,
  message?, error?}` (set with `limits`).
- `POST app.bsky.video.uploadVideo?did=&name=` with the video/mp4 bytes and a service
  token for the user's PDS (aud = the PDS's DID, lxm = com.atproto.repo.uploadBlob,
  iss = `did`) → the job, answered without the lexicon's `jobStatus` wrapper as the real
  service has been seen to (atproto#3026) unless `wrap_upload_answer`.
- `GET app.bsky.video.getJobStatus?jobId=` (no auth) → `{jobStatus}`; after
  `polls_before_done` polls the "processed" video (the bytes as sent: nothing is
  transcoded here) is uploaded to the PDS with com.atproto.repo.uploadBlob **using the
  user's service token**, as the real service does; the reference PDS accepts it
  (uploadBlob's auth is `authorizationOrUserServiceAuth`). Then JOB_STATE_COMPLETED with
  the blob, or JOB_STATE_FAILED when the PDS refuses or `fail_jobs` is set.

Every token is checked as a service would: ES256K signature against the issuer's
`#atproto` key in its DID document (read from the local PLC), `aud`, `lxm`, and `exp`
not passed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_B58: str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_SECP256K1_PUB = b"\xe7\x01"  # multicodec prefix of a compressed secp256k1 public key


class _Refusal(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass
class Job:
    id: str
    did: str
    name: str
    data: bytes
    token: str
    polls: int = 0
    state: str = "JOB_STATE_CREATED"
    blob: dict[str, Any] | None = None
    error: str | None = None
    message: str | None = None

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {"jobId": self.id, "did": self.did, "state": self.state}
        for name in ("blob", "error", "message"):
            if getattr(self, name) is not None:
                status[name] = getattr(self, name)
        return status


@dataclass
class VideoServiceServer:
    """The server's state; `url` and `did` once started."""

    pds_url: str
    plc_url: str
    limits: dict[str, Any] = field(
        default_factory=lambda: {
            "canUpload": True,
            "remainingDailyVideos": 25,
            "remainingDailyBytes": 10_000_000_000,
        }
    )
    polls_before_done: int = 1
    fail_jobs: bool = False
    wrap_upload_answer: bool = False
    url: str = ""
    did: str = ""
    pds_did: str = ""
    jobs: dict[str, Job] = field(default_factory=dict)
    #: (method, nsid) of every request, in order.
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: The verified claims of every token presented, in order.
    claims: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, nsid: str) -> int:
        return sum(1 for _, called in self.requests if called == nsid)

    # -- tokens ----------------------------------------------------------------------------

    def verify(self, header: str | None, *, aud: str, lxm: str) -> dict[str, Any]:
        if not header or not header.startswith("Bearer "):
            raise _Refusal(401, "AuthMissing", "Authentication Required")
        token = header.removeprefix("Bearer ")
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            head = json.loads(_unb64(head_b64))
            claims = json.loads(_unb64(body_b64))
            signature = _unb64(sig_b64)
        except ValueError:
            raise _Refusal(401, "BadJwt", "malformed token") from None
        if head.get("alg") != "ES256K" or len(signature) != 64:
            raise _Refusal(401, "BadJwt", f"unsupported token algorithm {head.get('alg')}")
        key = self._signing_key(str(claims.get("iss", "")))
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            key.verify(der, f"{head_b64}.{body_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise _Refusal(401, "BadJwtSignature", "jwt signature does not match") from None
        if claims.get("aud") != aud:
            raise _Refusal(401, "BadJwtAudience", f"jwt audience {claims.get('aud')} is not {aud}")
        if claims.get("lxm") != lxm:
            raise _Refusal(401, "BadJwtLexiconMethod", f"jwt lxm {claims.get('lxm')} is not {lxm}")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise _Refusal(401, "JwtExpired", "jwt expired")
        self.claims.append(claims)
        return claims

    def _signing_key(self, did: str) -> ec.EllipticCurvePublicKey:
        try:
            with urllib.request.urlopen(f"{self.plc_url}/{quote(did)}", timeout=10) as answer:
                document = json.load(answer)
        except (urllib.error.URLError, ValueError):
            raise _Refusal(401, "BadJwtIss", f"cannot resolve {did}") from None
        for method in document.get("verificationMethod", []):
            if str(method.get("id", "")).endswith("#atproto"):
                raw = _b58decode(str(method["publicKeyMultibase"]).removeprefix("z"))
                if method.get("type") == "Multikey" and raw.startswith(_SECP256K1_PUB):
                    point = raw[len(_SECP256K1_PUB) :]
                elif method.get("type") == "EcdsaSecp256k1VerificationKey2019":
                    point = raw  # the older form: the bare point, no multicodec prefix
                else:
                    continue
                return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), point)
        raise _Refusal(401, "BadJwtIss", f"{did} has no secp256k1 #atproto key")

    # -- routes ----------------------------------------------------------------------------

    def upload_limits(self, auth: str | None) -> dict[str, Any]:
        self.verify(auth, aud=self.did, lxm="app.bsky.video.getUploadLimits")
        return dict(self.limits)

    def upload_video(
        self, auth: str | None, query: dict[str, str], content_type: str, data: bytes
    ) -> dict[str, Any]:
        claims = self.verify(auth, aud=self.pds_did, lxm="com.atproto.repo.uploadBlob")
        did = query.get("did", "")
        if claims.get("iss") != did:
            raise _Refusal(401, "BadJwtIss", "the token was not issued by the did given")
        if content_type != "video/mp4":
            raise _Refusal(400, "InvalidRequest", f"wrong content type {content_type}")
        if not data:
            raise _Refusal(400, "InvalidRequest", "no video")
        with self._lock:
            job = Job(
                id=hashlib.sha256(data + did.encode()).hexdigest()[:20],
                did=did,
                name=query.get("name", ""),
                data=data,
                token=auth.removeprefix("Bearer ") if auth else "",
            )
            # The same video from the same account again: the job it had (the real
            # service answers with the earlier blob and error "already_exists").
            job = self.jobs.setdefault(job.id, job)
        return {"jobStatus": job.status()} if self.wrap_upload_answer else job.status()

    def job_status(self, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            job = self.jobs.get(query.get("jobId", ""))
            if job is None:
                raise _Refusal(404, "NotFound", "no such job")
            job.polls += 1
            if job.state == "JOB_STATE_CREATED" and job.polls >= self.polls_before_done:
                self._finish(job)
            elif job.state == "JOB_STATE_CREATED":
                job.state = "JOB_STATE_ENCODING"
            elif job.state == "JOB_STATE_ENCODING" and job.polls >= self.polls_before_done:
                self._finish(job)
            return {"jobStatus": job.status()}

    def _finish(self, job: Job) -> None:
        if self.fail_jobs:
            job.state, job.error, job.message = (
                "JOB_STATE_FAILED",
                f"video processing error for job: {job.id}",
                "Failed to process video",
            )
            return
        request = urllib.request.Request(
            f"{self.pds_url}/xrpc/com.atproto.repo.uploadBlob",
            data=job.data,
            method="POST",
            headers={"Authorization": f"Bearer {job.token}", "Content-Type": "video/mp4"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                job.blob = json.load(answer)["blob"]
                job.state = "JOB_STATE_COMPLETED"
        except urllib.error.HTTPError as refused:
            job.state, job.error = "JOB_STATE_FAILED", f"pds refused the upload: {refused.code}"
            job.message = refused.read().decode(errors="replace")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def _handler(server: VideoServiceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet in tests

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            nsid = parts.path.removeprefix("/xrpc/")
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            server.requests.append((method, nsid))
            auth = self.headers.get("Authorization")
            try:
                if method == "GET" and nsid == "app.bsky.video.getUploadLimits":
                    body = server.upload_limits(auth)
                elif method == "POST" and nsid == "app.bsky.video.uploadVideo":
                    length = int(self.headers.get("Content-Length") or 0)
                    data = self.rfile.read(length)
                    content_type = self.headers.get("Content-Type", "")
                    body = server.upload_video(auth, query, content_type, data)
                elif method == "GET" and nsid == "app.bsky.video.getJobStatus":
                    body = server.job_status(query)
                else:
                    raise _Refusal(501, "MethodNotImplemented", f"{method} {nsid}")
            except _Refusal as refusal:
                self._answer(refusal.status, {"error": refusal.error, "message": refusal.message})
                return
            self._answer(200, body)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


@contextmanager
def running_video_service(
    pds_url: str, plc_url: str, **settings: Any
) -> Iterator[VideoServiceServer]:
    """A started server for the PDS at `pds_url` (its DID read from describeServer)."""
    state = VideoServiceServer(pds_url=pds_url.rstrip("/"), plc_url=plc_url.rstrip("/"), **settings)
    with urllib.request.urlopen(f"{state.pds_url}/xrpc/com.atproto.server.describeServer") as got:
        state.pds_did = json.load(got)["did"]
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    port = http.server_address[1]
    # Named localhost, not 127.0.0.1: atproto's did:web allows a port for localhost only
    # (the PDS refuses a service token for did:web:127.0.0.1%3A…).
    state.url = f"http://localhost:{port}"
    state.did = f"did:web:localhost%3A{port}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
