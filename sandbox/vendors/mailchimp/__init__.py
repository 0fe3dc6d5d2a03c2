"""Mailchimp: the Marketing API 3.0 (``api``) and its problem+json errors (``errors``). The audiences and
campaigns live in the world's email model."""
