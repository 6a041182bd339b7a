"""CloudFront log analysis: parse standard, v2 and real-time logs, summarise the 5xx, correlate with
the origin's access log. Pure functions over streams; the CLI (`origin-doctor logs`) is a thin layer."""
