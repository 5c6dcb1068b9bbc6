"""Fill untranslated or fuzzy zh_Hans entries of every catalogue from a JSON file {msgid: msgstr}
(a maintainer's helper: `python docs/i18n-fill.py translations.json`, then `make messages`)."""
import glob
import json
import sys

import polib

table = json.load(open(sys.argv[1], encoding="utf-8"))
missing = set()
for path in sorted(glob.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")):
    po = polib.pofile(path)
    changed = False
    for e in po:
        if e.obsolete or (e.translated() and "fuzzy" not in e.flags):
            continue
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt else e.msgid
        value = table.get(key, table.get(e.msgid))
        if value is None:
            missing.add(e.msgid)
            continue
        if e.msgid_plural:
            e.msgstr_plural = {0: value}
        else:
            e.msgstr = value
        if "fuzzy" in e.flags:
            e.flags.remove("fuzzy")
        e.previous_msgid = None
        changed = True
    if changed:
        po.save(path)
for m in sorted(missing):
    print("missing:", m)
