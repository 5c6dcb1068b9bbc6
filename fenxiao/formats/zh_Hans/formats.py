"""Number formats of zh-hans in the console, over Django's (django/conf/locale/zh_Hans/formats.py,
which groups nothing): amounts grouped by thousands with a comma, as CLDR's zh locale and Chinese
finance write them ("12,345.60"). Dates and times stay Django's ("2026年11月29日 10:00")."""
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
