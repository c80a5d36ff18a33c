"""podbrief's notify service: the REST API, and the builder and deliverer of briefs."""
