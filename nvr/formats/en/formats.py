"""English: the one date and time format every page uses (templates name them, e.g.
``|date:"DATETIME_FORMAT"``), always in the person's time zone. 24-hour times, as
camera overlays and recordings are read to the second."""

DATE_FORMAT = "M j, Y"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "M j, Y, H:i:s"
SHORT_DATETIME_FORMAT = "M j, Y, H:i"
MONTH_DAY_FORMAT = "M j"
SHORT_DATE_FORMAT = "M j, Y"
