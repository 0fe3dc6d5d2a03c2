"""Webflow: the Data API v2 (``api``) and the site, collections and items it serves (``site``)."""
