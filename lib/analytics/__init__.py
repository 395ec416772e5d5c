"""Analytics queries over the rollups (never the raw request rows), honouring the filters."""
