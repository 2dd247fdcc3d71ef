"""French: the one date and time format every page uses (see nvr/formats/en)."""

DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "j N Y, H:i:s"
SHORT_DATETIME_FORMAT = "j N Y, H:i"
MONTH_DAY_FORMAT = "j N"
SHORT_DATE_FORMAT = "j N Y"
