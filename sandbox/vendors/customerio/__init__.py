"""Customer.io: the App API and the Track API (``api``) over the world's email model."""
