"""The zh_Hans catalogues (README "Languages"): what is left to translate, and whether each
compiled .mo says exactly what its .po says.

`python -m tests.catalogues` (the last step of `make messages`) prints every problem and exits 1 if
there is any; tests/test_i18n.py asserts that there is none. A problem is an entry left
untranslated (an empty msgstr, or an empty plural form), one marked fuzzy (msgmerge's guess from a
similar string, never shown by gettext until a person checks it and removes the flag), a
translation whose placeholders differ from its source's ("%(amount)s" lost or renamed would raise
at run time or print the wrong figure), or a .mo whose translations are not those of its .po (it
was not compiled after the .po changed). The .mo is compared by content, never by file times,
which git does not keep.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_Hans"
NOT_APPS = {"tests", "bench", "docs", "staticfiles", "build", "node_modules"}

# printf-style placeholders of python-format strings ("%(name)s", "%d", "%.2f"); "%%" is a literal
PRINTF = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<kind>[diouxXeEfFgGcrsa%])")
BRACES = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def catalogue_paths() -> list[Path]:
    """Every <top-level folder>/locale/zh_Hans/LC_MESSAGES/django.po of the project: each app's
    and fenxiao/locale (the project's own strings)."""
    return sorted(p for p in ROOT.glob(f"*/locale/{LANGUAGE}/LC_MESSAGES/django.po")
                  if p.relative_to(ROOT).parts[0] not in NOT_APPS and not p.relative_to(ROOT).parts[0].startswith("."))


def _placeholders(text: str, flags: list[str]) -> list[str]:
    found = []
    if "python-format" in flags:
        found += [f"%({m['name']}){m['kind']}" if m["name"] is not None else f"%{m['kind']}"
                  for m in PRINTF.finditer(text) if m["kind"] != "%"]
    if "python-brace-format" in flags:
        found += ["{%s}" % m for m in BRACES.findall(text)]
    return sorted(found)


def _key(entry) -> tuple:
    return entry.msgctxt or "", entry.msgid, entry.msgid_plural or ""


def _translation(entry) -> tuple:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def problems(po_path: Path) -> list[str]:
    """What is wrong with one catalogue and its compiled .mo beside it (empty: nothing)."""
    where = po_path.relative_to(ROOT)
    po = polib.pofile(str(po_path))
    out = []
    if po.metadata_is_fuzzy:
        out.append(f"{where}: the header is marked fuzzy (remove '#, fuzzy' above msgid \"\")")
    if not (po.metadata.get("Content-Type") or "").lower().endswith("charset=utf-8"):
        out.append(f"{where}: the header does not declare charset=UTF-8")
    for entry in po:
        if entry.obsolete:
            continue
        label = f"{where}: {entry.msgid!r}"
        if entry.fuzzy:
            out.append(f"{label} is fuzzy (check the translation, then remove the flag)")
            continue
        texts = _translation(entry)
        if not all(texts):
            out.append(f"{label} is not translated")
            continue
        source = entry.msgid_plural or entry.msgid
        for text in texts:
            if _placeholders(text, entry.flags) != _placeholders(source, entry.flags):
                out.append(f"{label}: the translation's placeholders {_placeholders(text, entry.flags)} differ "
                           f"from the source's {_placeholders(source, entry.flags)}")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return [*out, f"{where}: no compiled {mo_path.name} beside it (make messages)"]
    wanted = {_key(e): _translation(e) for e in po if not e.obsolete and not e.fuzzy and all(_translation(e))}
    compiled = {_key(e): _translation(e) for e in polib.mofile(str(mo_path)) if e.msgid}
    if compiled != wanted:
        stale = sorted({k[1] for k in wanted.keys() ^ compiled.keys()}
                       | {k[1] for k in wanted.keys() & compiled.keys() if wanted[k] != compiled[k]})
        out.append(f"{mo_path.relative_to(ROOT)} is not compiled from its .po ({len(stale)} entries differ, "
                   f"e.g. {stale[:3]}): make messages")
    return out


def main() -> int:
    paths = catalogue_paths()
    found = [p for path in paths for p in problems(path)]
    for line in found:
        print(line)
    counts = {str(p.relative_to(ROOT)): len([e for e in polib.pofile(str(p)) if not e.obsolete]) for p in paths}
    print(f"{len(paths)} catalogues, {sum(counts.values())} strings; "
          + (f"{len(found)} problems: translate them in the .po files, then make messages again" if found
             else "all translated and compiled"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
