"""The credential card: a verification report for people, with rich.

Every string from the clip, its manifest, a certificate or a file name
goes through :func:`provenance.text.inert` on its way in (control and
bidi characters shown as escapes, long values cut), and into rich as
:class:`~rich.text.Text`, never as markup: what a file says cannot restyle
or redraw the card.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from provenance.credentials.manifest import SOURCE_LABELS, iptc_term, is_ai
from provenance.text import MESSAGE_LIMIT, inert
from provenance.verification.explain import explain, only_time_stamp_missing
from provenance.verification.explain import headline as verdict_headline
from provenance.verification.report import (
    Action,
    IdentityReport,
    IdentityStatus,
    Ingredient,
    SignerIdentity,
    Status,
    StatusKind,
    Verdict,
    VerificationReport,
)
from provenance.verification.rules import deciding_failure

if TYPE_CHECKING:
    from provenance.verification.fragments import FragmentedReport

# On a terminal a card fills the width; piped, it is as wide as its longest
# line (the console is then wide, see cli.common), so nothing wraps mid-sentence.
_EXPAND = sys.stdout.isatty()

_CHAIN_STYLES = {
    Verdict.VERIFIED: "green",
    Verdict.UNTRUSTED: "yellow",
    Verdict.NO_CREDENTIALS: "yellow",
    Verdict.TAMPERED: "bold red",
    Verdict.INVALID: "bold red",
    Verdict.ERROR: "bold red",
    Verdict.WRONG_SIGNER: "bold red",
    Verdict.RECOVERED: "cyan",
}

BADGES: dict[Verdict, tuple[str, str]] = {
    Verdict.VERIFIED: ("✔ VERIFIED", "bold green"),
    Verdict.UNTRUSTED: ("? UNTRUSTED", "bold yellow"),
    Verdict.TAMPERED: ("✗ TAMPERED", "bold red"),
    Verdict.INVALID: ("✗ INVALID", "bold red"),
    Verdict.NO_CREDENTIALS: ("○ NO CREDENTIALS", "bold"),
    Verdict.ERROR: ("! ERROR", "bold red"),
    Verdict.WRONG_SIGNER: ("✗ WRONG SIGNER", "bold red"),
    Verdict.RECOVERED: ("↺ RECOVERED", "bold cyan"),
}


def source_label(uri: str | None) -> str | None:
    """The label of an IPTC digital source type, or its term, made inert."""
    term = iptc_term(uri)
    return inert(SOURCE_LABELS.get(term or "", term)) if term else None


def _action_text(action: Action) -> str:
    name = inert(action.action.removeprefix("c2pa."))
    extra = []
    if action.digital_source_type:
        extra.append(source_label(action.digital_source_type) or "")
    # in name order: c2pa-rs hands parameters back in no fixed order
    params = {
        k: v for k, v in sorted(action.parameters.items()) if k not in ("ingredients", "ingredientIds", "ingredient")
    }
    extra.extend(f"{inert(k)}={inert(v)}" for k, v in params.items())
    return f"{name} ({', '.join(e for e in extra if e)})" if extra else name


def signer_name(signer: SignerIdentity) -> str:
    """The signer's CN (O), each made inert: a certificate says what it likes."""
    name = inert(signer.common_name) if signer.common_name else "unknown signer"
    org = signer.organization
    return f"{name} ({inert(org)})" if org and org != signer.common_name else name


def _signer_line(signer: SignerIdentity | None, verdict: Verdict) -> str:
    if signer is None:
        return "unknown signer"
    if verdict is Verdict.UNTRUSTED:
        return f"claims to be {signer_name(signer)}; no trusted authority vouches for this"
    return signer_name(signer)


def impersonation_warning(report: VerificationReport) -> str | None:
    """The loud line for a certificate no trusted source vouches for."""
    if report.verdict is Verdict.UNTRUSTED and report.signer is not None:
        return f"⚠ {_signer_line(report.signer, report.verdict)}"
    return None


def _time_text(report: VerificationReport) -> str:
    stamp = report.timestamp
    if stamp is not None and stamp.trusted:
        by = f", vouched for by {inert(stamp.trusted_by)}" if stamp.trusted_by else ""
        return f"{inert(report.signed_at)} (trusted time-stamp by {inert(stamp.authority)}{by})"
    if stamp is not None:
        return (
            f"{inert(report.signed_at)} (time-stamp by {inert(stamp.authority)}, which no trusted TSA list "
            "vouches for: no better than the signer's own clock)"
        )
    return f"{inert(report.signed_at)} (signer's own clock, not time-stamped)"


def _explained(status: Status) -> str:
    # c2pa's explanations name manifests and assertions: a message, not a value
    return inert(explain(status.code, status.explanation), limit=MESSAGE_LIMIT)


def badge_for(report: VerificationReport) -> tuple[str, str]:
    """The card's badge and style: "✗ NOT TIME-STAMPED" rather than "✗ WRONG
    SIGNER" when the expected signer signed but a trusted time-stamp is missing."""
    if only_time_stamp_missing(report):
        return "✗ NOT TIME-STAMPED", BADGES[report.verdict][1]
    return BADGES[report.verdict]


def headline(report: VerificationReport) -> Text:
    """One line: the verdict and who signed (a Text: print it as it is)."""
    badge = badge_for(report)[0]
    if report.verdict is Verdict.ERROR:
        return Text(f"{badge}  {inert(report.file)}: {inert(report.error, limit=MESSAGE_LIMIT)}")
    who = ""
    if report.signer is not None:
        who = f" — {_signer_line(report.signer, report.verdict)}"
        if report.verdict in (Verdict.VERIFIED, Verdict.WRONG_SIGNER) and report.signer.trusted_by:
            who += f", vouched for by {inert(report.signer.trusted_by)}"
    if report.verdict is Verdict.WRONG_SIGNER and report.policy_failures:
        who += f" — {inert(report.policy_failures[0], limit=MESSAGE_LIMIT)}"
    elif report.failures and report.credentials_source == "sidecar" and report.notes:
        who += f" — {inert(report.notes[0], limit=MESSAGE_LIMIT)}"  # says whether the clip changed or the sidecar is another clip's
    elif (decided := deciding_failure(report.status)) is not None:
        who += f" — {_explained(decided)}"
    elif report.notes:
        who += f" — {inert(report.notes[0], limit=MESSAGE_LIMIT)}"
    return Text(f"{badge}  {inert(report.file)}{who}")


def _node_label(node: Ingredient) -> Text:
    text = Text()
    badge, style = BADGES[node.verdict]
    text.append(inert(node.title) if node.title else "untitled", style="bold")
    if node.relationship:
        text.append(f" [{inert(node.relationship)}]", style="dim")
    text.append(f"  {badge}", style=style)
    if node.verdict is Verdict.NO_CREDENTIALS:
        text.append("  the original was not signed", style="dim")
    elif node.signer is not None:
        text.append(f"  {_signer_line(node.signer, node.verdict)}")
    if node.signed_at:
        text.append(f"  {inert(node.signed_at)}", style="dim")
    if node.digital_source_type:
        text.append(f"  source: {source_label(node.digital_source_type)}", style="dim")
    if node.actions:
        text.append("\n" + " → ".join(_action_text(a) for a in node.actions), style="cyan")
    fails = [s for s in node.status if s.kind is StatusKind.FAILURE]
    for status in fails:
        text.append(f"\n✗ {inert(status.code)}: {_explained(status)}", style="red")
    return text


def _add_nodes(tree: Tree, nodes: tuple[Ingredient, ...]) -> None:
    for node in nodes:
        _add_nodes(tree.add(_node_label(node)), node.ingredients)


def _statuses(statuses: tuple[Status, ...], *, verbose: bool) -> Table | None:
    shown = [s for s in statuses if verbose or s.kind is StatusKind.FAILURE]
    if not shown:
        return None
    table = Table(show_header=False, box=None, padding=(0, 1))
    marks = {
        StatusKind.FAILURE: ("✗", "red"),
        StatusKind.SUCCESS: ("✓", "green"),
        StatusKind.INFORMATIONAL: ("i", "dim"),
    }
    for status in shown:
        mark, style = marks[status.kind]
        table.add_row(Text(mark, style=style), Text(inert(status.code), style=style), Text(_explained(status)))
    return table


def _recovery_rows(rows: Table, report: VerificationReport) -> None:
    """What a repository lookup found: the original this content matches."""
    recovery = report.recovery
    assert recovery is not None
    best = recovery.accepted
    if best is None:
        why = recovery.note or (
            f"{len(recovery.candidates)} candidate(s), none trusted and confirmed: {recovery.candidates[0].why_not}"
            if recovery.candidates
            else "no match"
        )
        rows.add_row("Lookup", Text(inert(f"{recovery.repository}: {why}", limit=MESSAGE_LIMIT), style="yellow"))
        return
    who = best.signer.display() if best.signer else "an unknown signer"
    vouched = f", vouched for by {best.signer.trusted_by}" if best.signer and best.signer.trusted_by else ""
    rows.add_row(
        "Original",
        Text(
            inert(
                f"{best.title or best.manifest_id}, signed by {who}{vouched}"
                + (f" on {best.signed_at}" if best.signed_at else ""),
                limit=MESSAGE_LIMIT,
            ),
            style="cyan",
        ),
    )
    rows.add_row(
        "Match",
        Text(
            f"{best.score:.0%} by content, seconds {best.start:.0f}–{best.end:.0f} of the original; "
            "not by bytes: this copy may be re-encoded or cut"
        ),
    )
    if best.chain_summary:
        rows.add_row("Its chain", Text(inert(best.chain_summary, limit=MESSAGE_LIMIT)))
    rows.add_row("Repository", Text(inert(recovery.repository)))


# --- CAWG identities (issue 10, part 1) ---

_IDENTITY_MARKS = {
    IdentityStatus.TRUSTED: ("✔", "green"),
    IdentityStatus.UNTRUSTED: ("?", "yellow"),
    IdentityStatus.BROKEN: ("✗", "red"),
}
_COVERED = {"c2pa.actions": "actions", "cawg.metadata": "creative work", "c2pa.hash": "content"}
_MATCHED_BY = {"c2pa_signer": "the C2PA signer", "cawg_identity": "the CAWG identity"}


def _identity_line(identity: IdentityReport) -> str:
    who = signer_name(identity.credential) if identity.credential else inert(identity.name or "an unnamed identity")
    if identity.status is IdentityStatus.TRUSTED:
        by = f", vouched for by {inert(identity.trusted_by)}" if identity.trusted_by else ""
        return f"✔ {who} (trusted{by})"
    if identity.status is IdentityStatus.UNTRUSTED:
        return f"? claims to be {who} (untrusted: {inert(identity.explanation, limit=MESSAGE_LIMIT)})"
    return f"✗ {who} (broken: {inert(identity.explanation, limit=MESSAGE_LIMIT)})"


def _identity_rows(rows: Table, report: VerificationReport) -> None:
    """The CAWG identity block: one entry per identity assertion, with its
    own status (it never changes the verdict), and which credential met an
    --expect-* expectation."""
    for identity in report.identities:
        mark_style = _IDENTITY_MARKS[identity.status][1]
        rows.add_row("Identity", Text(_identity_line(identity), style=mark_style))
        for verified in identity.verified_identities:
            what = inert(verified.type.removeprefix("cawg."))
            handle = " ".join(inert(v) for v in (verified.name, verified.username, verified.uri) if v)
            via = f" via {inert(verified.provider)}" if verified.provider else ""
            rows.add_row("  verified", Text(f"{what}: {handle}{via}"))
        covers = dict.fromkeys(
            next((w for k, w in _COVERED.items() if label.startswith(k)), inert(label)) for label in identity.covers
        )
        if covers:
            rows.add_row("  covers", Text(", ".join(covers)))
    for expectation, by in report.policy_matched:
        rows.add_row("Expected", Text(f"{inert(expectation)} met by {_MATCHED_BY.get(by, inert(by))}"))


def card(report: VerificationReport, *, verbose: bool = False) -> RenderableType:
    """The full card for one report."""
    badge, style = badge_for(report)
    if report.verdict is Verdict.ERROR:
        return Panel(
            Text(inert(report.error or "error", limit=MESSAGE_LIMIT)),
            title=Text(badge, style=style),
            title_align="left",
            border_style=style,
        )
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="dim", no_wrap=True)
    rows.add_column(overflow="fold")  # a long word (an escaped value) wraps rather than being cut
    rows.add_row("Verdict", Text(verdict_headline(report), style=style))
    if report.chain_summary:
        rows.add_row(
            "Chain",
            Text(
                inert(report.chain_summary, limit=MESSAGE_LIMIT),
                style=_CHAIN_STYLES.get(report.chain_verdict or Verdict.VERIFIED, ""),
            ),
        )
    rows.add_row("File", Text(inert(report.file)))
    if report.recovery is not None:
        _recovery_rows(rows, report)
    if report.signer is not None:
        untrusted = report.verdict is Verdict.UNTRUSTED
        rows.add_row(
            "Signed by",
            Text(
                _signer_line(report.signer, report.verdict),
                style="bold yellow" if untrusted else ("bold" if report.verdict is Verdict.WRONG_SIGNER else ""),
            ),
        )
        if report.signer.email:
            rows.add_row("E-mail", Text(inert(report.signer.email)))
        if report.signer.issuer:
            rows.add_row("Issued by", Text(inert(report.signer.issuer)))
        if report.verdict in (Verdict.VERIFIED, Verdict.WRONG_SIGNER):
            rows.add_row("Vouched by", Text(inert(report.signer.trusted_by or "a trusted anchor")))
    _identity_rows(rows, report)
    if report.policy_failures:
        rows.add_row(
            "Policy", Text("\n".join(inert(f, limit=MESSAGE_LIMIT) for f in report.policy_failures), style="bold red")
        )
    if report.signed_at:
        rows.add_row("Signed at", Text(_time_text(report)))
    if report.generator:
        rows.add_row("Generator", Text(inert(report.generator)))
    if report.title:
        rows.add_row("Title", Text(inert(report.title)))
    if report.digital_source_type:
        rows.add_row("Source", Text(source_label(report.digital_source_type) or ""))
    if report.actions:
        rows.add_row("Actions", Text(" → ".join(_action_text(a) for a in report.actions)))
    if report.credentials_source == "sidecar":
        where = f" ({inert(Path(report.sidecar).name)})" if report.sidecar else ""
        rows.add_row("Credentials", Text(f"from sidecar file{where}"))
    parts: list[RenderableType] = []
    warning = impersonation_warning(report)
    if warning:
        parts.append(Text(warning, style="bold yellow"))
    parts.append(rows)
    if report.ai_generated or is_ai(report.digital_source_type):
        parts.append(
            Text(
                "⚠ AI-generated content: the signer declares this clip was made or changed with generative AI",
                style="bold magenta",
            )
        )
    for note in report.notes:
        parts.append(Text(f"note: {inert(note, limit=MESSAGE_LIMIT)}", style="yellow"))
    if report.ingredients:
        tree = Tree(Text("Ingredient chain (newest first)", style="bold"))
        _add_nodes(tree, report.ingredients)
        parts.append(tree)
    table = _statuses(report.status, verbose=verbose)
    if table is not None:
        parts.append(Text("All status codes" if verbose else "Failing checks", style="bold"))
        parts.append(table)
    return Panel(Group(*parts), title=Text(badge, style=style), title_align="left", border_style=style, expand=_EXPAND)


def fragments_card(report: FragmentedReport, *, verbose: bool = False) -> RenderableType:
    """The card for a fragmented MP4: the credentials, then one line per segment."""
    badge, style = BADGES[report.verdict]
    table = Table(show_header=True, box=None, padding=(0, 2))
    table.add_column("seq", justify="right", style="dim")
    table.add_column("segment")
    table.add_column("verdict")
    table.add_column("why", style="dim")
    for seg in report.segments:
        seg_badge, seg_style = BADGES[seg.verdict]
        why = (
            inert(seg.error, limit=MESSAGE_LIMIT)
            if seg.error
            else "; ".join(_explained(s) for s in seg.failures if s.code != "signingCredential.untrusted")
        )
        table.add_row(
            Text(inert(seg.sequence_number or "?")),
            Text(inert(Path(seg.file).name)),
            Text(seg_badge, style=seg_style),
            Text(why),
        )
    for number in report.missing:
        table.add_row(
            Text(inert(number)),
            "(missing)",
            Text("✗ MISSING", style="bold red"),
            "no segment with this sequence number was given",
        )
    parts: list[RenderableType] = [
        Text(inert(report.summary, limit=MESSAGE_LIMIT), style=style),
        card(report.manifest, verbose=verbose),
        Text("Segments", style="bold"),
        table,
    ]
    return Panel(
        Group(*parts),
        title=Text(f"{badge}  {inert(Path(report.init).name)} + {len(report.segments)} segment(s)", style=style),
        title_align="left",
        border_style=style,
    )
