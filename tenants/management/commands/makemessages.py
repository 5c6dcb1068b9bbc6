"""Django's makemessages (`make messages` runs it), with two changes for catalogues kept in git:

- msgmerge's fuzzy matching is off: a new string comes into the catalogue untranslated, never with
  a guess from a similar string ("tenant day" once came in as "末日"), which a reviewer could take
  for a translation. tests/catalogues.py lists the untranslated ones.
- the POT-Creation-Date header line is left out: it changes on every run, and with it every .po
  and .mo, so two branches that both ran `make messages` would conflict in every catalogue.
"""
import re
from pathlib import Path

from django.core.management.commands import makemessages

CREATION_DATE = re.compile(r'^"POT-Creation-Date: [^"]*\\n"\n', re.M)


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]

    def write_po_file(self, potfile, locale):
        super().write_po_file(potfile, locale)
        po = Path(potfile).parent / locale / "LC_MESSAGES" / f"{self.domain}.po"
        if po.exists():
            text = po.read_text(encoding="utf-8")
            po.write_text(CREATION_DATE.sub("", text, count=1), encoding="utf-8")
