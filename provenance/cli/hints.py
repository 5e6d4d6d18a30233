"""What the command line says to do about a library error: its own hints,
naming its flags and commands, for each error ``reason`` (see
:mod:`provenance.errors`). A reason not listed here keeps the library's
hint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.errors import ProvenanceError

if TYPE_CHECKING:
    from provenance.verification.report import VerificationReport

# reason -> hint; {name} fields come from the error's details
CLI_HINTS: dict[str, str] = {
    "output_exists": "pass --force to replace it",
    "request_exists": "pass --force to replace it, or choose another folder",
    "sidecar_exists": "pass --force to replace it, or name it {name}.c2pa with --output (verify looks for both names)",
    "sidecar_is_clip": "give another --output name",
    "tsa_url_scheme": "e.g. --tsa http://timestamp.example.com",
    "identity_needs_key_file": "sign with --key/--cert (a key file), or drop --identity-key/--identity-cert",
    "tsa_failed": "check the --tsa URL and that the authority is reachable, or sign without --tsa",
    "chain_not_found": "pass --cert or run 'provenance keys init'",
    "key_not_found": "run 'provenance keys init' or pass --key",
    "passphrase_missing": "pass --passphrase-env VAR or run in a terminal to be prompted",
    "bundle_passphrase_missing": "pass --in-passphrase-env VAR (or run in a terminal to be prompted)",
    "alg_mismatch": "pass --alg {alg} or drop --alg",
    "chain_rejected": "validators reject it; run 'provenance keys check' on the chain and get a certificate "
    "that follows the C2PA claim-signing profile",
    "request_needs_subject": "pass --name and --org",
    "not_a_request": "give the PEM file made by 'provenance keys request'",
    "request_not_email": "make the request with 'provenance keys request --email'",
    "request_other_org": "ask the creator for a request with --org as the CA's, or pass --allow-other-org",
    "no_ca": "run 'provenance keys ca init' or pass --ca DIR",
    # -- revocation (OCSP) --
    "no_ocsp_responder_setup": "run 'provenance keys ca responder --url URL' first",
    "no_ocsp_responder": "ask the CA for a certificate issued after 'keys ca responder', or sign without --ocsp",
    "ocsp_unreachable": "check that the responder is running and reachable, or sign without --ocsp",
    "ocsp_unusable": "check the responder; validators cannot use this answer either",
    "ocsp_stale": "fetch a fresh status with --ocsp, or a new file from 'provenance keys ca ocsp-response'",
    "signer_revoked": "a revoked certificate cannot sign; ask the CA for a new one",
    "ocsp_url_scheme": "give it like --url http://ocsp.example.com/",
    "issuing_days_too_long": "pass --issuing-days {max} or less",
    "leaf_days_out_of_range": "pass --days {max} or less",
    "pkcs11_module_name": "give module-path=/path/to/module.so or --pkcs11-module",
    "pkcs11_no_module": "add module-path=... to the URI, pass --pkcs11-module, or set {env} "
    "(SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
    "pkcs11_pin_missing": "pass --pin-env VAR, or add pin-source=FILE to the URI",
    "token_chain_empty": "pass --cert with the token key's certificate chain",
    "token_chain_other_key": "pass the certificate chain of this token key with --cert",
    "token_chain_wrong_key": "pass --cert with the chain issued for this token key",
    "kms_chain_empty": "pass --cert with the KMS key's certificate chain",
    "signer_command_not_found": "check --signer-command and PATH",
    "signer_command_timeout": "check the signing service is reachable, or raise --signer-timeout",
    "signer_command_wrong_key": "it must sign with the key of the first certificate in --cert, using {alg}",
    "sidecar_unsupported_c2pa": "install c2pa-python 0.38 (c2pa-rs {found} was found), or use 'sign --remux'",
    "container_cannot_embed": "provenance embeds credentials in {supported} files; "
    "sign it with --sidecar (clip unchanged), or --remux it to MP4",
    "mux_unsupported": "choose another output container or codec (see --help)",
    "crf_not_for_codec": "use --bitrate for MPEG-4 Part 2",
    "hevc_too_small": "use --video-codec h264 for a picture this small, or a larger --height",
    "resume_needs_log": "pass --jsonl FILE",
    "invalid_parent": "use an intact source, or pass --allow-invalid-parent to record the failure in the new manifest",
    "no_such_entry": "give 0 (the active manifest) to {last}; see 'provenance show'",
    "no_thumbnail": "list the chain with 'provenance show FILE'",
    "trust_index_damaged": "remove it and add the sources again, or point --trust-dir elsewhere",
    "no_such_trust_source": "see 'provenance trust list'",
    "mirror_not_url": "e.g. --mirror https://intranet/trust/ or --mirror /srv/trust-lists (a folder)",
    "no_segments": "pass --segments GLOB matching the .m4s files",
    "not_init_segment": "verify it without --segments",
    "policy_failed": "check who really signed it (provenance verify FILE)",
    "sidecar_not_found": "check the --manifest path",
    "not_a_sidecar": "give the .c2pa file written by 'sign --sidecar'",
    "no_sidecar": "sign it with 'provenance sign --sidecar', or pass --manifest FILE",
    "no_repository": "create it with 'provenance repo init' or register a clip with 'repo add'",
    "not_a_repository": "create it with 'provenance repo init'",
    "trust_source_exists": "pass --replace to replace it, remove it first, or choose another name",
    "no_workers": "start workers on the same broker ('provenance worker --broker URL'); "
    "a batch cut short finishes with the same command and --resume",
    "broker_restarted": "run the same command again with --resume to finish the rest",
    "broker_lost": "check that it runs; then run the same command again with --resume",
}


def cli_hint(exc: ProvenanceError) -> str | None:
    """The hint the command line shows for *exc*."""
    template = CLI_HINTS.get(exc.reason or "")
    if template is None:
        return exc.hint
    return template.format_map(exc.details)


def report_error(report: VerificationReport) -> str:
    """A verification report's ``error`` with the command line's hint for
    its ``error_reason`` in place of the library's."""
    error = report.error or ""
    template = CLI_HINTS.get(report.error_reason or "")
    if template is None or not report.error_hint or "{" in template:
        return error
    return f"{error.removesuffix('; ' + report.error_hint)}; {template}"


def cli_diagnostics(exc: ProvenanceError) -> str:
    """One line for the command line: what is wrong, then what to do."""
    hint = cli_hint(exc)
    return f"{exc.message}; {hint}" if hint else exc.message
