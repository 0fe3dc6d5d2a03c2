"""What GA4 and Search Console share: Google's quotas, sitemaps and limits (``state``), its error
bodies (``errors``) and their router and JSON answers (``routing``)."""
