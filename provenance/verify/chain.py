"""The provenance chain in one line: who signed the clip, who made the
original, and any ancestor whose credentials have a problem.

>>> summarize(report)  # doctest: +SKIP
('signed by Example Platform (trusted); original by Jane Doe (untrusted signer)', <Verdict.UNTRUSTED: 'untrusted'>)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from provenance.verify.report import Ingredient, SignerIdentity, Status, StatusKind, VerificationReport, Verdict

_PHRASES = {
    Verdict.VERIFIED: "trusted",
    Verdict.UNTRUSTED: "untrusted signer",
    Verdict.TAMPERED: "tampered",
    Verdict.INVALID: "invalid",
    Verdict.NO_CREDENTIALS: "not signed",
    Verdict.ERROR: "unreadable",
    Verdict.WRONG_SIGNER: "trusted, but not the expected signer",
}
# Failures worth naming instead of a bare "invalid".
_CAUSES = {
    "signingCredential.expired": "expired certificate",
    "signingCredential.revoked": "revoked certificate",
    "signingCredential.invalid": "certificate not valid for C2PA",
    "claimSignature.mismatch": "forged or corrupted signature",
    "claimSignature.missing": "unsigned claim",
}


def phrase(verdict: Verdict, statuses: Sequence[Status] = ()) -> str:
    """A few words for a node's verdict: "trusted", "expired certificate"…"""
    if verdict is Verdict.INVALID:
        for status in statuses:
            if status.kind is StatusKind.FAILURE and status.code in _CAUSES:
                return _CAUSES[status.code]
    return _PHRASES[verdict]


def _who(signer: SignerIdentity | None) -> str:
    return signer.common_name or signer.organization or "an unknown signer" if signer else "an unknown signer"


def parent_chain(ingredients: Sequence[Ingredient]) -> list[Ingredient]:
    """The line of parents, newest first: each node's ``parentOf``
    ingredient (or its only ingredient), down to the original."""
    line: list[Ingredient] = []
    nodes = ingredients
    while nodes:
        parent = next((n for n in nodes if n.relationship == "parentOf"), nodes[0] if len(nodes) == 1 else None)
        if parent is None:
            break
        line.append(parent)
        nodes = parent.ingredients
    return line


def _walk(nodes: Sequence[Ingredient]) -> Iterator[Ingredient]:
    for node in nodes:
        yield node
        yield from _walk(node.ingredients)


def summarize(report: VerificationReport) -> tuple[str | None, Verdict | None]:
    """``(line, worst ingredient verdict)``; ``(None, None)`` without ingredients.

    The line always names the active signer and the original; an
    intermediate editor or a component is named only when its credentials
    have a problem."""
    if not report.ingredients:
        return None, None
    worst = max((n.verdict for n in _walk(report.ingredients)), key=lambda v: v.severity)
    parts = [f"signed by {_who(report.signer)} ({phrase(report.verdict, report.status)})"]
    line = parent_chain(report.ingredients)
    for node in line[:-1]:
        if node.verdict is not Verdict.VERIFIED:
            parts.append(f"edited by {_who(node.signer)} ({phrase(node.verdict, node.status)})"
                         if node.verdict is not Verdict.NO_CREDENTIALS else f"{node.title or 'an edit'} not signed")
    if line:
        original = line[-1]
        if original.verdict is Verdict.NO_CREDENTIALS:
            parts.append("the original was not signed")
        else:
            parts.append(f"original by {_who(original.signer)} ({phrase(original.verdict, original.status)})")
    in_line = {id(n) for n in line}
    for node in _walk(report.ingredients):
        if id(node) not in in_line and node.verdict not in (Verdict.VERIFIED, Verdict.NO_CREDENTIALS):
            parts.append(f"ingredient {node.title or 'untitled'} by {_who(node.signer)} ({phrase(node.verdict, node.status)})")
    return "; ".join(parts), worst
