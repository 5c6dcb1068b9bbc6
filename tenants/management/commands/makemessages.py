"""Django's makemessages (`make messages` runs it), with msgmerge's fuzzy matching off: a new string
comes into the catalogue untranslated, never with a guess from a similar string ("tenant day"
once came in as "末日"), which a reviewer could take for a translation. tests/catalogues.py lists
the untranslated ones."""
from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
