"""Edge functions (Lambda@Edge, CloudFront Functions): would CloudFront accept what they return?

    rules.py     the documented limits and lists, with sources (data only)
    validate.py  validate_result(): a returned object -> findings (pure); request/response/headers
                 hold the per-object rules
    runner.py    run a Python Lambda@Edge handler in a child process under the event's time limit
    samples.py   realistic sample events;  report.py  verdict, JSON document, terminal view
"""
