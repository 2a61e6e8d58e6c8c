"""Off the request path: the aggregates consumer, the purge, the audit."""
