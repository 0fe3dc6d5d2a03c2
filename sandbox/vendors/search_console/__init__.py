"""Google Search Console: the Webmasters v3 and URL Inspection APIs (``api``) over the world's traffic model."""
