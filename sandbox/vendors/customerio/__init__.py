"""Customer.io over the world's email model: the App API and the Track API (``api`` authenticates and
routes), people and segments (``people``), newsletters (``newsletters``), their metrics (``metrics``),
the Track API's handlers (``track``) and what they share (``common``)."""
