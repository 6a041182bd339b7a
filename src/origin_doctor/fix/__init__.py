"""Write the chain an origin should serve: find the intermediates (sent chain, files, a scan
report, AIA), build and verify the path leaf -> trusted root, and write it for nginx, ACM or HAProxy.
"""
