"""Every provider's OAuth authorization server: grants and tokens (``server``), the providers' endpoints
(``providers``), the HTTP endpoints (``http``), each vendor's wording of tokens, errors and who-am-I
(``vendors``), and the consent screen (``consent_pages``) with its scripted browser (``consent``)."""
