"""Django's ``makemessages`` with catalogues that merge well (used by ``bin/messages make``).

Entries sorted by msgid and never wrapped, so two branches that each add strings touch
different lines; no fuzzy guesses, so a new string is untranslated until someone
translates it (and the catalogue test says so) rather than wrong in French.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--sort-output", "--no-wrap"]
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--sort-output", "--no-wrap", "--no-fuzzy-matching"]
    msguniq_options = [*makemessages.Command.msguniq_options, "--sort-output", "--no-wrap"]
    msgattrib_options = [*makemessages.Command.msgattrib_options, "--sort-output", "--no-wrap"]
