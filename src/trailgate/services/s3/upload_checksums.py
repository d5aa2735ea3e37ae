"""The checksum rules of multipart uploads, as S3 applies them.

- CreateMultipartUpload: ``x-amz-checksum-type`` needs ``x-amz-checksum-algorithm``; the type
  defaults to COMPOSITE, or FULL_OBJECT for CRC64NVME; CRC64NVME cannot be COMPOSITE, and
  only the CRCs can be FULL_OBJECT.
- UploadPart: a part of an upload created with an algorithm must carry that algorithm's
  checksum (InvalidRequest "Checksum Type mismatch occurred, ..."); a FULL_OBJECT upload's part
  sent without any gets one computed, as S3 does.
- CompleteMultipartUpload: a COMPOSITE upload names each part's checksum; a part checksum of
  another algorithm than the one stored is a BadDigest; the object's checksum is the checksum
  of the parts' binary checksums with ``-N`` (COMPOSITE) or of the whole bytes (FULL_OBJECT).
"""

from __future__ import annotations

import base64
from typing import Any, Final

from ...protocol import checksums
from ...protocol.errors import ServiceError
from .bodies import DEFAULT_CHECKSUM, sent_algorithm

FULL_OBJECT: Final = "FULL_OBJECT"
COMPOSITE: Final = "COMPOSITE"


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def checksum_type(params: dict[str, Any]) -> str | None:
    """The checksum type of a new upload: as asked (x-amz-checksum-type), else S3's default for
    its algorithm (CRC64NVME full-object, the others composite); None without an algorithm."""
    algorithm = params.get("ChecksumAlgorithm")
    asked = params.get("ChecksumType")
    if not algorithm:
        if asked:
            raise _invalid_request(
                "The x-amz-checksum-type header can only be used with the "
                "x-amz-checksum-algorithm header."
            )
        return None
    name = str(algorithm).upper()
    kind = str(asked) if asked else (FULL_OBJECT if name == "CRC64NVME" else COMPOSITE)
    allowed = checksums.TYPES.get(name)
    if allowed is not None and kind not in allowed:
        raise _invalid_request(
            f"The {kind} checksum type cannot be used with the {name.lower()} checksum algorithm."
        )
    return kind


def check_part_algorithm(upload: dict[str, Any], params: dict[str, Any]) -> str | None:
    """Refuse an UploadPart whose checksum is not of the upload's algorithm; returns the
    algorithm to compute for a part that carries none (FULL_OBJECT uploads), else None."""
    expected = upload.get("ChecksumAlgorithm")
    sent = sent_algorithm(params)
    if not expected:  # any checksum is accepted, else S3 adds its default
        return DEFAULT_CHECKSUM if sent is None else None
    expected = str(expected).upper()
    if sent is None and upload.get("ChecksumType") == FULL_OBJECT:
        return expected  # S3 computes the part's checksum itself
    if sent != expected:
        actual = sent.lower() if sent else "null"
        raise _invalid_request(
            "Checksum Type mismatch occurred, expected checksum Type: "
            f"{expected.lower()}, actual checksum Type: {actual}"
        )
    return None


def check_complete_part(
    part: dict[str, Any], found: dict[str, Any], invalid_part: ServiceError
) -> None:
    """A CompleteMultipartUpload part's checksums against the stored part's: a wrong value
    of the stored algorithm is an InvalidPart, a checksum of another algorithm a BadDigest."""
    stored = found.get("Checksums") or {}
    for name in checksums.ALGORITHMS:
        member = checksums.member(name)
        value = part.get(member)
        if not value:
            continue
        if member not in stored:
            raise ServiceError(
                "BadDigest",
                f"The {name.lower()} you specified for part {part.get('PartNumber')} did not "
                "match what we received.",
                400,
            )
        if value != stored[member]:
            raise invalid_part


def object_checksum_kind(upload: dict[str, Any]) -> tuple[str, str]:
    """The algorithm and type of a completed upload's object checksum: the upload's, else
    S3's default (a full-object CRC64NVME, whatever checksums the parts carry)."""
    algorithm = upload.get("ChecksumAlgorithm")
    if not algorithm:
        return DEFAULT_CHECKSUM, FULL_OBJECT
    return str(algorithm).upper(), str(upload.get("ChecksumType") or COMPOSITE)


def check_part_checksums(upload: dict[str, Any], requested: list[dict[str, Any]]) -> None:
    """An upload with a composite checksum needs each part's checksum in the complete request."""
    algorithm = upload.get("ChecksumAlgorithm")
    if not algorithm or upload.get("ChecksumType") != COMPOSITE:
        return
    for part in requested:
        if not part.get(f"Checksum{algorithm}"):
            raise _invalid_request(
                f"The upload was created using a {str(algorithm).lower()} checksum. The complete "
                "request must include the checksum for each part. It was missing for part "
                f"{part.get('PartNumber')} in the request."
            )


def composite_checksum(algorithm: Any, parts: list[dict[str, Any]]) -> dict[str, str]:
    """S3's composite checksum of a multipart object: the checksum of the parts' binary
    checksums, then ``-N``; empty unless every part carries one trailgate can compute."""
    name = str(algorithm).upper() if algorithm else ""
    if name not in checksums.ALGORITHMS:
        return {}
    member = checksums.member(name)
    values = [(p.get("Checksums") or {}).get(member) for p in parts]
    if not all(values):
        return {}
    digest = checksums.new_digest(name)
    for value in values:
        digest.update(base64.b64decode(str(value)))
    return {member: f"{checksums.encode(digest.digest())}-{len(parts)}"}


def _object_checksum(params: dict[str, Any]) -> tuple[str, str] | None:
    """The whole object's checksum a CompleteMultipartUpload sends (x-amz-checksum-<alg>)."""
    for name in checksums.ALGORITHMS:
        value = params.get(checksums.member(name))
        if value:
            return name, str(value)
    return None


def check_complete_request(upload: dict[str, Any], params: dict[str, Any]) -> None:
    """CompleteMultipartUpload's x-amz-checksum-type must be the upload's, and a whole-object
    checksum header of a FULL_OBJECT upload must be of the upload's algorithm."""
    # UNSURE: these messages are LocalStack's (which follows AWS), not recorded against AWS.
    kind = upload.get("ChecksumType")
    asked = params.get("ChecksumType")
    if asked and asked != kind:
        raise _invalid_request(
            f"The upload was created using the {kind or 'null'} checksum mode. The complete "
            "request must use the same checksum mode."
        )
    sent = _object_checksum(params)
    expected = str(upload.get("ChecksumAlgorithm") or "").upper()
    if sent is not None and kind == FULL_OBJECT and sent[0] != expected:
        raise _invalid_request(
            "Checksum Type mismatch occurred, expected checksum Type: "
            f"{expected.lower()}, actual checksum Type: {sent[0].lower()}"
        )


def object_checksum_mismatch(
    upload: dict[str, Any], params: dict[str, Any], computed: dict[str, str]
) -> ServiceError | None:
    """BadDigest when a FULL_OBJECT upload's completion sent a whole-object checksum that is
    not the one of the bytes assembled (composite values are not checked)."""
    sent = _object_checksum(params)
    if sent is None or upload.get("ChecksumType") != FULL_OBJECT:
        return None
    name, value = sent
    if computed.get(checksums.member(name)) in (None, value):
        return None
    # UNSURE: LocalStack's wording (lower-case algorithm), not recorded against AWS.
    return ServiceError(
        "BadDigest", f"The {name.lower()} you specified did not match the calculated checksum.", 400
    )


# -- a completed COMPOSITE object's part checksums (GetObjectAttributes, GetObject partNumber) --
# Real S3 (as floci's captures of it record, floci-io/floci#3083, and LocalStack's AWS-validated
# tests): GetObjectAttributes shows a COMPOSITE object's checksum without its ``-N`` suffix, with
# ``ChecksumType`` COMPOSITE and each part's checksum under ObjectParts; GetObject / HeadObject
# with ``partNumber`` and checksum mode ENABLED answer that part's checksum.


def kept_part_checksums(
    algorithm: str | None, kind: str | None, parts: list[dict[str, Any]]
) -> list[str] | None:
    """The per-part checksums a completed COMPOSITE object keeps, in assembly order."""
    if kind != COMPOSITE or not algorithm:
        return None
    member = checksums.member(str(algorithm).upper())
    return [str((p.get("Checksums") or {}).get(member) or "") for p in parts]


def attributes_checksum(record: dict[str, Any]) -> dict[str, str] | None:
    """GetObjectAttributes' ``Checksum`` of an object: a COMPOSITE value loses its ``-N``."""
    stored = record.get("Checksums") or {}
    if not stored:
        return None
    kind = str(record.get("ChecksumType") or FULL_OBJECT)
    if kind == COMPOSITE:
        stored = {name: str(value).rsplit("-", 1)[0] for name, value in stored.items()}
    return {**stored, "ChecksumType": kind}


def part_checksum(record: dict[str, Any], number: int) -> dict[str, str]:
    """The checksum GetObject / HeadObject ``partNumber`` answers with checksum mode ENABLED: a
    COMPOSITE object's part checksum; the object's own when the part is the whole object (one
    part); nothing for a part of a FULL_OBJECT object of several parts."""
    stored = record.get("Checksums") or {}
    if not stored:
        return {}
    kind = str(record.get("ChecksumType") or FULL_OBJECT)
    if kind == COMPOSITE:
        values = record.get("PartChecksums") or []
        if number > len(values) or not values[number - 1]:
            return {}
        return {next(iter(stored)): str(values[number - 1]), "ChecksumType": COMPOSITE}
    if len(record.get("PartSizes") or [0]) == 1:
        return {**stored, "ChecksumType": kind}
    return {}
