"""Vendor code behind the servers: HTTP plumbing, rate limits and one adapter per vendor."""
