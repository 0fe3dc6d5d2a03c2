"""What GA4 and Search Console share: Google's quotas, sitemaps and limits (``state``) and its error
bodies (``errors``)."""
