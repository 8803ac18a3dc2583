"""The hosted form's HTML, its stylesheet and its scripts.

Every value that came from a person or a definition is escaped where it is written. The
page runs under a CSP that allows only this server's own stylesheet and script, so even a
value that slipped through could not run. Errors are tied to their fields
(`aria-invalid`, `aria-describedby`) and summarised in a `role="alert"` box, which screen
readers announce; the page works with the keyboard alone and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from tidings.core.forms import HONEYPOT, ConsentBox, FieldType, FormField, FormSpec
from tidings.core.problems import Problem

STYLESHEET = """
body{font:16px/1.5 system-ui,sans-serif;color:#222;margin:0;padding:1em;background:transparent}
main{max-width:34em;margin:0 auto}
label{display:block;font-weight:600;margin:.8em 0 .2em}
input[type=text],input[type=email],input[type=tel],input[type=number],select,textarea{
 font:inherit;width:100%;box-sizing:border-box;padding:.45em;border:1px solid #888;
 border-radius:4px}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
.consent label{font-weight:400;display:flex;gap:.5em;align-items:flex-start}
.help{font-size:.9em;color:#555;margin:.1em 0}
.error{color:#a51d2d;font-size:.95em;margin:.2em 0}
[aria-invalid=true]{border-color:#a51d2d}
#errors{border:2px solid #a51d2d;padding:.5em 1em;margin:1em 0}
button{font:inherit;margin-top:1.2em;padding:.55em 1.4em;border:0;border-radius:4px;
 background:#1a5fb4;color:#fff;cursor:pointer}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
"""

#: Counts the first keystroke (a start) and tells an embedding page the form's height.
SCRIPT = """(function () {
  var form = document.querySelector('form[data-start]');
  function height() {
    if (window.parent !== window) {
      window.parent.postMessage({tidingsFormHeight: document.documentElement.scrollHeight}, '*');
    }
  }
  window.addEventListener('load', height);
  // A form shown again with its errors was started already.
  if (!form || document.getElementById('errors')) { return; }
  var started = false;
  form.addEventListener('input', function () {
    if (started) { return; }
    started = true;
    var token = form.querySelector('input[name=token]').value;
    navigator.sendBeacon(form.getAttribute('data-start'), new Blob([token], {type: 'text/plain'}));
  });
})();
"""

#: Puts the form in an iframe where the script tag is, passing the page, the campaign and
#: the analytics.js visitor id along (so a known visitor is asked only for what is new).
EMBED = """(function () {
  var script = document.currentScript;
  var url = new URL(script.src.replace(/\\/embed\\.js(\\?.*)?$/, ''));
  var here = new URL(window.location.href);
  var anonymous = '';
  try { anonymous = JSON.parse(window.localStorage.getItem('ajs_anonymous_id') || '""'); }
  catch (e) { anonymous = ''; }
  url.searchParams.set('embed', '1');
  url.searchParams.set('page', here.href);
  if (document.referrer) { url.searchParams.set('referrer', document.referrer); }
  if (anonymous) { url.searchParams.set('aid', anonymous); }
  ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].forEach(function (k) {
    var v = here.searchParams.get(k);
    if (v) { url.searchParams.set(k, v); }
  });
  var frame = document.createElement('iframe');
  frame.src = url.href;
  frame.title = script.getAttribute('data-title') || 'Form';
  frame.width = '100%';
  frame.height = script.getAttribute('data-height') || '640';
  frame.style.border = '0';
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener('message', function (event) {
    if (event.origin === url.origin && event.source === frame.contentWindow &&
        event.data && typeof event.data.tidingsFormHeight === 'number') {
      frame.height = String(event.data.tidingsFormHeight + 8);
    }
  });
})();
"""

_INPUT_TYPES = {
    FieldType.TEXT: "text",
    FieldType.EMAIL: "email",
    FieldType.PHONE: "tel",
    FieldType.NUMBER: "number",
}
_AUTOCOMPLETE = {"email": "email", "phone": "tel", "first_name": "given-name",
                 "last_name": "family-name", "name": "name", "company": "organization"}  # fmt: skip


def page(title: str, body: str, lang: str = "en") -> str:
    """A whole HTML document around `body` (already escaped), with the form's assets."""
    return (
        f"<!doctype html><html lang={lang}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel=stylesheet href="/f/form.css"><script src="/f/form.js" defer></script>'
        f"</head><body><main>{body}</main></body></html>"
    )


def form_body(  # noqa: PLR0913 (what the page shows; the optional parts keyword-only)
    spec: FormSpec,
    action: str,
    token: str,
    fields: Sequence[FormField],
    boxes: Sequence[ConsentBox],
    hidden: Mapping[str, str],
    *,
    values: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
    target_top: bool = False,
) -> str:
    """The form: the fields and consent boxes asked this visit, hidden fields, the honeypot."""
    values = values or {}
    errors = {p.path: p.message for p in problems}
    parts = [f"<h1>{escape(spec.title or spec.name)}</h1>"]
    if problems:
        items = "".join(
            f'<li><a href="#f-{escape(p.path)}">{escape(p.message)}</a></li>' for p in problems
        )
        parts.append(
            "<div id=errors role=alert tabindex=-1><p>Please correct the following:</p>"
            f"<ul>{items}</ul></div>"
        )
    target = ' target="_top"' if target_top else ""
    parts.append(
        f'<form method=post action="{escape(action)}" data-start="{escape(action)}/start"'
        f" novalidate{target}>"
        f'<input type=hidden name=token value="{escape(token)}">'
    )
    for name, value in hidden.items():
        parts.append(f'<input type=hidden name="{escape(name)}" value="{escape(value)}">')
    for form_field in fields:
        parts.append(_field(form_field, values.get(form_field.key, ""), errors.get(form_field.key)))
    for box in boxes:
        parts.append(_consent(box, values.get(box.key) == "yes", errors.get(box.key)))
    # People never see or reach it: off-screen, out of the tab order, hidden from readers.
    parts.append(
        f"<div class=hp aria-hidden=true><label for=f-{HONEYPOT}>Fax number</label>"
        f"<input type=text id=f-{HONEYPOT} name={HONEYPOT} tabindex=-1 autocomplete=off></div>"
    )
    parts.append(f"<button type=submit>{escape(spec.submit_label)}</button></form>")
    return "".join(parts)


def _described(key: str, has_help: bool, error: str | None) -> str:
    ids = ([f"h-{key}"] if has_help else []) + ([f"e-{key}"] if error else [])
    out = f' aria-describedby="{" ".join(ids)}"' if ids else ""
    return out + (" aria-invalid=true" if error else "")


def _field(form_field: FormField, value: str, error: str | None) -> str:
    key = escape(form_field.key)
    label = escape(form_field.label) + (
        " <span aria-hidden=true>*</span>" if form_field.required else ""
    )
    required = " required aria-required=true" if form_field.required else ""
    described = _described(key, bool(form_field.help), error)
    auto = _AUTOCOMPLETE.get(form_field.key)
    auto_attr = f" autocomplete={auto}" if auto else ""
    help_html = (
        f'<p class=help id="h-{key}">{escape(form_field.help)}</p>' if form_field.help else ""
    )
    error_html = f'<p class=error id="e-{key}">{escape(error)}</p>' if error else ""
    common = f'id="f-{key}" name="{key}"{required}{described}'
    match form_field.type:
        case FieldType.TEXTAREA:
            control = (
                f"<textarea {common} rows=4 maxlength={form_field.max_length}>"
                f"{escape(value)}</textarea>"
            )
        case FieldType.SELECT:
            options = "".join(
                f'<option value="{escape(o)}"{" selected" if o == value else ""}>'
                f"{escape(o)}</option>"
                for o in form_field.options
            )
            control = f'<select {common}><option value="">Choose…</option>{options}</select>'
        case FieldType.CHECKBOX:
            checked = " checked" if value == "yes" else ""
            return (
                f'<div class=consent><label for="f-{key}"><input type=checkbox {common} '
                f"value=yes{checked}> {label}</label>{help_html}{error_html}</div>"
            )
        case _:
            kind = _INPUT_TYPES.get(form_field.type, "text")
            control = (
                f'<input type={kind} {common} value="{escape(value)}"'
                f" maxlength={form_field.max_length}{auto_attr}>"
            )
    return f'<div><label for="f-{key}">{label}</label>{help_html}{control}{error_html}</div>'


def _consent(box: ConsentBox, checked: bool, error: str | None) -> str:
    key = escape(box.key)
    required = " required aria-required=true" if box.required else ""
    described = _described(key, False, error)
    error_html = f'<p class=error id="e-{key}">{escape(error)}</p>' if error else ""
    return (
        f'<div class=consent><label for="f-{key}"><input type=checkbox id="f-{key}" '
        f'name="{key}" value=yes{" checked" if checked else ""}{required}{described}> '
        f"{escape(box.wording)}</label>{error_html}</div>"
    )


def message_body(title: str, text: str) -> str:
    """A page with one heading and one paragraph, both escaped."""
    return f"<h1>{escape(title)}</h1><p role=status>{escape(text)}</p>"
