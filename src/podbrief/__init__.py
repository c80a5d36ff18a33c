"""podbrief's command line and local runner (the services live in services/)."""
