"""Google Analytics 4: the Data API v1beta (``api``) over the world's traffic model."""
