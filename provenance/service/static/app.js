// The verify page: upload a clip to /v1/verify and show its credential card.
// Plain JS, no build step. Everything from the server is set as text, never as HTML.
"use strict";

const LABELS = JSON.parse(document.getElementById("labels").textContent);

const BADGES = {
  verified: { icon: "✔", text: "Verified" },
  untrusted: { icon: "?", text: "Untrusted" },
  tampered: { icon: "✗", text: "Tampered" },
  invalid: { icon: "✗", text: "Invalid" },
  no_credentials: { icon: "○", text: "No credentials" },
  error: { icon: "!", text: "Could not check" },
  wrong_signer: { icon: "✗", text: "Wrong signer" },
  recovered: { icon: "↺", text: "Recovered by content" },
};

const $ = (id) => document.getElementById(id);

// Text from a clip, its manifest, a certificate or a file name is hostile:
// it is inserted only as text (never HTML), and its control, bidi and
// invisible characters are shown as escapes ("\x1b", "\u202e"), long values
// cut with an ellipsis: the rules of provenance/text.py.
const PAGE_FORMATS = "this page checks MP4, MOV, M4V and AVI videos";
const DISPLAY_LIMIT = 200;
const MESSAGE_LIMIT = 2000;
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800\u034f]/u;
const SHORT = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function escapeChar(char) {
  if (SHORT[char]) return SHORT[char];
  const code = char.codePointAt(0);
  const hex = (width) => code.toString(16).padStart(width, "0");
  if (code < 0x100) return `\\x${hex(2)}`;
  if (code < 0x10000) return `\\u${hex(4)}`;
  return `\\U${hex(8)}`;
}

function inert(value, limit = DISPLAY_LIMIT) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const pieces = [];
  let size = 0;
  for (const char of text) { // by code point; a lone surrogate comes as one
    const piece = HIDDEN.test(char) ? escapeChar(char) : char;
    pieces.push(piece);
    size += piece.length;
    if (size > limit) {
      while (pieces.length && size > limit - 1) size -= pieces.pop().length;
      return `${pieces.join("")}…`;
    }
  }
  return pieces.join("");
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function explain(status) {
  return inert(LABELS.codes[status.code] || status.explanation || "", MESSAGE_LIMIT);
}

function sourceLabel(uri) {
  if (!uri) return null;
  const term = String(uri).replace(/\/+$/, "").split("/").pop();
  return inert(LABELS.sources[term] || term);
}

function signerName(signer) {
  if (!signer) return "unknown signer";
  const name = signer.common_name ? inert(signer.common_name) : "unknown signer";
  const org = signer.organization;
  return org && org !== signer.common_name ? `${name} (${inert(org)})` : name;
}

function signerLine(signer, verdict) {
  if (verdict === "untrusted") {
    return `claims to be ${signerName(signer)}; no trusted authority vouches for this`;
  }
  return signerName(signer);
}

function actionText(action) {
  const name = inert(String(action.action).replace(/^c2pa\./, ""));
  const extra = [];
  if (action.digital_source_type) extra.push(sourceLabel(action.digital_source_type));
  for (const [key, value] of Object.entries(action.parameters || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!["ingredients", "ingredientIds", "ingredient"].includes(key)) extra.push(`${inert(key)}=${inert(value)}`);
  }
  return extra.length ? `${name} (${extra.join(", ")})` : name;
}

// Where the signing time comes from, in the CLI card's words
// (provenance/cli/render.py, _time_text).
function clockText(stamp) {
  if (stamp && stamp.trusted) {
    const by = stamp.trusted_by ? `, vouched for by ${inert(stamp.trusted_by)}` : "";
    return `trusted time-stamp by ${inert(stamp.authority)}${by}`;
  }
  if (stamp) {
    return `time-stamp by ${inert(stamp.authority)}, which no trusted TSA list vouches for: ` +
      "no better than the signer's own clock";
  }
  return "signer's own clock, not time-stamped";
}

function pill(verdict) {
  const badge = BADGES[verdict] || BADGES.error;
  return el("span", { class: `pill ${verdict}` }, `${badge.icon} ${badge.text.toLowerCase()}`);
}

function addFact(list, term, ...value) {
  list.append(el("dt", {}, term), el("dd", {}, ...value));
}

function chainNode(node) {
  const item = el("li", {},
    el("span", { class: "node-title" }, node.title ? inert(node.title) : "untitled"),
    node.relationship ? el("span", { class: "dim" }, ` [${inert(node.relationship)}]`) : null,
    pill(node.verdict));
  const meta = [];
  if (node.verdict === "no_credentials") meta.push("the original was not signed");
  else if (node.signer) meta.push(signerLine(node.signer, node.verdict));
  if (node.signed_at) meta.push(inert(node.signed_at));
  if (meta.length) item.append(el("div", { class: "node-meta" }, meta.join(" · ")));
  if (node.actions && node.actions.length) {
    item.append(el("div", { class: "node-actions" }, node.actions.map(actionText).join(" → ")));
  }
  for (const status of node.status || []) {
    if (status.kind === "failure") {
      item.append(el("div", { class: "node-fail" }, "✗ ", el("code", {}, inert(status.code)), `: ${explain(status)}`));
    }
  }
  if (node.ingredients && node.ingredients.length) {
    item.append(el("ul", {}, ...node.ingredients.map(chainNode)));
  }
  return item;
}

// --- CAWG identities (issue 10, part 1): their own block and status, never the verdict's
const IDENTITY_STATUS = {
  trusted: { icon: "✔", text: "trusted" },
  untrusted: { icon: "?", text: "untrusted" },
  broken: { icon: "✗", text: "broken" },
};
const MATCHED_BY = { c2pa_signer: "the C2PA signer", cawg_identity: "the CAWG identity" };

function identityFacts(facts, report) {
  for (const identity of report.identities || []) {
    const status = IDENTITY_STATUS[identity.status] || IDENTITY_STATUS.broken;
    const who = identity.credential ? signerName(identity.credential) : inert(identity.name || "an unnamed identity");
    let line = `${status.icon} ${identity.status === "trusted" ? who : `claims to be ${who}`} (${status.text}`;
    if (identity.status === "trusted" && identity.credential && identity.credential.trusted_by) {
      line += `, vouched for by ${inert(identity.credential.trusted_by)}`;
    } else if (identity.status !== "trusted") {
      line += `: ${inert(identity.explanation, MESSAGE_LIMIT)}`;
    }
    addFact(facts, "Identity", el("span", { class: `identity ${status.text}` }, `${line})`));
    for (const verified of identity.verified_identities || []) {
      const handle = [verified.name, verified.username, verified.uri].filter(Boolean).map((v) => inert(v)).join(" ");
      const via = verified.provider ? ` via ${inert(verified.provider)}` : "";
      addFact(facts, "Verified", `${inert(verified.type.replace(/^cawg\./, ""))}: ${handle}${via}`);
    }
  }
  for (const [expectation, by] of Object.entries(report.policy_matched || {})) {
    addFact(facts, "Expected", el("span", { class: "matched" }, `${inert(expectation)} met by ${MATCHED_BY[by] || inert(by)}`));
  }
}

function render(report) {
  const card = $("result");
  const verdict = BADGES[report.verdict] ? report.verdict : "error";
  card.className = `card ${verdict}`;
  $("badge-icon").textContent = BADGES[verdict].icon;
  $("verdict-title").textContent = BADGES[verdict].text;
  $("headline").textContent = report.error ? inert(report.error, MESSAGE_LIMIT) : LABELS.headlines[verdict] || "";

  const facts = $("facts");
  facts.replaceChildren();
  addFact(facts, "File", inert(report.file));
  if (report.signer) {
    addFact(facts, "Signed by", el("span", { id: "signer" }, signerLine(report.signer, verdict)));
    if (verdict === "verified") {
      addFact(facts, "Vouched for by", el("span", { id: "vouched" }, inert(report.signer.trusted_by || "a trusted anchor")));
    }
    if (report.signer.issuer) addFact(facts, "Issued by", inert(report.signer.issuer));
  }
  identityFacts(facts, report);
  if (report.signed_at) {
    addFact(facts, "Signed at",
      el("time", { datetime: report.signed_at }, inert(report.signed_at)), ` (${clockText(report.timestamp)})`);
  }
  if (report.title) addFact(facts, "Title", el("span", { id: "title" }, inert(report.title)));
  if (report.generator) addFact(facts, "Made with", inert(report.generator));
  if (report.digital_source_type) {
    addFact(facts, "Source", el("span", { id: "source" }, sourceLabel(report.digital_source_type)));
  }
  if (report.actions && report.actions.length) {
    addFact(facts, "Actions", report.actions.map(actionText).join(" → "));
  }
  if (report.credentials_source === "sidecar") addFact(facts, "Credentials", "from a sidecar file");
  const original = report.recovery && (report.recovery.candidates || []).find((c) => c.accepted);
  if (original) {
    // recovered: this file carries no valid credentials; say whose original
    // its content matches, and that the match is by content, not by bytes
    addFact(facts, "Original signed by",
      el("span", { id: "original-signer" }, original.signer ? signerLine(original.signer, "verified") : "an unknown signer"));
    if (original.signer && original.signer.trusted_by) {
      addFact(facts, "Vouched for by", el("span", { id: "vouched" }, inert(original.signer.trusted_by)));
    }
    if (original.signed_at) addFact(facts, "Original signed at", inert(original.signed_at));
    const span = original.matched_span || { start: 0, end: 0 };
    addFact(facts, "Matched", el("span", { id: "matched" },
      `by content, not by bytes: seconds ${Math.round(span.start)}–${Math.round(span.end)} of the original ` +
      `(${Math.round(original.score * 100)}% alike); this copy may be re-encoded or cut`));
  }

  $("ai-notice").hidden = !report.ai_generated;

  const figure = $("thumbnail-figure");
  if (report.thumbnail && report.thumbnail.data_base64) {
    $("thumbnail").src = `data:${report.thumbnail.mime_type};base64,${report.thumbnail.data_base64}`;
    $("thumbnail").alt = `Thumbnail of ${inert(report.title || report.file)}, as it was signed`;
    figure.hidden = false;
  } else {
    $("thumbnail").removeAttribute("src");
    figure.hidden = true;
  }

  const notes = [...(report.policy_failures || []), ...(report.notes || [])];
  $("notes").replaceChildren(...notes.map((note) => el("li", {}, inert(note, MESSAGE_LIMIT))));

  const chain = report.ingredients || [];
  $("chain").replaceChildren(...chain.map(chainNode));
  $("chain-section").hidden = chain.length === 0;

  const failing = (report.status || []).filter((s) => s.kind === "failure");
  $("checks").replaceChildren(...failing.map((s) => el("li", {}, el("code", {}, inert(s.code)), `: ${explain(s)}`)));
  $("checks-section").hidden = failing.length === 0;

  card.hidden = false;
  card.focus();
}

function showStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function size(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

// Why the server could not check a file, for a visitor: its message without
// the file name the status line already gives, and the page's own advice for
// a file that is no video (the API's hint names request parts this page has
// no field for).
function failure(status, data, name) {
  if (!data || !data.error) return `the server answered ${status}`;
  const error = String(data.error);
  const message = inert(error.startsWith(`${name}: `) ? error.slice(name.length + 2) : error, MESSAGE_LIMIT);
  const hint = status === 415 ? PAGE_FORMATS : data.hint ? inert(data.hint, MESSAGE_LIMIT) : "";
  return hint ? `${message} (${hint})` : message;
}

async function check(file) {
  $("result").hidden = true;
  document.body.setAttribute("aria-busy", "true");
  showStatus(`Checking ${inert(file.name)} (${size(file.size)})…`);
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    // lookup=1: a clip without credentials is matched by content when the
    // service keeps a repository of signed originals (ignored otherwise)
    const response = await fetch("/v1/verify?thumbnail=1&lookup=1", { method: "POST", body: form });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (data && data.verdict) {
      showStatus(`Checked ${inert(file.name)}.`);
      render(data);
    } else {
      showStatus(`Could not check ${inert(file.name)}: ${failure(response.status, data, file.name)}`, true);
    }
  } catch (err) {
    showStatus(`Could not reach the server: ${inert(err.message)}`, true);
  } finally {
    document.body.removeAttribute("aria-busy");
  }
}

function init() {
  const input = $("file");
  const drop = $("drop");
  input.addEventListener("change", () => {
    if (input.files.length) check(input.files[0]);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("dragging"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) check(files[0]);
  });
  // Dropping a file anywhere else must not navigate away from the page.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
}

init();
