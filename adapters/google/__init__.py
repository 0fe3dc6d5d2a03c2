"""Google: GA4 (Data and Admin APIs) and Search Console."""
