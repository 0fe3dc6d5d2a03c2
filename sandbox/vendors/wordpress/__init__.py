"""WordPress: the REST API (``api`` reads, authenticates and routes; ``posts``, ``terms``, ``media`` and
``users`` handle), the CMS state it serves (``site``), request parameter parsing (``params``), response
shapes (``shapes``), WordPress's text filters (``text``) and the application-password authorization
screen (``authorize``)."""
