"""The analytics side's constants: channels and their sources, per-channel rates, the metrics of one
analytics cell, and the fixed shares that split cells and search rows by device, country, age and gender."""

from __future__ import annotations

MAIN_PROPERTY = "420000001"
STAGING_PROPERTY = "420000002"

CHANNELS = ("Organic Search", "Direct", "Referral", "Email", "Paid Search", "Organic Social")
# channel -> (source, medium, campaign, share)
SOURCES: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "Organic Search": (
        ("google", "organic", "(organic)", 0.9),
        ("bing", "organic", "(organic)", 0.07),
        ("duckduckgo", "organic", "(organic)", 0.03),
    ),
    "Direct": (("(direct)", "(none)", "(direct)", 1.0),),
    "Referral": (
        ("coffeegeek.com", "referral", "(referral)", 0.5),
        ("sprudge.com", "referral", "(referral)", 0.3),
        ("baristamagazine.com", "referral", "(referral)", 0.2),
    ),
    "Email": (("newsletter", "email", "weekly-roast", 1.0),),
    "Paid Search": (("google", "cpc", "search-brand-and-wholesale", 1.0),),
    "Organic Social": (
        ("instagram.com", "referral", "(referral)", 0.45),
        ("facebook.com", "referral", "(referral)", 0.3),
        ("linkedin.com", "referral", "(referral)", 0.25),
    ),
}
QUERY_STRINGS = {
    "Email": "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly-roast",
    "Paid Search": "?utm_source=google&utm_medium=cpc&utm_campaign=search-brand-and-wholesale",
}
ENGAGEMENT = {
    "Organic Search": 0.62,
    "Direct": 0.55,
    "Referral": 0.6,
    "Email": 0.7,
    "Paid Search": 0.5,
    "Organic Social": 0.45,
}
NEW_USERS = {
    "Organic Search": 0.75,
    "Direct": 0.45,
    "Referral": 0.7,
    "Email": 0.15,
    "Paid Search": 0.8,
    "Organic Social": 0.7,
}
PAGES_PER_SESSION = {
    "Organic Search": 1.5,
    "Direct": 2.1,
    "Referral": 1.6,
    "Email": 1.9,
    "Paid Search": 1.7,
    "Organic Social": 1.3,
}
CONVERSION = {
    "Organic Search": 1.0,
    "Direct": 1.3,
    "Referral": 0.8,
    "Email": 2.2,
    "Paid Search": 1.6,
    "Organic Social": 0.5,
}
BASE_CONVERSION_RATE = 0.018
INTENT = {"commercial": 3.0, "guide": 1.0, "origin": 1.4, "news": 0.6, "marketing": 0.5, "info": 1.0}

# Metrics of one analytics cell, in this order; the GA4 emulation derives rates from them.
CELL_METRICS = (
    "sessions",
    "engagedSessions",
    "totalUsers",
    "newUsers",
    "activeUsers",
    "screenPageViews",
    "keyEvents",
    "userEngagementDuration",
    "sessionDuration",
    "eventCount",
    "customEvent:bag_weight",
)

# Fixed shares splitting analytics cells and search rows (values, then per-channel or flat shares).
DEVICE_SHARES = {
    "Organic Search": (0.42, 0.54, 0.04),
    "Direct": (0.5, 0.46, 0.04),
    "Referral": (0.55, 0.41, 0.04),
    "Email": (0.35, 0.61, 0.04),
    "Paid Search": (0.38, 0.58, 0.04),
    "Organic Social": (0.18, 0.78, 0.04),
}
DEVICES = ("desktop", "mobile", "tablet")
COUNTRIES = (
    ("United States", "US", "usa", 0.70),
    ("Canada", "CA", "can", 0.09),
    ("United Kingdom", "GB", "gbr", 0.07),
    ("Australia", "AU", "aus", 0.04),
    ("Germany", "DE", "deu", 0.04),
    ("India", "IN", "ind", 0.03),
    ("Japan", "JP", "jpn", 0.03),
)
AGE_BRACKETS = (
    ("18-24", 0.1),
    ("25-34", 0.28),
    ("35-44", 0.22),
    ("45-54", 0.14),
    ("55-64", 0.07),
    ("65+", 0.04),
    ("unknown", 0.15),
)
GENDERS = (("female", 0.41), ("male", 0.44), ("unknown", 0.15))
SEARCH_DEVICES = (("DESKTOP", 0.42), ("MOBILE", 0.55), ("TABLET", 0.03))
