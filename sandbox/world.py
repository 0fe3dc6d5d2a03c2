"""The simulated marketing world: one seed, one business clock, the sites, the faults.

Every vendor emulation reads and writes this object. Later subsystems
(analytics, email, ads, social) attach here too and draw their randomness from
``World.rng(name)``: each subsystem gets its own stream derived from the one
seed, so adding a subsystem never shifts the IDs or content of another.
"""

from __future__ import annotations

import random
import re
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from .clock import DEFAULT_START, SimClock
from .email_world import EmailWorld, normalize_email_incidents
from .faults import FaultSet
from .ratelimit import RollingWindow
from .seed_content import WP_SITE_DESCRIPTION, WP_SITE_NAME, seed_webflow, seed_wordpress
from .traffic import MISTAKES, TrafficModel, normalize_incidents
from .vendors.google.state import GOOGLE_DEFAULTS, GOOGLE_SWITCHES, GoogleState, check_google_setting
from .vendors.oauth.providers import PROVIDERS, endpoint_urls
from .vendors.oauth.server import OAuthServer
from .vendors.webflow.site import WebflowSite
from .vendors.wordpress.site import SEO_PLUGINS, WordPressSite

WEBFLOW_API_PREFIX = "/webflow/v2"
WEBFLOW_SITE_PREFIX = "/webflow-site"
MAILCHIMP_API_PREFIX = "/mailchimp/3.0"  # never the word "server": the Mailchimp SDK rewrites it in URLs
CUSTOMERIO_APP_PREFIX = "/customerio/app/v1"
CUSTOMERIO_TRACK_PREFIX = "/customerio/track/api"


@dataclass(frozen=True)
class DemoCredentials:
    """What a user would otherwise copy out of each vendor's settings screen."""

    wordpress_username: str
    wordpress_application_password: str  # as WordPress displays it: six groups of four
    webflow_token: str
    webflow_site_id: str
    webflow_collection_id: str
    mailchimp_api_key: str  # "<32 hex>-<data center>", as Mailchimp shows it
    customerio_app_key: str  # App API (Bearer)
    customerio_site_id: str  # Track API (Basic site_id:key)
    customerio_track_key: str


@dataclass(frozen=True)
class SitePage:
    """A page of the world's web presence, as analytics and page analysis will see it."""

    source: str  # "wordpress" | "webflow"
    path: str  # site-relative URL path served by the sandbox
    title: str
    seo_title: str | None
    meta_description: str | None
    # As the served HTML renders them (SEO plugin variables expanded, fallbacks applied).
    document_title: str = ""
    description: str | None = None
    published: datetime | None = None  # WordPress post date; Webflow item creation
    words: int = 0  # length of the body text
    section: str = ""  # WordPress: "page" or the first category's name; Webflow: the collection slug


class World:
    """Deterministic world state. Same seed, same initial state, byte for byte.

    Handlers mutate the world from the server thread; code touching it from
    another thread should hold ``world.lock`` (an ``RLock``) for compound work.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        start: datetime = DEFAULT_START,
        webflow_rate_limit: int = 60,
        companion_plugin: bool = True,
        seo_plugin: str = "yoast",
        google_oauth_testing: bool = False,
        incidents: Any = True,
        mailchimp_latency: float = 0.0,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.seed = seed
        self._config = {
            "start": start,
            "webflow_rate_limit": webflow_rate_limit,
            "companion_plugin": companion_plugin,
            "seo_plugin": seo_plugin,
            "google_oauth_testing": google_oauth_testing,
            "incidents": normalize_incidents(incidents),
            "email_incidents": normalize_email_incidents(incidents),
            "google": dict(GOOGLE_DEFAULTS),
            "mailchimp_latency": mailchimp_latency,
        }
        self.lock = threading.RLock()
        # Real elapsed time for vendor rate limits and OAuth expiries; tests inject ManualMonotonic.
        self.monotonic: Callable[[], float] = monotonic or time.monotonic
        self.faults = FaultSet(lambda: self.monotonic())
        self._builds = 0  # how many times the world was (re)built: keeps credentials issued later unique
        self._build()

    # -- construction ------------------------------------------------------

    def _build(self) -> None:
        cfg = self._config
        self._builds += 1
        self.clock = SimClock(cfg["start"])
        self.clock.on_advance(self._on_clock_advance)
        now = self.clock.now()

        self.webflow_rate_limit: int = cfg["webflow_rate_limit"]
        self.webflow_site_publish_interval: float = 60.0
        self._webflow_windows: dict[str, RollingWindow] = {}
        self._webflow_last_site_publish: dict[str, float] = {}

        secrets = self.rng("credentials")
        app_password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
        webflow_token = f"{secrets.getrandbits(256):064x}"
        mailchimp_key = f"{secrets.getrandbits(128):032x}-us1"
        cio_app, cio_site, cio_track = (f"{secrets.getrandbits(128):032x}" for _ in range(3))

        self.wordpress = WordPressSite(
            name=WP_SITE_NAME,
            description=WP_SITE_DESCRIPTION,
            companion_plugin=cfg["companion_plugin"],
            seo_plugin=cfg["seo_plugin"],
            secrets=self.rng("wordpress-secrets"),
        )
        seed_wordpress(self.wordpress, self.rng("wordpress"), now, app_password)
        # Passwords created from now on differ after every reset, like the OAuth tokens below.
        self.wordpress.secrets = self.rng(f"wordpress-secrets:{self._builds}")

        self._webflow_ids = self.rng("webflow-ids")
        self.webflow: WebflowSite = seed_webflow(self.rng("webflow"), now, self.new_webflow_id)
        self.webflow_tokens = {webflow_token: self.webflow.id}
        self.oauth = OAuthServer(
            self.rng,
            lambda: self.monotonic(),
            webflow_site_id=self.webflow.id,
            business_name=WP_SITE_NAME,
            google_testing=cfg["google_oauth_testing"],
            generation=self._builds,
        )

        # The measuring half: search and analytics data, and Google's quotas, sitemaps and limits.
        self.google = GoogleState(cfg["google"], lambda: self.monotonic(), now)
        self.traffic = TrafficModel(self, cfg["incidents"])
        self._mistakes_done: dict[str, str] = {}  # page incident -> the page it hit
        self.email = EmailWorld(self.rng, self.clock.now, cfg["email_incidents"])
        self.mailchimp_latency: float = cfg["mailchimp_latency"]

        collection = next(iter(self.webflow.collections.values()))
        self.credentials = DemoCredentials(
            wordpress_username="demo",
            wordpress_application_password=" ".join(app_password[i : i + 4] for i in range(0, 24, 4)),
            webflow_token=webflow_token,
            webflow_site_id=self.webflow.id,
            webflow_collection_id=collection.id,
            mailchimp_api_key=mailchimp_key,
            customerio_app_key=cio_app,
            customerio_site_id=cio_site[:20],
            customerio_track_key=cio_track,
        )

    def rng(self, stream: str) -> random.Random:
        """A random stream for one subsystem, derived from the world seed."""
        return random.Random(f"{self.seed}:{stream}")

    def new_webflow_id(self) -> str:
        return f"{self._webflow_ids.getrandbits(96):024x}"

    def configure(
        self,
        *,
        companion_plugin: bool | None = None,
        seo_plugin: str | None = None,
        webflow_rate_limit: int | None = None,
        google_oauth_testing: bool | None = None,
        incidents: Any = None,
        mailchimp_latency: float | None = None,
        **google: Any,
    ) -> None:
        """Change a setting now and for every later ``reset`` (attribute edits last until the next reset).

        ``mailchimp_latency``: seconds every Mailchimp API request takes (makes its 10-connection limit observable).
        ``incidents``: true/false or ``{name: bool | {field: value}}`` (see ``traffic.DEFAULT_INCIDENTS`` and
        ``email_world.DEFAULT_EMAIL_INCIDENTS``).
        Google limits by name (``vendors.google.state.GOOGLE_DEFAULTS``, e.g. ``ga4_tokens_per_hour=50``) and the
        transient ``ga4_hold`` switch (GA4 requests wait, holding their concurrency slot, until it is false).
        """
        unknown = set(google) - set(GOOGLE_DEFAULTS) - set(GOOGLE_SWITCHES)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        checked = {name: check_google_setting(name, value) for name, value in google.items()}
        with self.lock:
            if incidents is not None:
                settings = normalize_incidents(incidents, self._config["incidents"])
                self.traffic.check_incidents(settings)  # before anything changes: a bad scope changes nothing
                self._config["incidents"] = settings
                self.traffic.configure_incidents(settings)
                self._page_mistakes(self.now())
                self._config["email_incidents"] = normalize_email_incidents(incidents, self._config["email_incidents"])
                self.email.configure_incidents(self._config["email_incidents"])
            for name, value in checked.items():
                if name == "ga4_hold":
                    self.google.hold = value
                else:
                    self._config["google"][name] = value
            if seo_plugin is not None:
                if seo_plugin not in SEO_PLUGINS:
                    raise ValueError(f"seo_plugin must be one of {', '.join(SEO_PLUGINS)}")
                self._config["seo_plugin"] = self.wordpress.seo_plugin = seo_plugin
            if companion_plugin is not None:
                self._config["companion_plugin"] = self.wordpress.companion_plugin = bool(companion_plugin)
            if webflow_rate_limit is not None:
                if int(webflow_rate_limit) < 1:
                    raise ValueError("webflow_rate_limit must be at least 1")
                self._config["webflow_rate_limit"] = self.webflow_rate_limit = int(webflow_rate_limit)
            if mailchimp_latency is not None:
                if not 0 <= float(mailchimp_latency) <= 30:
                    raise ValueError("mailchimp_latency must be between 0 and 30 seconds")
                self._config["mailchimp_latency"] = self.mailchimp_latency = float(mailchimp_latency)
            if google_oauth_testing is not None:
                if not isinstance(google_oauth_testing, bool):
                    raise ValueError("google_oauth_testing must be true or false")
                self._config["google_oauth_testing"] = self.oauth.google_testing = google_oauth_testing

    def reset(self) -> None:
        """Back to the seed's initial state: content, clock, faults and rate-limit windows.

        Settings come back to what the constructor or ``configure`` set; the
        injected monotonic function is kept.
        """
        with self.lock:
            self.faults.clear()
            self._build()

    # -- time --------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        with self.lock:
            self.traffic.observe()  # CMS changes made until now count from tomorrow, however far the clock jumps
            return self.clock.advance(days=days, hours=hours, minutes=minutes)

    def _on_clock_advance(self, now: datetime) -> None:
        self.wordpress.publish_due(now)
        self._page_mistakes(now)
        self.traffic.observe()
        self.email.tick(now)

    def _page_mistakes(self, now: datetime) -> None:
        """The ``page_unpublished``, ``page_noindexed`` and ``page_redirected`` incidents, once their day has
        come: the WordPress post is set back to draft, marked noindex (search engines drop it the next day,
        and take it back the day after the mark is removed), or redirected (``traffic.redirects``)."""
        today = now.date()
        wp = self.wordpress
        for name in MISTAKES:
            first = self.traffic.mistake_due(name, today)
            path = self.traffic.mistake_page(name)
            if first is None:
                continue
            if name not in self._mistakes_done:
                self._mistakes_done[name] = path
                post = wp.find_published(path)
                if post is None:
                    continue
                if name == "page_unpublished":
                    post.status, post.modified = "draft", now
                    self.traffic.remove(path, first)
                else:
                    wp.set_noindex(post, True)
                    self.traffic.deindex(path, first + timedelta(days=1))
            elif name == "page_noindexed":  # the mark removed since: back in the index after a recrawl
                hit = self._mistakes_done[name]
                post, window = wp.find_published(hit), self.traffic.deindexed.get(hit)
                if post is not None and window is not None and window[1] is None and not wp.noindexed(post):
                    self.traffic.deindex(hit, window[0], today + timedelta(days=2))
        first = self.traffic.mistake_due("page_redirected", today)
        if first is not None and "page_redirected" not in self._mistakes_done:
            path = self._mistakes_done["page_redirected"] = self.traffic.redirected_page()
            if wp.find_published(path) is not None:
                self.traffic.redirect(path, self.traffic.incident_settings["page_redirected"]["target"], first)

    # -- Webflow quotas (real elapsed time, not the business clock) ---------

    def webflow_token_site(self, token: str) -> str | None:
        """The site a Webflow bearer token reaches: the demo site token, or a live OAuth grant's site."""
        site_id = self.webflow_tokens.get(token)
        if site_id is None:
            grant = self.oauth.check("webflow", token)
            if grant is not None and grant.user.sites:
                site_id = grant.user.sites[0]
        return site_id

    def webflow_acquire(self, token: str) -> tuple[bool, int, int]:
        """Spend one request of ``token``'s per-minute quota: (allowed, remaining, retry_after)."""
        window = self._webflow_windows.get(token)
        if window is None or window.limit != self.webflow_rate_limit:
            window = self._webflow_windows[token] = RollingWindow(self.webflow_rate_limit, 60.0)
        return window.try_acquire(self.monotonic())

    def webflow_site_publish_wait(self, site_id: str) -> int:
        """Seconds until ``site_id`` may publish again (0 = now)."""
        last = self._webflow_last_site_publish.get(site_id)
        if last is None:
            return 0
        remaining = last + self.webflow_site_publish_interval - self.monotonic()
        return 0 if remaining <= 0 else max(1, int(remaining + 0.999))

    def webflow_record_site_publish(self, site_id: str) -> None:
        self._webflow_last_site_publish[site_id] = self.monotonic()

    # -- views -------------------------------------------------------------

    def provision(self, base_url: str) -> dict[str, Any]:
        """The demo credentials and endpoints, as ``POST /_sandbox/provision`` returns them."""
        base = base_url.rstrip("/")
        c = self.credentials
        return {
            "wordpress": {
                "site_url": base,
                "username": c.wordpress_username,
                "application_password": c.wordpress_application_password,
            },
            "webflow": {
                "api_base": base + WEBFLOW_API_PREFIX,
                "site_id": c.webflow_site_id,
                "collection_id": c.webflow_collection_id,
                "token": c.webflow_token,
                "live_site_url": base + WEBFLOW_SITE_PREFIX,
            },
            "mailchimp": {"api_base": base + MAILCHIMP_API_PREFIX, "api_key": c.mailchimp_api_key},
            "customerio": {
                "app_api_base": base + CUSTOMERIO_APP_PREFIX,
                "track_api_base": base + CUSTOMERIO_TRACK_PREFIX,
                "app_api_key": c.customerio_app_key,
                "site_id": c.customerio_site_id,
                "track_api_key": c.customerio_track_key,
            },
            "oauth": {
                name: {"client_id": app.client_id, "client_secret": app.client_secret, **endpoint_urls(base, name)}
                for name, app in ((p, self.oauth.apps[p]) for p in PROVIDERS)
            },
        }

    def state(self) -> dict[str, Any]:
        with self.lock:
            wp = self.wordpress
            by_status: dict[str, dict[str, int]] = {"posts": {}, "pages": {}}
            for post in wp.posts.values():
                counts = by_status[f"{post.type}s"]
                counts[post.status] = counts.get(post.status, 0) + 1
            collections = {}
            for col in self.webflow.collections.values():
                staged = col.staged_items()
                collections[col.slug] = {
                    "items": len(staged),
                    "live": len(col.live_items()),
                    "drafts": sum(1 for i in staged if i.is_draft),
                }
            return {
                "seed": self.seed,
                "clock": self.clock.now().isoformat().replace("+00:00", "Z"),
                "wordpress": {
                    "posts": sum(by_status["posts"].values()),
                    "pages": sum(by_status["pages"].values()),
                    "by_status": by_status,
                    "media": len(wp.media),
                    "categories": len(wp.terms_of("category")),
                    "tags": len(wp.terms_of("post_tag")),
                    "companion_plugin": wp.companion_plugin,
                    "seo_plugin": wp.seo_plugin,
                },
                "webflow": {
                    "site_id": self.webflow.id,
                    "collections": collections,
                    "rate_limit_per_minute": self.webflow_rate_limit,
                },
                "faults": len(self.faults.rules()),
                "incidents": self.traffic.incidents(),
                "google": {**self._config["google"], "ga4_hold": self.google.hold},
            }

    def pages(self) -> list[SitePage]:
        """Every page currently live on the world's sites, with its SEO fields."""
        with self.lock:
            out: list[SitePage] = []
            wp = self.wordpress
            keys = wp.rendering_seo_keys() or {}
            for post in sorted(wp.posts.values(), key=lambda p: p.id):
                if post.status != "publish":
                    continue
                if post.type == "page":
                    section = "page"
                else:
                    section = next((wp.terms[t].name for t in post.categories if t in wp.terms), "")
                out.append(
                    SitePage(
                        "wordpress",
                        wp.path_of(post),
                        post.title,
                        post.meta.get(keys.get("seo_title", "")) or None,
                        post.meta.get(keys.get("meta_description", "")) or None,
                        document_title=wp.document_title(post),
                        description=wp.meta_description(post),
                        published=post.date,
                        words=_words(post.content),
                        section=section,
                    )
                )
            for col in self.webflow.collections.values():
                for item in col.live_items():
                    data = item.live_data
                    out.append(
                        SitePage(
                            "webflow",
                            f"{WEBFLOW_SITE_PREFIX}/{col.slug}/{data.get('slug')}",
                            data.get("name", ""),
                            data.get("seo-title") or None,
                            data.get("meta-description") or None,
                            document_title=data.get("seo-title") or data.get("name", ""),
                            description=data.get("meta-description") or None,
                            published=item.created_on,
                            words=_words(data.get("post-body") or ""),
                            section=col.slug,
                        )
                    )
            return out


def _words(html: str) -> int:
    return len(re.sub(r"<[^>]+>", " ", html or "").split())
