"""Initial content of the world: a fictional coffee roaster's WordPress site and its Webflow blog.

The catalogue below is fixed text; the seed decides which posts exist, their
order, dates, terms, which ones already carry SEO fields, and every generated
ID, so the same seed always produces the same site.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .vendors.webflow.site import Collection, Domain, Field, Item, WebflowSite
from .vendors.wordpress.site import SEO_META_KEYS, WordPressSite

WP_SITE_NAME = "Northwind Coffee Roasters"
WP_SITE_DESCRIPTION = "Small-batch coffee, roasted every Tuesday in Portland"
# The seeded application password's name; clients that authorize themselves pick their own, unique names.
SEEDED_APP_PASSWORD_NAME = "Sandbox demo"

CATEGORIES = [
    ("Brewing Guides", "Step-by-step guides for brewing better coffee at home."),
    ("Origins", "Where our beans come from and the people who grow them."),
    ("Company News", "What is new at the roastery."),
    ("Wholesale", "For cafes, offices and restaurants."),
]
TAGS = ["pour-over", "espresso", "cold brew", "single origin", "sustainability", "equipment", "decaf", "subscriptions"]

# (title, category, tags, paragraphs, seo title, meta description)
POSTS = [
    (
        "How to Brew Pour-Over Coffee at Home",
        "Brewing Guides",
        ["pour-over", "equipment"],
        [
            "A good pour-over needs three things: fresh beans, a steady hand and about four minutes. This guide walks "
            "through each step with the ratios we use at the roastery.",
            "Start with 15 grams of coffee to 250 grams of water at 94 degrees. Bloom with twice the coffee's weight "
            "in water, wait 40 seconds, then pour in slow circles.",
            "If the cup tastes sour, grind finer; if it tastes bitter or dry, grind coarser. Change one variable at a "
            "time and write it down.",
        ],
        "Pour-Over Coffee Guide: Ratios, Grind and Timing",
        "Brew cafe-quality pour-over at home with our roasters' ratio, grind size and four-minute timing.",
    ),
    (
        "The Beginner's Guide to Espresso Dialing-In",
        "Brewing Guides",
        ["espresso", "equipment"],
        [
            "Dialing in espresso is a loop: pull a shot, taste it, adjust one thing. Most home baristas change too "
            "much at once.",
            "We start at 18 grams in, 36 grams out, in 27 to 30 seconds. Fast and sour means grind finer; slow and "
            "harsh means grind coarser.",
            "Keep a notebook by the machine. After a week you will know your grinder better than any chart can tell "
            "you.",
        ],
        "",
        "",
    ),
    (
        "Cold Brew Concentrate: A Simple Overnight Recipe",
        "Brewing Guides",
        ["cold brew"],
        [
            "Cold brew is forgiving, cheap and perfect for hot afternoons. All you need is a jar, a coarse grind and "
            "patience.",
            "Use one part coffee to five parts cold water, stir, and leave it in the fridge for 16 hours. Strain "
            "twice through a paper filter.",
            "Dilute the concentrate one to one with water or milk. It keeps for a week, sealed and cold.",
        ],
        "Cold Brew Concentrate Recipe (1:5 Ratio, 16 Hours)",
        "",
    ),
    (
        "Meet the Farmers Behind Our Huila Single Origin",
        "Origins",
        ["single origin", "sustainability"],
        [
            "Our Huila lot comes from eleven families farming above 1,700 metres in southern Colombia. We have bought "
            "from the same cooperative for six years.",
            "This harvest brought notes of red apple, panela and a long cocoa finish. The cooperative used the "
            "quality premium to build a shared drying station.",
            "Every bag carries the lot number, so you can trace your coffee back to the hillside it grew on.",
        ],
        "",
        "Meet the eleven Huila families who grow our Colombian single origin, and taste this year's harvest.",
    ),
    (
        "Why We Pay Above Fair Trade Prices",
        "Origins",
        ["sustainability"],
        [
            "Fair Trade sets a floor, not a target. For specialty lots, that floor rarely covers the cost of growing "
            "great coffee.",
            "Last year we paid an average of 2.1 times the Fair Trade minimum, and we publish every contract price on "
            "our transparency page.",
            "Paying more is not charity. It is how we keep buying the coffees we love, year after year.",
        ],
        "",
        "",
    ),
    (
        "Ethiopia Guji: Tasting Notes from the Cupping Table",
        "Origins",
        ["single origin"],
        [
            "Guji coffees are the reason many of us fell for specialty coffee. This washed lot is bright, floral and "
            "tea-like.",
            "On the cupping table we found jasmine, bergamot and ripe peach, with a clean lemon finish as it cools.",
            "It shines as a pour-over. As espresso it is lively; try it with a longer ratio.",
        ],
        "Ethiopia Guji Tasting Notes: Jasmine, Bergamot, Peach",
        "Our cuppers' notes on this year's washed Ethiopia Guji, with brewing tips for filter and espresso.",
    ),
    (
        "We're Opening a Second Roastery in Tacoma",
        "Company News",
        [],
        [
            "After eight years in the same Portland warehouse, we are growing. Our second roastery opens in Tacoma "
            "this spring.",
            "The new space adds a training lab for wholesale partners and a tasting bar open on weekends.",
            "Nothing changes for subscribers: your coffee is still roasted on Tuesday and shipped on Wednesday.",
        ],
        "",
        "",
    ),
    (
        "Introducing Our Coffee Subscription",
        "Company News",
        ["subscriptions"],
        [
            "Fresh coffee, on your schedule. Our subscription ships every one, two or four weeks, and you can pause "
            "or skip at any time.",
            "Choose a single coffee you love or let our roasters pick a rotating selection. Every bag ships within 24 "
            "hours of roasting.",
            "Subscribers get ten percent off every order and early access to limited lots.",
        ],
        "Coffee Subscription: Roasted Tuesday, Shipped Wednesday",
        "Freshly roasted coffee delivered every 1, 2 or 4 weeks. Pause, skip or cancel any time; subscribers save 10%.",
    ),
    (
        "A Decaf Worth Drinking: Our Swiss Water Colombian",
        "Origins",
        ["decaf", "single origin"],
        [
            "Decaf has a bad reputation, mostly earned by stale beans. Our Swiss Water decaf changes minds at every "
            "tasting.",
            "The water process removes 99.9 percent of caffeine without chemical solvents, keeping the caramel "
            "sweetness of the original lot.",
            "Brew it exactly like regular coffee; it is just as sensitive to grind and freshness.",
        ],
        "",
        "",
    ),
    (
        "How to Choose a Burr Grinder",
        "Brewing Guides",
        ["equipment"],
        [
            "If you upgrade one thing in your kitchen, make it the grinder. Even grinds matter more than an expensive "
            "brewer.",
            "Flat burrs give clarity, conical burrs give body; both beat blade grinders. Look for stepless adjustment "
            "if you brew espresso.",
            "Budget at least as much for the grinder as for the brewer. Your cups will thank you.",
        ],
        "",
        "",
    ),
    (
        "Coffee for the Office: Our Wholesale Program",
        "Wholesale",
        [],
        [
            "Good coffee at work is a small perk that people notice. Our office program delivers fresh coffee and "
            "keeps your machines running.",
            "We supply beans, brewers and barista training, and our technicians visit quarterly for maintenance.",
            "Plans start at five kilograms a month. Ask for a free tasting at your office.",
        ],
        "Office Coffee Service in Portland and Tacoma",
        "Fresh wholesale coffee, equipment and training for offices in Portland and Tacoma. Book a free tasting.",
    ),
    (
        "Training Baristas for Cafe Partners",
        "Wholesale",
        ["espresso"],
        [
            "Great beans can be ruined in ten seconds behind the bar. That is why every cafe partner gets free "
            "barista training.",
            "Our two-day course covers extraction, milk texture and workflow, and ends with a tasting of your own "
            "menu.",
            "Refresher sessions are open to partner staff every month at the Portland lab.",
        ],
        "",
        "",
    ),
    (
        "Storing Coffee Beans: Do's and Don'ts",
        "Brewing Guides",
        [],
        [
            "Coffee is at its best between four days and four weeks after roasting. Storage decides how much of that "
            "window you enjoy.",
            "Keep beans in an opaque, airtight container at room temperature. Avoid the fridge: condensation is "
            "flavour's worst enemy.",
            "Freeze only sealed, unopened bags, and thaw them fully before opening.",
        ],
        "",
        "",
    ),
    (
        "Our 2026 Sustainability Report",
        "Company News",
        ["sustainability"],
        [
            "This year we cut roasting emissions by 18 percent by installing an afterburner heat-recovery system.",
            "All retail bags are now home-compostable, and our delivery vans in Portland are electric.",
            "The full report, including supplier prices and our targets for 2027, is available to download.",
        ],
        "",
        "Emissions down 18%, compostable bags and electric vans: read Northwind's 2026 sustainability report.",
    ),
    (
        "Latte Art Basics: Pouring Your First Heart",
        "Brewing Guides",
        ["espresso"],
        [
            "Latte art is mostly about milk texture. Aim for silky microfoam with no visible bubbles, like wet paint.",
            "Pour from high to mix, then drop the pitcher close to the surface and push forward to draw the heart.",
            "Practice with water and a drop of dish soap to save milk while you learn the motion.",
        ],
        "",
        "",
    ),
    (
        "Guatemala Huehuetenango Returns for the Holidays",
        "Origins",
        ["single origin"],
        [
            "One of our most requested coffees is back. This year's Huehuetenango lot is rich with dark chocolate, "
            "orange and brown sugar.",
            "It makes a comforting filter coffee and a sweet, syrupy espresso.",
            "Available in limited quantities through the end of December.",
        ],
        "",
        "",
    ),
]

PAGES = [
    (
        "About Us",
        "about-us",
        [
            "Northwind Coffee Roasters started in 2018 with a secondhand roaster and a promise: buy great coffee, pay "
            "farmers fairly, roast it fresh.",
            "Today a team of fourteen roasts, packs and ships every order from our Portland warehouse.",
        ],
        "About Northwind Coffee Roasters",
        "Meet the Portland team roasting small-batch specialty coffee since 2018.",
    ),
    (
        "Contact",
        "contact",
        [
            "Questions about an order, wholesale or visiting the roastery? Email hello@northwind.example or call "
            "(503) 555-0142.",
            "The roastery is open for tastings on Saturdays from 10am to 2pm.",
        ],
        "",
        "",
    ),
    (
        "Wholesale",
        "wholesale",
        [
            "We partner with cafes, restaurants and offices across the Pacific Northwest.",
            "Partners get fresh coffee weekly, equipment support and free barista training.",
        ],
        "Wholesale Coffee for Cafes and Offices",
        "",
    ),
    (
        "Shipping & Returns",
        "shipping-returns",
        [
            "Orders ship within one business day of roasting. Shipping is free on orders over $40.",
            "If you are not happy with a coffee, tell us within 30 days and we will replace it or refund you.",
        ],
        "",
        "",
    ),
]

WEBFLOW_ITEMS = [
    (
        "5 Ways Small Roasters Win on Local Search",
        "small-roasters-local-search",
        "<p>Local search is where independent roasters beat the big chains. Keep your business profile complete, "
        "collect reviews after every tasting and publish pages for each neighbourhood you deliver "
        "to.</p><p>Consistency matters more than volume: the same name, address and phone everywhere.</p>",
        "How independent roasters can outrank chains in local search.",
        "Local SEO for Coffee Roasters: 5 Practical Wins",
        "Five local search tactics that help independent coffee roasters outrank national chains.",
    ),
    (
        "Writing Product Pages That Sell Coffee",
        "product-pages-that-sell-coffee",
        "<p>Tasting notes alone do not sell coffee. Tell buyers how the coffee fits their morning: brew method, roast "
        "date, and who it is for.</p><p>Show the farm, the price paid, and a clear subscribe option.</p>",
        "Turn tasting notes into product pages that convert.",
        "",
        "",
    ),
    (
        "Email Subject Lines That Get Coffee Lovers to Open",
        "email-subject-lines-coffee",
        "<p>Short, specific and sensory: the subject lines that win our tests mention a coffee and a moment, like "
        "'Your Sunday pour-over is here'.</p>",
        "What our subject-line tests taught us.",
        "Coffee Email Subject Lines: What We Learned from 40 Tests",
        "",
    ),
    (
        "Seasonal Launches Without the Stress",
        "seasonal-launches",
        "<p>Plan seasonal coffees six weeks out: samples, photos, copy and a teaser email. Launch on a Tuesday, right "
        "after roasting.</p>",
        "A six-week plan for launching seasonal coffees.",
        "",
        "A simple six-week launch plan for seasonal and limited-edition coffees.",
    ),
    (
        "Measuring What Matters in a Coffee Subscription",
        "measuring-coffee-subscriptions",
        "<p>Churn, skip rate and time to second order say more about a subscription than sign-ups do. Track them "
        "weekly.</p>",
        "The three numbers that predict subscription health.",
        "Coffee Subscription Metrics: Churn, Skips and Second Orders",
        "",
    ),
    (
        "Photographing Coffee for the Web",
        "photographing-coffee",
        "<p>Natural side light, a dark background and a little steam. Shoot whole beans, the brew and the cup in one "
        "session.</p>",
        "A minimal kit for bright, consistent coffee photos.",
        "",
        "",
    ),
    (
        "From Cupping Notes to Ad Copy",
        "cupping-notes-to-ad-copy",
        "<p>Cuppers write 'stone fruit, bright acidity'. Customers respond to 'tastes like a ripe peach'. Translate, "
        "then test.</p>",
        "Turning cupping vocabulary into words customers use.",
        "",
        "",
    ),
    (
        "Building a Wholesale Landing Page",
        "wholesale-landing-page",
        "<p>Wholesale buyers want three answers fast: price per kilo, delivery days and training. Put them above the "
        "fold.</p>",
        "What cafe owners look for on a wholesale page.",
        "",
        "",
    ),
]


def seed_wordpress(site: WordPressSite, rng: random.Random, now: datetime, admin_password: str) -> None:
    from .vendors.wordpress.site import User  # local import keeps this module's public surface small

    site.users[1] = User(
        id=1, username="demo", name="Demo Editor", email="demo@northwind.example", registered=now - timedelta(days=400)
    )
    site.create_application_password(
        site.users[1], SEEDED_APP_PASSWORD_NAME, now - timedelta(days=30), password=admin_password
    )
    site.add_term("category", "Uncategorized")
    for name, description in CATEGORIES:
        site.add_term("category", name, description=description)
    for tag in TAGS:
        site.add_term("post_tag", tag)
    by_name = {t.name: t.id for t in site.terms.values()}
    seo_keys = SEO_META_KEYS[site.seo_plugin]

    for index, (title, slug, paragraphs, seo_title, meta_desc) in enumerate(PAGES):
        page = site.new_post("page", now)
        when = now - timedelta(days=380 - index, hours=rng.randint(0, 8))
        meta = _seo_meta(seo_keys, seo_title, meta_desc)
        site.save_post(
            page,
            {
                "title": title,
                "content": "\n\n".join(paragraphs),
                "excerpt": "",
                "slug": slug,
                "status": "publish",
                "date": when,
                "menu_order": index,
                "meta": meta,
            },
            when,
            creating=True,
        )

    chosen = rng.sample(range(len(POSTS)), 12)
    ages = sorted(rng.sample(range(2, 150), 10), reverse=True)
    for position, template_index in enumerate(chosen):
        title, category, tags, paragraphs, seo_title, meta_desc = POSTS[template_index]
        if position < 10:
            status, when = (
                "publish",
                now - timedelta(days=ages[position], hours=rng.randint(0, 10), minutes=rng.choice([0, 15, 30, 45])),
            )
        elif position == 10:
            status, when = "draft", now - timedelta(days=1, hours=rng.randint(1, 6))
        else:
            status, when = "future", now + timedelta(days=rng.randint(2, 4))
        post = site.new_post("post", now)
        changes = {
            "title": title,
            "content": "\n\n".join(paragraphs),
            "excerpt": paragraphs[0] if rng.random() < 0.5 else "",
            "status": status,
            "categories": [by_name[category]],
            "tags": [by_name[t] for t in tags],
            "meta": _seo_meta(seo_keys, seo_title, meta_desc),
        }
        if status != "draft":
            changes["date"] = when
        site.save_post(post, changes, now if status == "future" else when, creating=True)


def seed_webflow(rng: random.Random, now: datetime, new_id) -> WebflowSite:
    created = now - timedelta(days=300)
    site = WebflowSite(
        id=new_id(),
        workspace_id=new_id(),
        display_name="Northwind Blog",
        short_name="northwind-blog",
        time_zone="America/Los_Angeles",
        created_on=created,
        last_updated=now - timedelta(days=3),
        locale_id=new_id(),
        cms_locale_id=new_id(),
        custom_domains=[Domain(id=new_id(), url="blog.northwind.example")],
    )
    collection = Collection(
        id=new_id(),
        display_name="Blog Posts",
        singular_name="Blog Post",
        slug="blog-posts",
        created_on=created,
        last_updated=now - timedelta(days=3),
    )
    collection.fields = [
        Field(new_id(), "name", "Name", "PlainText", True, None, {"singleLine": True, "maxLength": 256}),
        Field(new_id(), "slug", "Slug", "PlainText", True, None, {"singleLine": True, "maxLength": 256}),
        Field(new_id(), "post-body", "Post Body", "RichText"),
        Field(new_id(), "post-summary", "Post Summary", "PlainText", False, "Shown on the blog index."),
        Field(new_id(), "seo-title", "SEO Title", "PlainText", False, "Used for the page <title>."),
        Field(new_id(), "meta-description", "Meta Description", "PlainText", False, "Used for the meta description."),
        Field(new_id(), "main-image", "Main Image", "Image"),
    ]
    site.collections[collection.id] = collection

    order = rng.sample(range(len(WEBFLOW_ITEMS)), len(WEBFLOW_ITEMS))
    ages = sorted(rng.sample(range(5, 120), len(order)), reverse=True)
    for position, index in enumerate(order):
        name, slug, body, summary, seo_title, meta_desc = WEBFLOW_ITEMS[index]
        created_on = now - timedelta(days=ages[position], hours=rng.randint(0, 9))
        image_id = new_id()
        data = {
            "name": name,
            "slug": slug,
            "post-body": body,
            "post-summary": summary,
            "main-image": {
                "fileId": image_id,
                "url": f"https://cdn.prod.website-files.com/{site.id}/{image_id}_{slug}.jpg",
                "alt": None,
            },
        }
        if seo_title:
            data["seo-title"] = seo_title
        if meta_desc:
            data["meta-description"] = meta_desc
        item = Item(
            id=new_id(),
            cms_locale_id=site.cms_locale_id,
            created_on=created_on,
            last_updated=created_on,
            field_data=data,
            is_draft=False,
        )
        collection.items[item.id] = item
        # Five published, one queued for the next site publish, two drafts.
        if position < 5:
            published_at = created_on + timedelta(hours=2)
            site.publish_item(item, published_at)
            item.last_updated = published_at
        elif position == 5:
            item.is_draft = False
        else:
            item.is_draft = True
    site.last_published = max(i.last_published for i in collection.items.values() if i.last_published)
    site.custom_domains[0].last_published = site.last_published
    return site


def _seo_meta(keys: dict[str, str], seo_title: str, meta_desc: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    if seo_title:
        meta[keys["seo_title"]] = seo_title
    if meta_desc:
        meta[keys["meta_description"]] = meta_desc
    return meta
