"""Import a CloudFront distribution and check every origin under every name exactly as configured:
parse -> model, Host forwarding per behaviour, engine targets, configuration findings, report.
"""
