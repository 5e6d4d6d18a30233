"""``provenance keys``: signing identities."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from provenance._files import atomic_write
from provenance.cli.common import console, key_passphrase, passphrase_from_env
from provenance.cli.signers import token_pin
from provenance.errors import ExitCode, OutputExistsError, PassphraseError, UsageError
from provenance.identity import bundle as bundles
from provenance.identity import ca as org_ca
from provenance.identity import csr as requests
from provenance.identity import ocsp as ocsp_protocol
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.certificates import Subject, pem, read_chain
from provenance.identity.pki import DevPKI, default_keys_dir, init_dev_pki
from provenance.identity.profile import ProfileError, ProfileReport, check_chain
from provenance.text import MESSAGE_LIMIT
from provenance.text import inert_markup as shown
from provenance.trust.assembly import register_development_root

DEFAULT_NAME = "Demo Creator"
DEFAULT_ORG = "Provenance Demo Newsroom"
DEFAULT_COUNTRY = "US"


@click.group()
def keys() -> None:
    """Create and manage signing identities."""


@keys.command("init")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the PKI [default: $PROVENANCE_KEYS_DIR or ./keys].",
)
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Creator common name (CN).")
@click.option("--org", default=DEFAULT_ORG, show_default=True, help="Organisation (O).")
@click.option("--country", default=DEFAULT_COUNTRY, show_default=True, help="Two-letter country code (C).")
@click.option("--email", default=None, help="Creator e-mail, added as a subjectAltName.")
@click.option(
    "--alg",
    type=click.Choice(
        [a.value for a in SigningAlgorithm if a.value in ("es256", "es384", "es512", "ps256", "ed25519")]
    ),
    default="es256",
    show_default=True,
    help="Signature algorithm of the creator key.",
)
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the private keys with the passphrase in $VAR.")
@click.option("--encrypt", is_flag=True, help="Prompt for a passphrase to encrypt the private keys.")
@click.option("--force", is_flag=True, help="Replace an existing PKI.")
@click.option(
    "--no-trust",
    "no_trust",
    is_flag=True,
    help="Do not add the development root to the trust store (verify will then say 'untrusted').",
)
@click.option(
    "--trust-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Trust store folder to register the root in [default: $PROVENANCE_TRUST_DIR or the user config dir].",
)
def init(
    directory: Path | None,
    name: str,
    org: str,
    country: str,
    email: str | None,
    alg: str,
    passphrase_env: str | None,
    encrypt: bool,
    force: bool,
    no_trust: bool,
    trust_dir: Path | None,
) -> None:
    """Write a development PKI: root CA, issuing CA and a creator
    claim-signing certificate (C2PA leaf profile). Private keys are 0600.

    The root is registered in the trust store as the source
    'development-root' (see 'provenance trust list'), so clips signed
    with these keys verify from any folder on this machine."""
    if len(country) != 2 or not country.isalpha():
        raise UsageError(
            f"--country {country!r} is not a two-letter code", hint="use an ISO 3166 code such as US or GB"
        )
    passphrase = _new_key_passphrase(passphrase_env, encrypt)
    directory = directory or default_keys_dir()
    pki = init_dev_pki(
        directory,
        subject=Subject(name, org, country.upper(), email=email),
        alg=SigningAlgorithm(alg),
        passphrase=passphrase,
        force=force,
    )
    console.print(f"[green]✓[/] development PKI written to {pki.directory}/")
    console.print(f"  signer      {pki.signer_cert.name}  CN={name}, O={org}, C={country.upper()} ({alg})")
    console.print(f"  chain       {pki.chain.name}  (signer + issuing CA, what gets embedded)")
    console.print(f"  trust root  {pki.root_cert.name}  (give this to verifiers: --trust {pki.root_cert})")
    console.print(f"  keys        *.key, mode 0600{', encrypted' if passphrase else ''}")
    if not no_trust:
        entry = register_development_root(pki.root_cert, trust_dir=trust_dir)
        console.print(
            f"  trusted     as source '{entry.name}' (\"{entry.display_name}\") in the trust store; "
            f"'provenance trust remove {entry.name}' undoes it"
        )


_CREATOR_ALGS = ("es256", "es384", "es512", "ps256", "ed25519")


def _new_key_passphrase(env_var: str | None, encrypt: bool) -> bytes | None:
    """The passphrase that encrypts keys about to be written: $VAR, or a
    prompt with --encrypt, or none."""
    passphrase = passphrase_from_env(env_var)
    if encrypt and passphrase is None:
        passphrase = click.prompt("Passphrase for the new keys", hide_input=True, confirmation_prompt=True).encode()
    return passphrase


def _rfc4514(subject: Subject) -> str:
    return f"CN={subject.common_name}, O={subject.organization}, C={subject.country}"


# -- organisation CA ---------------------------------------------------------


@keys.group("ca")
def ca() -> None:
    """Run an organisation's own certificate authority."""


@ca.command("init")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the CA [default: $PROVENANCE_CA_DIR or ./ca].",
)
@click.option("--org", required=True, help="Organisation (O) of the CA and of the creators it certifies.")
@click.option("--country", required=True, help="Two-letter country code (C).")
@click.option("--root-name", help="Root CA common name [default: '<org> Root CA'].")
@click.option("--issuing-name", help="Issuing CA common name [default: '<org> Claim Signing CA'].")
@click.option(
    "--alg",
    type=click.Choice([a.value for a in org_ca.CA_ALGORITHMS]),
    default="es384",
    show_default=True,
    help="CA key type: P-384, P-521 or RSA 3072 (the CA profiles' minimum).",
)
@click.option(
    "--issuing-days",
    type=click.IntRange(1, 1827),
    default=1827,
    show_default=True,
    help="Validity of the issuing CA (the profile's maximum is 1827 days).",
)
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the CA keys with the passphrase in $VAR.")
@click.option("--encrypt", is_flag=True, help="Prompt for a passphrase to encrypt the CA keys.")
@click.option("--force", is_flag=True, help="Replace an existing CA.")
def ca_init(
    directory: Path | None,
    org: str,
    country: str,
    root_name: str | None,
    issuing_name: str | None,
    alg: str,
    issuing_days: int,
    passphrase_env: str | None,
    encrypt: bool,
    force: bool,
) -> None:
    """Create an organisation root CA and a claim-signing issuing CA
    (C2PA root and issuing CA profiles). Keys are 0600."""
    country = requests.check_country(country)
    passphrase = _new_key_passphrase(passphrase_env, encrypt)
    authority = org_ca.init_organisation_ca(
        directory or org_ca.default_ca_dir(),
        organization=org,
        country=country,
        root_name=root_name,
        issuing_name=issuing_name,
        alg=SigningAlgorithm(alg),
        passphrase=passphrase,
        issuing_days=issuing_days,
        force=force,
    )
    issuing = authority.issuing_certificate()
    console.print(f"[green]✓[/] organisation CA written to {authority.directory}/")
    console.print(f"  root CA     {authority.root_cert.name}  (give this to verifiers: --trust {authority.root_cert})")
    console.print(
        f"  issuing CA  {authority.issuing_cert.name}  {issuing.subject.rfc4514_string()}, "
        f"valid until {issuing.not_valid_after_utc:%Y-%m-%d}"
    )
    console.print(
        f"  keys        {authority.root_key.name}, {authority.issuing_key.name}: mode 0600"
        f"{', encrypted' if passphrase else ' (unencrypted: consider --encrypt)'}; keep the root key offline"
    )
    console.print("  next        creators run 'provenance keys request', you run 'provenance keys issue CSR'")


# -- creators ----------------------------------------------------------------


@keys.command("request")
@click.option("--name", required=True, help="Creator common name (CN), as verifiers will see it.")
@click.option("--org", required=True, help="Organisation (O); must be the CA's.")
@click.option("--country", required=True, help="Two-letter country code (C).")
@click.option("--email", default=None, help="Creator e-mail, requested as a subjectAltName.")
@click.option("--alg", type=click.Choice(_CREATOR_ALGS), default=None, help="Key type of the new key [default: es256].")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write signer.key and signer.csr [default: $PROVENANCE_KEYS_DIR or ./keys].",
)
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the private key with the passphrase in $VAR.")
@click.option("--encrypt", is_flag=True, help="Prompt for a passphrase to encrypt the private key.")
@click.option(
    "--pkcs11",
    "pkcs11_uri",
    metavar="URI",
    help="Make the request for a key already in a PKCS#11 token (signed there); writes only signer.csr.",
)
@click.option("--pkcs11-module", metavar="PATH", help="PKCS#11 library when the URI has no module-path.")
@click.option("--pin-env", metavar="VAR", help="Read the token PIN from $VAR.")
@click.option("--force", is_flag=True, help="Replace an existing key and request.")
def request(
    name: str,
    org: str,
    country: str,
    email: str | None,
    alg: str | None,
    directory: Path | None,
    passphrase_env: str | None,
    encrypt: bool,
    pkcs11_uri: str | None,
    pkcs11_module: str | None,
    pin_env: str | None,
    force: bool,
) -> None:
    """Make a creator key pair and a certificate signing request. The
    private key stays here (0600) or in the token; send only the .csr to
    your CA."""
    country = requests.check_country(country)
    layout = DevPKI(directory or default_keys_dir())
    subject = Subject(name, org, country, email=email)
    if pkcs11_uri:
        _token_request(
            layout.directory / "signer.csr",
            subject,
            pkcs11_uri,
            pkcs11_module,
            pin_env,
            force,
            stray=("--alg" if alg else "--passphrase-env" if passphrase_env else "--encrypt" if encrypt else None),
        )
        return
    passphrase = _new_key_passphrase(passphrase_env, encrypt)
    made = requests.create_request(
        layout.signer_key,
        layout.directory / "signer.csr",
        subject=subject,
        alg=SigningAlgorithm(alg or "es256"),
        passphrase=passphrase,
        force=force,
    )
    console.print(f"[green]✓[/] key and request for {_rfc4514(made.subject)} ({made.alg.value})")
    console.print(f"  private key  {made.key}  (mode 0600{', encrypted' if passphrase else ''}; never send it)")
    console.print(f"  request      {made.csr}  (send this to your CA)")
    console.print(f"  next         save the chain your CA returns as {layout.chain}, then 'provenance sign'")


def _token_request(
    csr_path: Path, subject: Subject, uri: str, module: str | None, pin_env: str | None, force: bool, stray: str | None
) -> None:
    from provenance.identity.pkcs11 import Pkcs11Uri, TokenKey
    from provenance.identity.token_csr import token_signing_request

    if stray:
        raise UsageError(f"{stray} does not apply to a key in a token", hint="drop it; the token holds the key")
    if csr_path.exists() and not force:
        raise OutputExistsError(f"{csr_path}: file exists", hint="pass --force to replace it, or choose another folder")
    parsed = Pkcs11Uri.parse(uri)
    with TokenKey.open(parsed, module=module, pin=token_pin(parsed, pin_env)) as key:
        csr = token_signing_request(subject, key)
    csr_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(csr_path, csr.public_bytes(serialization.Encoding.PEM))
    console.print(f"[green]✓[/] request for {_rfc4514(subject)}, key in token ({parsed.describe()})")
    console.print(f"  request  {csr_path}  (send this to your CA)")
    console.print(f"  next     sign with --pkcs11 '{uri.split('?', 1)[0]}' --cert CHAIN-FROM-YOUR-CA")


@keys.command("issue")
@click.argument("csr", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Chain file to write: the new certificate, then the issuing CA (no root).",
)
@click.option(
    "--ca",
    "ca_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The CA folder [default: $PROVENANCE_CA_DIR or ./ca].",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=365,
    show_default=True,
    help="Validity (the claim-signing profile allows 366 days at most).",
)
@click.option("--allow-other-org", is_flag=True, help="Certify a creator whose O differs from the CA's.")
@click.option("--passphrase-env", metavar="VAR", help="Read the issuing CA key passphrase from $VAR.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def issue(
    csr: Path,
    output: Path,
    ca_dir: Path | None,
    days: int,
    allow_other_org: bool,
    passphrase_env: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Issue a C2PA claim-signing certificate from a creator's CSR and write
    the chain their signer needs."""
    if output.exists() and not force:
        raise OutputExistsError(f"{output}: output file exists", hint="pass --force to replace it")
    authority = org_ca.OrganisationCA(ca_dir or org_ca.default_ca_dir())
    checked = requests.read_request(csr)
    if not authority.exists():
        raise UsageError(
            f"{authority.directory}: no organisation CA here", hint="run 'provenance keys ca init' or pass --ca DIR"
        )
    passphrase = key_passphrase(authority.issuing_key, passphrase_env)
    issued = org_ca.issue_certificate(
        authority, checked, passphrase=passphrase, days=days, allow_other_org=allow_other_org
    )
    atomic_write(output, pem(*issued.chain))
    leaf = issued.certificate
    if as_json:
        click.echo(
            json.dumps(
                {
                    "subject": leaf.subject.rfc4514_string(),
                    "email": checked.subject.email,
                    "serial": f"{leaf.serial_number:x}",
                    "not_before": leaf.not_valid_before_utc.isoformat(),
                    "not_after": leaf.not_valid_after_utc.isoformat(),
                    "chain": str(output),
                    "record": str(issued.record),
                    "ocsp_url": next(iter(ocsp_protocol.responder_urls(leaf)), None),
                },
                indent=2,
            )
        )
        return
    # The subject and e-mail come from the creator's request: shown inert.
    console.print(
        f"[green]✓[/] issued {shown(leaf.subject.rfc4514_string())}"
        f"{' <' + shown(checked.subject.email) + '>' if checked.subject.email else ''}"
    )
    console.print(
        f"  valid     {leaf.not_valid_before_utc:%Y-%m-%d} to {leaf.not_valid_after_utc:%Y-%m-%d}"
        f"{' (cut to the issuing CA expiry)' if issued.shortened else ''}"
    )
    console.print(f"  chain     {shown(output)}  (send it back; the creator saves it as keys/chain.pem)")
    console.print(f"  recorded  {shown(issued.record)}")
    for url in ocsp_protocol.responder_urls(leaf):
        console.print(f"  ocsp      {shown(url)}  (its revocation status is answered there)")


@keys.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write signer.key and chain.pem [default: $PROVENANCE_KEYS_DIR or ./keys].",
)
@click.option(
    "--in-passphrase-env", metavar="VAR", help="Passphrase of the PKCS#12 file or encrypted PEM key, from $VAR."
)
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the written key with the passphrase in $VAR.")
@click.option("--encrypt", is_flag=True, help="Prompt for a passphrase to encrypt the written key.")
@click.option("--no-encrypt", is_flag=True, help="Write the key unencrypted even though the source was protected.")
@click.option("--force", is_flag=True, help="Replace an existing identity in the folder.")
def import_(
    files: tuple[Path, ...],
    directory: Path | None,
    in_passphrase_env: str | None,
    passphrase_env: str | None,
    encrypt: bool,
    no_encrypt: bool,
    force: bool,
) -> None:
    """Import a signing identity from an external CA: a PKCS#12 file
    (.p12/.pfx), or PEM files holding the key and the chain."""
    source_pass = passphrase_from_env(in_passphrase_env)
    try:
        found = bundles.read_bundle(list(files), passphrase=source_pass)
    except PassphraseError:
        if source_pass is not None or not sys.stdin.isatty():
            raise
        source_pass = click.prompt("Passphrase of the imported key", hide_input=True).encode()
        found = bundles.read_bundle(list(files), passphrase=source_pass)
    report = check_chain(found.chain)
    if report.rejected:
        raise ProfileError(report)
    passphrase = _new_key_passphrase(passphrase_env, encrypt)
    kept = ""
    if passphrase is None and found.encrypted and not no_encrypt:
        passphrase, kept = source_pass, " with the source passphrase"
    layout = bundles.write_identity(found, directory or default_keys_dir(), passphrase=passphrase, force=force)
    console.print(
        f"[green]✓[/] imported {shown(found.chain[0].subject.rfc4514_string())} into {shown(layout.directory)}/"
    )
    console.print(f"  key    {layout.signer_key.name}  (mode 0600{', encrypted' + kept if passphrase else ''})")
    console.print(
        f"  chain  {layout.chain.name}  ({len(found.chain)} certificate{'s' * (len(found.chain) > 1)}, no root)"
    )
    if found.root is not None:
        console.print(f"  root   {layout.root_cert.name}  (give this to verifiers)")
    if found.unused:
        console.print(
            f"  note   {found.unused} certificate(s) in the files are not part of the chain and were left out"
        )
    for finding in report.findings:
        console.print(f"  [yellow]![/] {shown(finding.line(), limit=MESSAGE_LIMIT)}", soft_wrap=True)


# -- lint --------------------------------------------------------------------


def _parse_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {value!r} is not an ISO 8601 time", hint="write it like 2026-05-01T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def render_findings(report: ProfileReport, source: Path) -> None:
    if report.clean:
        console.print(
            f"[green]✓[/] {shown(source)}: {shown(report.subject)} ({report.chain_length} certificate"
            f"{'s' * (report.chain_length > 1)}) meets the C2PA claim-signing profile",
            soft_wrap=True,
        )
        if report.chain_length == 1:
            console.print("  only one certificate: the chain links were not checked")
        return
    rejected = len(report.rejected)
    console.print(
        f"[red]✗[/] {shown(source)}: {len(report.findings)} finding{'s' * (len(report.findings) > 1)}, "
        f"{rejected} that validators reject" + ("; 'provenance sign' refuses it" if rejected else ""),
        soft_wrap=True,
    )
    for finding in report.findings:
        mark = "[red]✗[/]" if finding.rejected else "[yellow]![/]"
        console.print(f"{mark} {shown(finding.line(), limit=MESSAGE_LIMIT)}", soft_wrap=True)


@keys.command("check")
@click.argument("cert", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--at", "at", metavar="TIME", help="Check validity at this ISO 8601 time [default: now].")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx: click.Context, cert: Path, at: str | None, as_json: bool) -> None:
    """Lint a certificate or chain (PEM, signer first) against the C2PA
    claim-signing profile: one line per finding, with the rule it breaks.
    Exit 0 when clean, 6 when there are findings."""
    report = check_chain(read_chain(cert), at=_parse_time(at))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        render_findings(report, cert)
    if not report.clean:
        ctx.exit(int(ExitCode.IDENTITY))


# -- revocation (OCSP) -------------------------------------------------------
# Revoking creator certificates and answering OCSP for the organisation CA:
# provenance.identity.revocation keeps the records, .ocsp the protocol,
# .ocsp_server the HTTP responder.


def _ca_folder(ca_dir: Path | None) -> org_ca.OrganisationCA:
    authority = org_ca.OrganisationCA(ca_dir or org_ca.default_ca_dir())
    if not authority.exists():
        raise UsageError(
            f"{authority.directory}: no organisation CA here", hint="run 'provenance keys ca init' or pass --ca DIR"
        )
    return authority


_CA_DIR_OPTION = click.option(
    "--ca",
    "ca_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The CA folder [default: $PROVENANCE_CA_DIR or ./ca].",
)


@ca.command("responder")
@click.option(
    "--url", required=True, help="OCSP responder URL that certificates issued from now on carry (AIA), http(s)."
)
@_CA_DIR_OPTION
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=365,
    show_default=True,
    help="Validity of the responder certificate (renew it by running this again).",
)
@click.option("--passphrase-env", metavar="VAR", help="Read the issuing CA key passphrase from $VAR.")
def ca_responder(url: str, ca_dir: Path | None, days: int, passphrase_env: str | None) -> None:
    """Set up OCSP for the CA: issue its delegated responder certificate
    (id-kp-OCSPSigning) and record the responder URL that certificates
    issued from now on carry in their AIA extension."""
    from provenance.identity import revocation

    authority = _ca_folder(ca_dir)
    passphrase = key_passphrase(authority.issuing_key, passphrase_env)
    made = revocation.setup_responder(authority, url=url, passphrase=passphrase, days=days)
    console.print(f"[green]✓[/] OCSP responder set up for {authority.directory}/")
    console.print(f"  url        {shown(made.url)}  (in the AIA of certificates issued from now on)")
    console.print(
        f"  responder  {made.cert_file.name}, {made.key_file.name}  valid until "
        f"{made.certificate.not_valid_after_utc:%Y-%m-%d}"
    )
    console.print(f"  next       run 'provenance keys ocsp-serve --ca {shown(authority.directory)}' at that URL")


@ca.command("revoke")
@click.argument("target", metavar="SERIAL|CERT")
@click.option(
    "--reason",
    type=click.Choice(list(ocsp_protocol.REASONS)),
    default="unspecified",
    show_default=True,
    help="Why (RFC 5280 CRLReason): key-compromise for a stolen key.",
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Revoked as of this ISO 8601 time, e.g. when the key was stolen [default: now]. Signatures "
    "time-stamped before it stay valid.",
)
@_CA_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ca_revoke(target: str, reason: str, at: str | None, ca_dir: Path | None, as_json: bool) -> None:
    """Revoke a creator certificate this CA issued, by serial (hex) or
    certificate file. The CA's OCSP responder answers 'revoked' for it at
    once; clips it signs stop verifying as that creator."""
    from provenance.identity import revocation

    authority = _ca_folder(ca_dir)
    done = revocation.revoke(authority, target, reason=reason, at=_parse_time(at))
    record = done.revocation
    if as_json:
        click.echo(
            json.dumps(
                {
                    "serial": f"{record.serial:x}",
                    "subject": done.subject,
                    "revoked_at": record.revoked_at.isoformat(),
                    "reason": record.reason,
                    "already_revoked": done.already,
                },
                indent=2,
            )
        )
        return
    who = shown(done.subject) if done.subject else f"serial {record.serial:x}"
    if done.already:
        console.print(
            f"[yellow]![/] {who} was already revoked on {record.revoked_at:%Y-%m-%d %H:%M} UTC ({record.reason}); "
            "the first record is kept",
            soft_wrap=True,
        )
        return
    console.print(f"[green]✓[/] revoked {who}", soft_wrap=True)
    console.print(f"  serial   {record.serial:x}")
    console.print(f"  as of    {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC ({record.reason})")
    console.print(f"  record   {shown(revocation.revoked_file(authority))}")


@ca.command("ocsp-response")
@click.argument("cert", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the DER OCSP response.",
)
@_CA_DIR_OPTION
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 7),
    default=24,
    show_default=True,
    help="How long the answer is current (nextUpdate).",
)
@click.option("--passphrase-env", metavar="VAR", help="Read the responder key passphrase from $VAR.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def ca_ocsp_response(
    cert: Path, output: Path, ca_dir: Path | None, hours: int, passphrase_env: str | None, force: bool
) -> None:
    """Write the signed OCSP response about CERT to a file, for an operator
    who publishes responses instead of running a responder, or for
    'sign --ocsp-response'."""
    import dataclasses
    import datetime as _dt

    from provenance.identity import revocation

    if output.exists() and not force:
        raise OutputExistsError(f"{output}: output file exists", hint="pass --force to replace it")
    authority = _ca_folder(ca_dir)
    passphrase = key_passphrase(revocation.responder_key_file(authority), passphrase_env)
    responder = dataclasses.replace(
        revocation.Responder.load(authority, passphrase=passphrase), validity=_dt.timedelta(hours=hours)
    )
    der, word = responder.response_for(read_chain(cert)[0])
    atomic_write(output, der)
    console.print(f"[green]✓[/] OCSP response ({word}) written to {shown(output)}")


@keys.command("ocsp-serve")
@_CA_DIR_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free one).")
@click.option("--passphrase-env", metavar="VAR", help="Read the responder key passphrase from $VAR.")
def ocsp_serve(ca_dir: Path | None, host: str, port: int, passphrase_env: str | None) -> None:
    """Run the organisation CA's OCSP responder (RFC 6960 over HTTP, POST
    and GET): answers good, revoked or unknown for the certificates the CA
    issued, signed by its delegated responder certificate."""
    import signal

    from provenance.identity import ocsp_server, revocation

    authority = _ca_folder(ca_dir)
    passphrase = key_passphrase(revocation.responder_key_file(authority), passphrase_env)
    responder = revocation.Responder.load(authority, passphrase=passphrase)
    try:
        server = ocsp_server.make_server(responder, host=host, port=port, log=ocsp_server.stderr_log)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})", hint="choose another --port or --host"
        ) from None

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound_port = server.server_address[1]
    click.echo(f"OCSP responder for {authority.directory} listening on http://{host}:{bound_port}/")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
