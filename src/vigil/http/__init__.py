"""HTTP plumbing shared by the JSON API and the web pages: who is calling (authentication,
roles, CSRF), how errors become answers, the middleware every request passes through and the
server's background jobs. The API and the pages each import this, never each other."""
