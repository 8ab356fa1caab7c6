"""The application layer: the use cases (open a case, authorise, draft an assessment, the
notification feed, the audit trail, the top areas of the forecast) over the domain.

The API routers, the web pages and the command line are thin shells over this package and never
call one another, so a rule or a response shape is written once here and every shell gets it.
Nothing here knows about HTTP.
"""
