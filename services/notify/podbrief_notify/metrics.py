"""Prometheus metrics of the notify service: /metrics on PODBRIEF_HEALTH_PORT (and the API's with PODBRIEF_METRICS_PUBLIC)."""

from prometheus_client import Counter, Histogram

BRIEFS = Counter("podbrief_briefs_total", "Briefs built, by trigger (scheduled or requested).", ["trigger"])
DELIVERY_ATTEMPTS = Counter("podbrief_webhook_attempts_total", "Webhook delivery attempts, by outcome.", ["outcome"])
DELIVERY_SECONDS = Histogram(
    "podbrief_webhook_seconds", "Duration of one webhook request.", buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 15)
)
INSIGHTS = Counter("podbrief_insights_stored_total", "Insights stored from insights.created.")
EMAILS = Counter("podbrief_emails_total", "Brief emails, by outcome (sent or failed).", ["outcome"])
CONFIRMATION_EMAILS = Counter("podbrief_confirmation_emails_total", "Address confirmation emails, by outcome.", ["outcome"])
